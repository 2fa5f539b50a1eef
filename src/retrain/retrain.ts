/**
 * One retraining: the original data plus the new labelled rows → a challenger trained with the usual pipeline →
 * champion and challenger scored by onnxruntime on the same rows → the promotion rule → the challenger registered
 * as a new version of the registered model, the decision on its run (tags and metrics) and in decision.html, and the
 * alias moved (`champion` on promotion, `challenger` otherwise).
 *
 *   runRetrain(options: RetrainOptions): Promise<RetrainResult>
 *
 * Rows neither model trained on: the original hold-out is the stratified hold-out training draws from the original
 * files with the same seed and fraction (the champion, trained on those files, never saw it; the challenger is
 * trained without it), and the new-rows hold-out is chosen by content hash (new-rows.ts).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILES, REGISTRY } from '../contract/artifact-contract.js';
import type { FeatureSchema } from '../features/feature-schema.js';
import { proxiedArtifactPath, uploadArtifact } from '../mlflow/artifacts.js';
import { MlflowClient, type MlflowClientConfig } from '../mlflow/client.js';
import { fetchModelVersion } from '../mlflow/registered-model.js';
import { parseModelUri, resolveModelUri, setAlias, type ModelVersion } from '../mlflow/registry.js';
import { loadDataset } from '../train/data/load.js';
import { calibrationBins, classificationMetrics, rocCurve } from '../metrics/classification.js';
import { stratifiedHoldout } from '../train/evaluation/splits.js';
import { onnxProbabilities } from '../train/export/parity.js';
import { predictProbabilities } from '../train/models/model.js';
import { runTraining } from '../train/pipeline.js';
import { renderReport } from '../train/report/html.js';
import { logRunToMlflow } from '../train/tracking/mlflow.js';
import { runRecordOf } from '../train/tracking/track-run.js';
import type { MetricTree } from '../train/tracking/run-record.js';
import { deduplicate, splitNewRows, toUciText, type LabelledRow } from './new-rows.js';
import { renderDecisionReport, type ScoredModel } from './report.js';
import { decide, type Decision, type ModelScores, type PromotionRule } from './rule.js';

/** Run tags every retraining carries; the trigger finds the last retraining by RETRAIN_TAGS.kind. */
export const RETRAIN_TAGS = {
  kind: 'retrain',
  decision: 'retrain.decision',
  decidedBy: 'retrain.decided_by',
  championVersion: 'retrain.champion_version',
  championModelVersion: 'retrain.champion_model_version',
} as const;

export interface RetrainOptions {
  dataPaths: string[];
  newRows: LabelledRow[];
  /** Where the new rows came from, for the report ("prediction log", a file name). */
  newRowsSource: string;
  modelUri: string;
  mlflow: MlflowClientConfig & { experimentName?: string };
  outDir: string;
  seed: number;
  holdoutFraction: number;
  newHoldoutFraction: number;
  minAuc: number;
  rule: PromotionRule;
  schema: FeatureSchema;
  producerVersion: string;
  gitCommit: string | null;
  log: (line: string) => void;
}

export interface RetrainResult {
  decision: Decision;
  champion: ScoredModel & { registryVersion: string };
  challenger: ScoredModel & { registryVersion: string | null };
  runId: string;
  runUrl: string;
  files: { decisionReport: string; decisionJson: string; challengerDir: string };
  counts: { originalRows: number; originalHoldout: number; newRows: number; duplicates: number; newTrain: number; newHoldout: number };
}

function scores(y: { original: number[]; newRows: number[] }, p: { original: number[]; newRows: number[] }, threshold: number) {
  const metrics: ModelScores = {
    original: classificationMetrics(y.original, p.original, threshold),
    newRows: classificationMetrics(y.newRows, p.newRows, threshold),
  };
  const all = { y: [...y.original, ...y.newRows], p: [...p.original, ...p.newRows] };
  return {
    scores: metrics,
    curves: {
      rocOriginal: rocCurve(y.original, p.original),
      rocNewRows: rocCurve(y.newRows, p.newRows),
      calibration: calibrationBins(all.y, all.p),
    },
  };
}

/** Finite numbers only: MLflow and the run record refuse NaN (e.g. AUC on rows of one class). */
function finiteTree(tree: Record<string, number>): MetricTree {
  return Object.fromEntries(Object.entries(tree).filter(([, v]) => Number.isFinite(v)));
}

function scoreMetrics(s: ModelScores): MetricTree {
  const pick = (m: ModelScores['original']) => finiteTree({ brier: m.brier, roc_auc: m.rocAuc, log_loss: m.logLoss, accuracy: m.accuracy });
  return { original_holdout: pick(s.original), new_holdout: pick(s.newRows) };
}

