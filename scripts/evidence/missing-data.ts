/**
 * `npm run evidence:missing-data -- <file> <file> [...]`: the evidence behind the training defaults for missing data
 * and calibration. For every candidate (missing-indicator rule × calibration method) it runs the training's own fit
 * procedure under leave-one-file-out (each file = one hospital held out in turn) and prints a Markdown table:
 * per held-out file ROC-AUC, Brier (and the no-skill base-rate Brier), log loss, mean predicted vs observed, and the
 * first file's CV ROC-AUC (the selection metric of a run on that file alone, hold-out set aside as in training).
 * Isotonic calibration is evaluated here but not shipped, so it is built from the uncalibrated procedure.
 */
import path from 'node:path';
import { DEFAULT_DECISION_THRESHOLD } from '../../src/contract/artifact-contract.js';
import { FEATURES } from '../../src/features/feature-schema.js';
import { loadDataset } from '../../src/train/data/load.js';
import { leaveOneFileOut, type FileGroup, type LeaveOneFileOutResult } from '../../src/train/evaluation/leave-one-file-out.js';
import { stratifiedHoldout } from '../../src/train/evaluation/splits.js';
import { selectBest, trainCandidates, type Candidate, type ProcedureSettings } from '../../src/train/fit-procedure.js';
import { applyCalibration, fitIsotonic } from '../../src/train/models/calibration.js';
import { predictProbabilities, predictScores } from '../../src/train/models/model.js';
import { createRandom, randomInt } from '../../src/train/models/random.js';

const SEED = 42;
const FOLDS = 5;
const HOLDOUT = 0.2;
const INDICATOR_RULES: (number | null)[] = [null, 0, 0.05, 0.25];
const CALIBRATIONS = ['none', 'platt', 'isotonic'] as const;

const files = process.argv.slice(2);
if (files.length < 2) {
  console.error('usage: npm run evidence:missing-data -- <processed.a.data> <processed.b.data> [...]');
  process.exit(1);
}
const groups: FileGroup[] = [];
for (const file of files) {
  const d = await loadDataset([file], FEATURES);
  groups.push({ file: path.basename(file), rows: d.rows, y: d.target });
}

function predictorOf(candidate: Candidate, y: number[], calibration: (typeof CALIBRATIONS)[number]) {
  if (calibration !== 'isotonic') return (rows: number[][]) => predictProbabilities(candidate.model, rows);
  const map = fitIsotonic(candidate.cv.outOfFoldScores, y);
  return (rows: number[][]) => predictScores(candidate.model, rows).map((s) => applyCalibration(map, s));
}

const EPS = 1e-15;
const squaredError = (p: number, y: number) => (p - y) ** 2;
const logError = (p: number, y: number) => -Math.log(y === 1 ? Math.max(EPS, p) : Math.max(EPS, 1 - p));

/**
 * 95 % paired bootstrap interval of the mean-over-files difference in a loss (candidate − baseline): rows are
 * resampled within each held-out file, so the hospitals keep equal weight. Tells a real difference from noise.
 */
function pairedBootstrap(
  loss: (p: number, y: number) => number,
  candidate: number[][],
  baseline: number[][],
  resamples = 2000,
): [number, number] {
  const random = createRandom(SEED);
  const diffs: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    groups.forEach((g, f) => {
      let d = 0;
      for (let i = 0; i < g.y.length; i++) {
        const r = randomInt(random, g.y.length);
        d += loss(candidate[f]![r]!, g.y[r]!) - loss(baseline[f]![r]!, g.y[r]!);
      }
      sum += d / g.y.length;
    });
    diffs.push(sum / groups.length);
  }
  diffs.sort((a, b) => a - b);
  return [diffs[Math.floor(0.025 * resamples)]!, diffs[Math.floor(0.975 * resamples)]!];
}

