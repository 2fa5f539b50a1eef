import { readFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features/feature-schema.js';
import { loadDataset } from '../../src/train/data/load.js';
import {
  leaveOneFileOut,
  type FileGroup,
  type FittedProcedure,
  type LeaveOneFileOutResult,
} from '../../src/train/evaluation/leave-one-file-out.js';
import { selectBest, trainCandidates, type ProcedureSettings } from '../../src/train/fit-procedure.js';
import { predictProbabilities } from '../../src/train/models/model.js';
import type { ModelCard } from '../../src/contract/model-card.js';
import { clevelandFile, hungarianFile } from '../support/paths.js';
import { runTrainCli } from '../support/run-cli.js';

const SETTINGS: ProcedureSettings = { folds: 5, seed: 42, threshold: 0.5, design: { indicatorMinShare: 0.05 }, calibration: 'platt' };

function procedure(rows: number[][], y: number[]): FittedProcedure {
  const candidates = trainCandidates(FEATURES, rows, y, SETTINGS);
  return {
    selected: selectBest(candidates).name,
    predict: Object.fromEntries(candidates.map((c) => [c.name, (held: number[][]) => predictProbabilities(c.model, held)])),
  };
}

/** Written out longhand, apart from src/: the pair-counting ROC-AUC and the plain means. */
const independent = {
  auc(y: number[], p: number[]) {
    let wins = 0;
    let pairs = 0;
    y.forEach((yi, i) =>
      y.forEach((yj, j) => {
        if (yi === 1 && yj === 0) {
          pairs++;
          wins += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
        }
      }),
    );
    return wins / pairs;
  },
  mean: (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length,
  brier: (y: number[], p: number[]) => independent.mean(p.map((pi, i) => (pi - y[i]!) ** 2)),
  logLoss: (y: number[], p: number[]) => independent.mean(p.map((pi, i) => -(y[i] === 1 ? Math.log(pi) : Math.log(1 - pi)))),
};

let groups: FileGroup[];
let result: LeaveOneFileOutResult;
const seenByFit: number[][][] = [];

beforeAll(async () => {
  groups = [];
  for (const file of [clevelandFile, hungarianFile]) {
    const d = await loadDataset([file], FEATURES);
    groups.push({ file: path.basename(file), rows: d.rows, y: d.target });
  }
  result = leaveOneFileOut(groups, (rows, y) => {
    seenByFit.push(rows);
    return procedure(rows, y);
  });
});

describe('leave-one-file-out on Cleveland + Hungarian', () => {
  it('holds out each file once and fits on exactly the other one', () => {
    expect(result.folds.map((f) => f.heldOut)).toEqual(['processed.cleveland.data', 'processed.hungarian.data']);
    expect(seenByFit).toHaveLength(2);
    expect(seenByFit[0]).toEqual(groups[1]!.rows);
    expect(seenByFit[1]).toEqual(groups[0]!.rows);
    expect(result.folds.map((f) => f.trainRows)).toEqual([294, 303]);
    expect(result.folds[0]!.trainFiles).toEqual(['processed.hungarian.data']);
  });

  it('scores the held-out hospital exactly as an independent fit-and-score does', () => {
    // Hungarian held out: fit on Cleveland alone, predict Hungarian, score by hand.
    const [cleveland, hungarian] = groups as [FileGroup, FileGroup];
    const fitted = procedure(cleveland.rows, cleveland.y);
    const fold = result.folds[1]!;
    expect(fold.selectedModel).toBe(fitted.selected);
    for (const [name, predict] of Object.entries(fitted.predict)) {
      const p = predict(hungarian.rows);
      const y = hungarian.y;
      const m = fold.models[name]!;
      const baseRate = independent.mean(cleveland.y);
      expect(m.rows).toBe(294);
      expect(m.rocAuc).toBeCloseTo(independent.auc(y, p), 12);
      expect(m.brier).toBeCloseTo(independent.brier(y, p), 12);
      expect(m.logLoss).toBeCloseTo(independent.logLoss(y, p), 12);
      expect(m.meanPredicted).toBeCloseTo(independent.mean(p), 12);
      expect(m.observedRate).toBeCloseTo(106 / 294, 12);
      expect(m.trainBaseRate).toBeCloseTo(139 / 303, 12);
      expect(m.baseRateBrier).toBeCloseTo(
        independent.brier(
          y,
          y.map(() => baseRate),
        ),
        12,
      );
      expect(m.calibrationInTheLarge).toBeCloseTo(independent.mean(p) - 106 / 294, 12);
      // Rows with >= 5 missing features: counted here from the raw rows.
      const many = hungarian.rows.flatMap((r, i) => (r.filter((v) => Number.isNaN(v)).length >= 5 ? [i] : []));
      const subset = m.missingSubsets.find((s) => s.minMissing === 5)!;
      expect(subset.rows).toBe(many.length);
      expect(subset.meanPredicted).toBeCloseTo(independent.mean(many.map((i) => p[i]!)), 12);
      expect(subset.observedRate).toBeCloseTo(independent.mean(many.map((i) => y[i]!)), 12);
    }
    const mean = (key: 'brier' | 'rocAuc' | 'logLoss') => independent.mean(result.folds.map((f) => f.models[f.selectedModel]![key]!));
    expect(result.mean.brier).toBeCloseTo(mean('brier'), 12);
    expect(result.mean.rocAuc).toBeCloseTo(mean('rocAuc'), 12);
    expect(result.mean.logLoss).toBeCloseTo(mean('logLoss'), 12);
  });

  it('beats the no-skill forecast at both hospitals, yet misses the new hospital’s rate (the limit of calibration)', () => {
    for (const fold of result.folds) {
      const m = fold.models[fold.selectedModel]!;
      expect(m.brier).toBeLessThan(m.baseRateBrier);
      expect(m.rocAuc).toBeGreaterThan(0.8);
      // Trained elsewhere, the mean prediction is off by more than 0.03 at each hospital.
      expect(Math.abs(m.calibrationInTheLarge)).toBeGreaterThan(0.03);
    }
  });

  it('refuses a single file', () => {
    expect(() => leaveOneFileOut(groups.slice(0, 1), procedure)).toThrow(/at least 2 data files/);
  });
});

describe('training on two files', () => {
  it('writes the leave-one-file-out table to model.json and the report; one file writes null and uses the defaults', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'hd-lofo-'));
    const both = await runTrainCli([
      ...['--data', clevelandFile, hungarianFile, '--out', path.join(work, 'both'), '--no-track'],
      ...['--missing-indicators', '0.05', '--calibration', 'platt'],
    ]);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toMatch(/held out processed\.hungarian\.data \(294 rows, observed 0\.361\)/);
    const card = JSON.parse(await readFile(path.join(work, 'both/model.json'), 'utf8')) as ModelCard;
    expect(card.leaveOneFileOut!.folds.map((f) => f.heldOut)).toEqual(['processed.cleveland.data', 'processed.hungarian.data']);
    // The same procedure and seed as the in-process run above: the same numbers.
    expect(card.leaveOneFileOut!.mean.brier).toBeCloseTo(result.mean.brier, 12);
    expect(card.missingData).toEqual({ indicatorMinShare: 0.05, indicators: ['slope', 'ca', 'thal'] });
    const html = await readFile(path.join(work, 'both/report.html'), 'utf8');
    expect(html).toContain('Leave-one-file-out');
    expect(html).toMatch(/<svg[^>]*aria-label="Calibration on each held-out file/);
    expect(html).toContain('processed.hungarian.data');

    const one = await runTrainCli(['--data', clevelandFile, '--out', path.join(work, 'one'), '--no-track']);
    expect(one.code, one.stderr).toBe(0);
    const single = JSON.parse(await readFile(path.join(work, 'one/model.json'), 'utf8')) as ModelCard;
    expect(single.leaveOneFileOut).toBeNull();
    // The defaults: indicators at >= 5 % missing (none in Cleveland), Platt scaling.
    expect(single.missingData).toEqual({ indicatorMinShare: 0.05, indicators: [] });
    expect(single.models.logistic_regression!.calibration!.method).toBe('platt');
  });
});