export async function runRetrain(options: RetrainOptions): Promise<RetrainResult> {
  const { log } = options;
  const features = options.schema.features;
  const client = new MlflowClient(options.mlflow);
  const uri = parseModelUri(options.modelUri);
  if (uri.alias === null) throw new Error(`--model-uri ${options.modelUri}: retraining needs an alias to compare with and to move`);

  // The champion first: without it there is nothing to compare with, and no reason to train.
  const championVersion: ModelVersion = await resolveModelUri(client, uri);
  await mkdir(options.outDir, { recursive: true });
  const championDir = path.join(options.outDir, 'champion');
  await rm(championDir, { recursive: true, force: true });
  await mkdir(championDir, { recursive: true });
  const { card: championCard } = await fetchModelVersion(client, championVersion, championDir);
  log(`champion: ${options.modelUri} → version ${championVersion.version} (${championCard.modelVersion})`);

  const original = await loadDataset(options.dataPaths, features);
  const originalHoldout = stratifiedHoldout(original.target, options.holdoutFraction, options.seed).test;
  const { rows: newRows, duplicates } = deduplicate(options.newRows, original.rows);
  const split = splitNewRows(newRows, options.newHoldoutFraction);
  log(
    `new rows: ${options.newRows.length} labelled from ${options.newRowsSource}, ${duplicates} duplicates dropped; ` +
      `${split.train.length} join training, ${split.heldOut.length} held out (content hash, ${options.newHoldoutFraction})`,
  );
  if (split.train.length === 0)
    throw new Error(`no new labelled rows to train on (${options.newRows.length} read, ${duplicates} duplicates)`);

  // The new rows as one more UCI file after the original ones: training rows, then the held-out ones.
  const work = await mkdtemp(path.join(options.outDir, '.data-'));
  const newRowsFile = path.join(work, 'processed.new-labelled.data');
  await writeFile(newRowsFile, toUciText([...split.train, ...split.heldOut]));
  const n = original.rows.length;
  const newHoldoutIdx = split.heldOut.map((_, i) => n + split.train.length + i);
  const challengerDir = path.join(options.outDir, 'challenger');
  let trained;
  try {
    trained = await runTraining({
      dataPaths: [...options.dataPaths, newRowsFile],
      outDir: challengerDir,
      seed: options.seed,
      minAuc: options.minAuc,
      folds: 5,
      holdoutFraction: options.holdoutFraction,
      exportAll: false,
      leaveOneFileOut: false,
      schema: options.schema,
      producerVersion: options.producerVersion,
      gitCommit: options.gitCommit,
      log,
      split: (dataset) => {
        const test = new Set([...originalHoldout, ...newHoldoutIdx]);
        const all = dataset.rows.map((_, i) => i);
        return { train: all.filter((i) => !test.has(i)), test: all.filter((i) => test.has(i)) };
      },
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await writeFile(trained.files.report, renderReport(trained.card, trained.evaluations));

  // Both models on exactly the same rows, through onnxruntime as the API runs them.
  const rows = { original: originalHoldout.map((i) => original.rows[i]!), newRows: split.heldOut.map((r) => r.features) };
  const y = { original: originalHoldout.map((i) => original.target[i]!), newRows: split.heldOut.map((r) => r.outcome as number) };
  const championOnnx = await readFile(path.join(championDir, MODEL_FILES.onnx));
  const championP = {
    original: await onnxProbabilities(championOnnx, rows.original),
    newRows: await probabilitiesOf(championOnnx, rows.newRows),
  };
  let challengerP: { original: number[]; newRows: number[] };
  if (trained.files.onnx) {
    const bytes = await readFile(trained.files.onnx);
    challengerP = { original: await onnxProbabilities(bytes, rows.original), newRows: await probabilitiesOf(bytes, rows.newRows) };
  } else {
    // Gate failed: no graph was written; the TypeScript model it would have been (parity-checked otherwise) stands in.
    const model = trained.models.get(trained.card.selectedModel)!;
    challengerP = { original: predictProbabilities(model, rows.original), newRows: predictProbabilities(model, rows.newRows) };
  }
  const championScored = scores(y, championP, championCard.threshold);
  const challengerScored = scores(y, challengerP, trained.card.threshold);
  const selected = trained.card.models[trained.card.selectedModel]!;
  const decision = decide(
    {
      gatePassed: trained.gatePassed,
      cvRocAuc: selected.cv.mean.rocAuc,
      minAuc: options.minAuc,
      newHoldoutRows: split.heldOut.length,
      champion: championScored.scores,
      challenger: challengerScored.scores,
    },
    options.rule,
  );
  const verdict = decision.promoted ? 'promoted' : 'kept';
  log(`decision: ${verdict} (decided by: ${decision.decidedBy})`);
  for (const c of decision.clauses) log(`  ${c.passed ? 'pass' : 'FAIL'} ${c.clause}: ${c.detail}`);

  const counts = {
    originalRows: n,
    originalHoldout: originalHoldout.length,
    newRows: newRows.length,
    duplicates,
    newTrain: split.train.length,
    newHoldout: split.heldOut.length,
  };
  const champion: ScoredModel & { registryVersion: string } = {
    label: 'champion',
    card: championCard,
    registryVersion: championVersion.version,
    ...championScored,
  };
  const challenger: ScoredModel & { registryVersion: string | null } = {
    label: 'challenger',
    card: trained.card,
    registryVersion: null,
    ...challengerScored,
  };

  // The run: training's record plus the decision, and the challenger registered when it passed the gate.
  const decisionReport = path.join(options.outDir, 'decision.html');
  const decisionJson = path.join(options.outDir, 'decision.json');
  const writeDecision = async () => {
    await writeFile(
      decisionReport,
      renderDecisionReport({
        decision,
        rule: options.rule,
        champion,
        challenger,
        counts,
        newRowsSource: options.newRowsSource,
        modelUri: options.modelUri,
      }),
    );
    await writeFile(
      decisionJson,
      `${JSON.stringify({ decision: verdict, decidedBy: decision.decidedBy, clauses: decision.clauses, rule: options.rule, counts, champion: { version: champion.registryVersion, modelVersion: championCard.modelVersion, scores: champion.scores }, challenger: { version: challenger.registryVersion, modelVersion: trained.card.modelVersion, scores: challenger.scores } }, null, 2)}\n`,
    );
  };
  await writeDecision();
  const record = runRecordOf(trained, { seed: options.seed, minAuc: options.minAuc, startTime: new Date() });
  const logged = await logRunToMlflow({
    ...options.mlflow,
    ...record,
    runName: `retrain-${trained.card.modelVersion}`,
    sourceName: 'src/retrain/cli.ts',
    params: {
      ...record.params,
      retrain: {
        model_uri: options.modelUri,
        brier_margin: options.rule.brierMargin,
        auc_margin: options.rule.aucMargin,
        min_new_holdout: options.rule.minNewHoldout,
        new_holdout_fraction: options.newHoldoutFraction,
        new_rows_source: options.newRowsSource,
      },
    },
    metrics: {
      ...record.metrics,
      retrain: {
        champion: scoreMetrics(champion.scores),
        challenger: scoreMetrics(challenger.scores),
        promoted: decision.promoted ? 1 : 0,
        rows: { ...counts },
      },
    },
    tags: {
      ...record.tags,
      [RETRAIN_TAGS.kind]: 'true',
      [RETRAIN_TAGS.decision]: verdict,
      [RETRAIN_TAGS.decidedBy]: decision.decidedBy,
      [RETRAIN_TAGS.championVersion]: championVersion.version,
      [RETRAIN_TAGS.championModelVersion]: championCard.modelVersion,
    },
    artifactFiles: [...record.artifactFiles, decisionReport, decisionJson],
    // A kept challenger is a finished run too; FAILED is for runs that broke.
    status: 'FINISHED',
    registerModel: trained.gatePassed,
    gitCommit: options.gitCommit,
  });
  log(`mlflow: ${logged.runUrl}${logged.modelVersion ? ` (registered model version ${logged.modelVersion})` : ''}`);
  if (logged.modelVersion) {
    challenger.registryVersion = logged.modelVersion;
    const alias = decision.promoted ? uri.alias : REGISTRY.aliases.challenger;
    await setAlias(client, uri.name, alias, logged.modelVersion);
    log(`alias: ${uri.name}@${alias} → version ${logged.modelVersion}`);
    // The run's copies named no version yet: replace them with the ones that do.
    await writeDecision();
    const root = proxiedArtifactPath(logged.artifactUri);
    for (const file of [decisionReport, decisionJson]) await uploadArtifact(client, root, path.basename(file), await readFile(file));
  }
  return {
    decision,
    champion,
    challenger,
    runId: logged.runId,
    runUrl: logged.runUrl,
    files: { decisionReport, decisionJson, challengerDir },
    counts,
  };
}

/** onnxProbabilities with zero rows allowed (an empty new-rows hold-out). */
async function probabilitiesOf(onnx: Uint8Array, rows: number[][]): Promise<number[]> {
  return rows.length === 0 ? [] : onnxProbabilities(onnx, rows);
}
