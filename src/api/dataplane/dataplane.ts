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
import type { PredictionLog } from '../../outcomes/log.js';
import { imputedFeatures, mostlyMissing, newPredictionId, scoredFeatures } from '../../outcomes/prediction-records.js';
import type { PredictionRoute } from '../../outcomes/store.js';
import type { RefusalMonitor } from './refusal-monitor.js';
import type { Refusals } from './refusals.js';

/** Where a request's rows came from, for the prediction log. */
export interface PredictionOrigin {
  route: PredictionRoute;
  /** Row i as the client sent it (a patient object, a tensor row). */
  received: (i: number) => unknown;
  /** A single row's body as the client sent it (JSON text), when the protocol kept it. */
  receivedJson?: string | null;
}

export interface DataPlanePrediction extends BatchPrediction {
  /** Per row, the id it is logged under; null when the prediction log is off. */
  predictionIds: string[] | null;
  /** Per row, the names of the features that were missing (imputed by the model). */
  imputed: string[][];
  /** Per row, whether so much was missing that the estimate rests mostly on imputed values (contract threshold). */
  mostlyMissing: boolean[];
}

export class DataPlane {
  constructor(
    private readonly models: ModelService,
    private readonly metrics: ApiMetrics,
    private readonly drift: DriftHolder,
    readonly refusalMonitor: RefusalMonitor,
    /** null: the prediction log is off. */
    readonly predictionLog: PredictionLog | null = null,
  ) {}

  /**
   * Predict validated rows (schema order, NaN = missing) with the current model; counted in metrics and drift, and
   * queued for the prediction log (never waited for: the log writes in batches, off the request path).
   */
  async predict(
    rows: number[][],
    model: LoadedModel | null = this.models.current,
    origin: PredictionOrigin = { route: 'predict', received: (i) => scoredFeatures(rows[i]!) },
  ): Promise<DataPlanePrediction> {
    const run = await this.models.predict(rows, model);
    this.metrics.recordPredictions(run.labels, run.probabilities);
    this.drift.observe(rows);
    this.refusalMonitor.accepted(rows.length);
    const imputed = rows.map(imputedFeatures);
    let predictionIds: string[] | null = null;
    if (this.predictionLog) {
      const createdMs = Date.now();
      const receivedJson = rows.length === 1 ? (origin.receivedJson ?? undefined) : undefined;
      predictionIds = [];
      for (let i = 0; i < rows.length; i++) {
        const id = newPredictionId();
        predictionIds.push(id);
        this.predictionLog.record(
          id,
          createdMs,
          run.model.version,
          origin.route,
          receivedJson ?? JSON.stringify(origin.received(i)),
          rows[i]!,
          run.probabilities[i]!,
          run.labels[i] === 1 ? 1 : 0,
        );
      }
    }
    return {
      model: run.model,
      labels: run.labels,
      probabilities: run.probabilities,
      probabilityMatrix: run.probabilityMatrix,
      predictionIds,
      imputed,
      mostlyMissing: imputed.map(mostlyMissing),
    };
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