const f3 = (v: number | null) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(3));
const header = [
  'indicators',
  'calibration',
  ...groups.flatMap((g) => [`${g.file}: AUC`, 'Brier (base rate)', 'log loss', 'mean pred / observed', '≥3 missing: pred / obs']),
  'mean LOFO Brier',
  'Δ Brier vs off/none (95 % CI)',
  'mean LOFO log loss',
  'Δ log loss (95 % CI)',
  `${groups[0]!.file} CV AUC`,
];
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map(() => '---').join(' | ')} |`);

const first = groups[0]!;
const split = stratifiedHoldout(first.y, HOLDOUT, SEED);
// The first candidate (indicators off, no calibration) is today's pipeline: the baseline of the differences.
let baseline: { predictions: number[][]; meanBrier: number; meanLogLoss: number } | null = null;
for (const indicatorMinShare of INDICATOR_RULES) {
  const cvCandidates = trainCandidates(
    FEATURES,
    split.train.map((i) => first.rows[i]!),
    split.train.map((i) => first.y[i]!),
    { folds: FOLDS, seed: SEED, threshold: DEFAULT_DECISION_THRESHOLD, design: { indicatorMinShare }, calibration: 'none' },
  );
  const firstCvAuc = selectBest(cvCandidates).cv.mean.rocAuc;
  for (const calibration of CALIBRATIONS) {
    const settings: ProcedureSettings = {
      folds: FOLDS,
      seed: SEED,
      threshold: DEFAULT_DECISION_THRESHOLD,
      design: { indicatorMinShare },
      calibration: calibration === 'platt' ? 'platt' : 'none',
    };
    // The selected model's held-out predictions per file, for the bootstrap.
    const predictions: number[][] = [];
    const result: LeaveOneFileOutResult = leaveOneFileOut(groups, (rows, y) => {
      const candidates = trainCandidates(FEATURES, rows, y, settings);
      const selected = selectBest(candidates).name;
      return {
        selected,
        predict: Object.fromEntries(
          candidates.map((c) => {
            const predict = predictorOf(c, y, calibration);
            const recorded = (held: number[][]) => {
              const p = predict(held);
              // leaveOneFileOut scores each model once per held-out file, in file order.
              if (c.name === selected) predictions.push(p);
              return p;
            };
            return [c.name, recorded];
          }),
        ),
      };
    });
    const isBaseline = baseline === null;
    baseline ??= { predictions, meanBrier: result.mean.brier, meanLogLoss: result.mean.logLoss };
    const difference = (loss: typeof squaredError, mean: number, baseMean: number) => {
      if (isBaseline) return '–';
      const [lo, hi] = pairedBootstrap(loss, predictions, baseline!.predictions);
      return `${(mean - baseMean).toFixed(4)} [${lo.toFixed(4)}, ${hi.toFixed(4)}]`;
    };
    const cells = result.folds.flatMap((fold) => {
      const m = fold.models[fold.selectedModel]!;
      const missing3 = m.missingSubsets.find((s) => s.minMissing === 3)!;
      return [
        `${f3(m.rocAuc)} (${fold.selectedModel === 'logistic_regression' ? 'lr' : 'rf'})`,
        `${f3(m.brier)} (${f3(m.baseRateBrier)})`,
        f3(m.logLoss),
        `${f3(m.meanPredicted)} / ${f3(m.observedRate)}`,
        missing3.rows ? `${f3(missing3.meanPredicted)} / ${f3(missing3.observedRate)} (n=${missing3.rows})` : '–',
      ];
    });
    console.log(
      `| ${[
        indicatorMinShare === null ? 'off' : `≥ ${indicatorMinShare}`,
        calibration,
        ...cells,
        f3(result.mean.brier),
        difference(squaredError, result.mean.brier, baseline.meanBrier),
        f3(result.mean.logLoss),
        difference(logError, result.mean.logLoss, baseline.meanLogLoss),
        f3(firstCvAuc),
      ].join(' | ')} |`,
    );
  }
}
