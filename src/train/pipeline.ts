import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Feature, FeatureSchema } from '../features/feature-schema.js';
import { buildReferences } from '../drift/reference.js';
import { CONTRACT_VERSION, DEFAULT_DECISION_THRESHOLD, MODEL_FILES, ONNX_INPUT, ONNX_OUTPUTS } from '../contract/artifact-contract.js';
import type { ModelCard } from '../contract/model-card.js';
import { loadDataset, type Dataset } from './data/load.js';
import type { CrossValidationResult } from './evaluation/cross-validation.js';
import {
  calibrationBins,
  classificationMetrics,
  precisionRecallCurve,
  rocCurve,
  type CalibrationBin,
  type ClassificationMetrics,
  type CurvePoint,
} from '../metrics/classification.js';
import { stratifiedHoldout } from './evaluation/splits.js';
import { linearExplainer } from './export/linear-explainer.js';
import { exportOnnx } from './export/model-graph.js';
import { verifyOnnxParity } from './export/parity.js';
import {
  DEFAULT_CALIBRATION,
  DEFAULT_MISSING_INDICATOR_MIN_SHARE,
  leaveOneFileOutOf,
  selectBest,
  trainCandidate,
  type CalibrationRecord,
  type ProcedureSettings,
  type ShippedCalibration,
} from './fit-procedure.js';
import { MODEL_NAMES, featureImportance, predictProbabilities, type ModelName, type TrainedModel } from './models/model.js';

export interface TrainOptions {
  dataPaths: string[];
  outDir: string;
  seed: number;
  minAuc: number;
  folds: number;
  holdoutFraction: number;
  exportAll: boolean;
  /** Decision threshold baked into the graph's label and written to model.json (contract default 0.5). */
  threshold?: number;
  schema: FeatureSchema;
  producerVersion: string;
  gitCommit: string | null;
  log: (line: string) => void;
  /** Missing-indicator rule (see PreprocessingOptions.indicatorMinShare); default DEFAULT_MISSING_INDICATOR_MIN_SHARE. */
  missingIndicatorMinShare?: number | null;
  /** Calibration shipped in the graph; default DEFAULT_CALIBRATION. */
  calibration?: ShippedCalibration;
  /**
   * The hold-out, when the caller fixes it (retraining holds out the champion's hold-out and a slice of the new rows);
   * default a stratified `holdoutFraction` of the rows drawn with `seed`.
   */
  split?: (dataset: Dataset) => { train: number[]; test: number[] };
  /** Leave-one-file-out evidence when there are ≥ 2 files (default true; retraining's extra file is not a site). */
  leaveOneFileOut?: boolean;
}

export interface ModelEvaluation {
  name: ModelName;
  hyperParameters: Record<string, unknown>;
  cv: CrossValidationResult;
  holdout: ClassificationMetrics;
  curves: { roc: CurvePoint[]; pr: CurvePoint[]; calibration: CalibrationBin[] };
  importance: { feature: string; importance: number }[];
  convergence?: { iterations: number; converged: boolean };
  calibration: CalibrationRecord;
}

export interface TrainResult {
  card: ModelCard;
  evaluations: ModelEvaluation[];
  gatePassed: boolean;
  files: { onnx: string | null; modelJson: string; report: string; extraOnnx: string[] };
}

const decisionThreshold = (options: TrainOptions): number => options.threshold ?? DEFAULT_DECISION_THRESHOLD;

const SHORT_NAMES: Record<ModelName, string> = { logistic_regression: 'lr', random_forest: 'rf' };

function pick<T>(items: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => items[i]!);
}

function evaluateModel(
  name: ModelName,
  features: readonly Feature[],
  rows: number[][],
  y: number[],
  test: { rows: number[][]; y: number[] },
  options: TrainOptions,
  settings: ProcedureSettings,
): { evaluation: ModelEvaluation; model: TrainedModel } {
  const { cv, model, calibration } = trainCandidate(name, features, rows, y, settings, (fold, m) =>
    options.log(`  ${name} fold ${fold + 1}/${options.folds}: roc_auc=${m.rocAuc.toFixed(4)} accuracy=${m.accuracy.toFixed(4)}`),
  );
  const p = predictProbabilities(model, test.rows);
  const evaluation: ModelEvaluation = {
    name,
    hyperParameters: model.hyperParameters,
    cv,
    holdout: classificationMetrics(test.y, p, decisionThreshold(options)),
    curves: { roc: rocCurve(test.y, p), pr: precisionRecallCurve(test.y, p), calibration: calibrationBins(y, cv.outOfFold) },
    importance: featureImportance(model, features),
    ...(model.estimator.kind === 'logistic_regression'
      ? { convergence: { iterations: model.estimator.iterations, converged: model.estimator.converged } }
      : {}),
    calibration,
  };
  options.log(
    `  ${name}: cv roc_auc=${cv.mean.rocAuc.toFixed(4)} ± ${cv.std.rocAuc.toFixed(4)}, holdout roc_auc=${evaluation.holdout.rocAuc.toFixed(4)}`,
  );
  return { evaluation, model };
}

/**
 * The whole training job: load and validate → stratified hold-out → per model CV, fit, hold-out metrics →
 * select by CV ROC-AUC → quality gate → ONNX export verified against the TypeScript model → model.json.
 * The report and trackers are the caller's (they are I/O around this result).
 */
