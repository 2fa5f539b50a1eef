/**
 * The data plane: what every protocol does with validated rows, whatever shape they came in (KServe keeps the same
 * split: one DataPlane behind its v1/v2 REST and gRPC endpoints). Predicts with the model being served, explains,
 * and keeps the monitoring (prediction metrics, drift window) fed the same way for every route.
 */
import { FEATURE_NAMES } from '../../features/feature-schema.js';
import type { LinearExplainer } from '../../contract/model-card.js';
import type { DriftHolder } from '../drift.js';
import { linearContributions, occlusionContributions, occlusionRows, type Explanation } from '../model/contributions.js';
import { toInputTensor, type BatchPrediction, type LoadedModel, type ModelService } from '../model/service.js';
import type { ApiMetrics } from '../plugins/metrics.js';
import type { RefusalMonitor } from './refusal-monitor.js';
import type { Refusals } from './refusals.js';

export class DataPlane {
  constructor(
    private readonly models: ModelService,
    private readonly metrics: ApiMetrics,
    private readonly drift: DriftHolder,
    readonly refusalMonitor: RefusalMonitor,
  ) {}

  /** Predict validated rows (schema order, NaN = missing) with the current model; counted in metrics and drift. */
  async predict(rows: number[][], model: LoadedModel | null = this.models.current): Promise<BatchPrediction> {
    const run = await this.models.predict(rows, model);
    this.metrics.recordPredictions(run.labels, run.probabilities);
    this.drift.observe(rows);
    this.refusalMonitor.accepted(rows.length);
    return run;
  }

  /** Rows refused by input validation, whatever the protocol: counted by field and rule, and in the recent window. */
  refused(refusals: Refusals): void {
    if (refusals.refusedRows === 0) return;
    this.metrics.recordRefusals(refusals.refusedRows, refusals.counts());
    this.refusalMonitor.refused(refusals.refusedRowKeys);
  }

  /** Explanations of `rows`, against the model that predicted them (`probabilities` from that run). */
  async explain(model: LoadedModel, rows: number[][], probabilities: readonly number[]): Promise<Explanation[]> {
    const explainer = model.card.explainer;
    if (explainer?.kind === 'linear') return rows.map((row) => linearContributions(explainer as LinearExplainer, row));
    // Occlusion: one batch of (1 + 13) rows per patient, so a batch explanation is still a single model run.
    const occluded = rows.flatMap(occlusionRows);
    const run = await this.models.predictTensor(toInputTensor(occluded), occluded.length, model);
    const per = FEATURE_NAMES.length + 1;
    return rows.map((row, i) => {
      const probs = run.probabilities.slice(i * per, (i + 1) * per);
      probs[0] = probabilities[i]!;
      return occlusionContributions(row, probs);
    });
  }
}