export async function runTraining(
  options: TrainOptions,
): Promise<TrainResult & { models: Map<ModelName, TrainedModel>; dataset: Dataset; split: { train: number[]; test: number[] } }> {
  const features = options.schema.features;
  const dataset = await loadDataset(options.dataPaths, features);
  const q = dataset.quality;
  options.log(
    `data: ${q.rows} rows from ${dataset.sources.length} file(s); disease ${q.classBalance.positive} / no disease ${q.classBalance.negative}; ` +
      `missing ${Object.values(q.missing).reduce((a, b) => a + b, 0)} values; out of range ${q.outOfRange.count}`,
  );
  const split = options.split ? options.split(dataset) : stratifiedHoldout(dataset.target, options.holdoutFraction, options.seed);
  const trainRows = pick(dataset.rows, split.train);
  const trainY = pick(dataset.target, split.train);
  const test = { rows: pick(dataset.rows, split.test), y: pick(dataset.target, split.test) };
  options.log(
    `split: ${split.train.length} training rows (${options.folds}-fold CV), ${split.test.length} held out (seed ${options.seed})`,
  );

  const settings: ProcedureSettings = {
    folds: options.folds,
    seed: options.seed,
    threshold: decisionThreshold(options),
    design: {
      indicatorMinShare:
        options.missingIndicatorMinShare === undefined ? DEFAULT_MISSING_INDICATOR_MIN_SHARE : options.missingIndicatorMinShare,
    },
    calibration: options.calibration ?? DEFAULT_CALIBRATION,
  };
  const evaluations: ModelEvaluation[] = [];
  const models = new Map<ModelName, TrainedModel>();
  for (const name of MODEL_NAMES) {
    options.log(`model ${name}`);
    const { evaluation, model } = evaluateModel(name, features, trainRows, trainY, test, options, settings);
    evaluations.push(evaluation);
    models.set(name, model);
  }
  const best = selectBest(evaluations);
  const gatePassed = best.cv.mean.rocAuc >= options.minAuc;
  const selected = models.get(best.name)!;

  await mkdir(options.outDir, { recursive: true });
  const onnxBytes = exportOnnx(selected, features, options.producerVersion, decisionThreshold(options));
  const leaveOneFileOutResult =
    options.leaveOneFileOut !== false && dataset.sources.length >= 2 ? leaveOneFileOutOf(dataset, features, settings, options.log) : null;
  const parityMaxAbsDiff = await verifyOnnxParity(onnxBytes, dataset.rows, predictProbabilities(selected, dataset.rows));
  const onnxSha = createHash('sha256').update(onnxBytes).digest('hex');
  const modelVersion = `${options.producerVersion}-${SHORT_NAMES[best.name]}-${onnxSha.slice(0, 12)}`;

  const card: ModelCard = {
    contractVersion: CONTRACT_VERSION,
    modelVersion,
    createdAt: new Date().toISOString(),
    gitCommit: options.gitCommit,
    producerVersion: options.producerVersion,
    data: {
      files: dataset.sources.map((s) => ({ path: path.basename(s.path), sha256: s.sha256, rows: s.rows, bytes: s.bytes })),
      quality: dataset.quality,
    },
    schema: options.schema,
    selectedModel: best.name,
    selection: { metric: 'cv.rocAuc', minAuc: options.minAuc, gatePassed },
    threshold: decisionThreshold(options),
    onnx: {
      file: MODEL_FILES.onnx,
      sha256: onnxSha,
      bytes: onnxBytes.length,
      input: ONNX_INPUT,
      outputs: [ONNX_OUTPUTS.label, ONNX_OUTPUTS.probabilities],
      parityMaxAbsDiff,
    },
    models: Object.fromEntries(
      evaluations.map(({ name, curves: _curves, cv: { outOfFold: _oof, outOfFoldScores: _scores, ...cv }, ...rest }) => [
        name,
        { ...rest, cv },
      ]),
    ),
    missingData: {
      indicatorMinShare: settings.design.indicatorMinShare,
      indicators: selected.preprocessing.indicatorIndices.map((j) => features[j]!.name),
    },
    leaveOneFileOut: leaveOneFileOutResult,
    reference: buildReferences(
      features,
      features.map((_, j) => trainRows.map((r) => r[j]!)),
    ),
    explainer:
      best.name === 'logistic_regression'
        ? linearExplainer(
            selected,
            trainRows,
            features.map((f) => f.name),
          )
        : { kind: 'occlusion' },
    split: {
      seed: options.seed,
      folds: options.folds,
      holdoutFraction: options.holdoutFraction,
      trainRows: split.train.length,
      holdoutRows: split.test,
    },
  };

  const onnxPath = path.join(options.outDir, MODEL_FILES.onnx);
  const extraOnnx: string[] = [];
  if (gatePassed) {
    await writeFile(onnxPath, onnxBytes);
    if (options.exportAll) {
      for (const [name, model] of models) {
        const file = path.join(options.outDir, `model.${name}.onnx`);
        await writeFile(file, exportOnnx(model, features, options.producerVersion, decisionThreshold(options)));
        extraOnnx.push(file);
      }
    }
  } else {
    // A model that failed the gate must not be picked up by a later build or deploy step.
    await rm(onnxPath, { force: true });
  }
  const modelJson = path.join(options.outDir, MODEL_FILES.card);
  await writeFile(modelJson, `${JSON.stringify(card, null, 2)}\n`);
  return {
    card,
    evaluations,
    gatePassed,
    models,
    dataset,
    split,
    files: { onnx: gatePassed ? onnxPath : null, modelJson, report: path.join(options.outDir, MODEL_FILES.report), extraOnnx },
  };
}

export async function readPackageVersion(packageJsonPath: string): Promise<string> {
  return (JSON.parse(await readFile(packageJsonPath, 'utf8')) as { version: string }).version;
}
