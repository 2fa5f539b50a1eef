/**
 * The pure parts of retraining: the promotion rule and its deciding clause, the content-hash hold-out (stable, about
 * the stated share, independent of row order), de-duplication, the trigger's decision, and the CLIs' usage errors.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features/feature-schema.js';
import { classificationMetrics } from '../../src/metrics/classification.js';
import { contentHashUnit, deduplicate, isHeldOut, readLabelledFile, splitNewRows, toUciText } from '../../src/retrain/new-rows.js';
import { RETRAIN_OPTIONS, TRIGGER_OPTIONS } from '../../src/retrain/options.js';
import { decide, type Evidence } from '../../src/retrain/rule.js';
import { triggerDecision } from '../../src/retrain/trigger.js';
import { hungarianFile } from '../support/paths.js';
import { runTs } from '../support/run-cli.js';

const y = [0, 0, 1, 1, 0, 1, 0, 1];
/** Scores from probabilities: better separation → lower Brier and higher AUC. */
const scored = (p: number[]) => classificationMetrics(y, p, 0.5);
const good = scored([0.1, 0.2, 0.8, 0.9, 0.3, 0.7, 0.2, 0.6]);
const worse = scored([0.3, 0.4, 0.6, 0.7, 0.5, 0.5, 0.4, 0.5]);
const RULE = { brierMargin: 0.005, aucMargin: 0.02, minNewHoldout: 5 };

function evidence(changes: Partial<Evidence> = {}): Evidence {
  return {
    gatePassed: true,
    cvRocAuc: 0.9,
    minAuc: 0.85,
    newHoldoutRows: 8,
    champion: { original: good, newRows: worse },
    challenger: { original: good, newRows: good },
    ...changes,
  };
}

describe('promotion rule', () => {
  it('promotes when every clause holds', () => {
    expect(good.brier).toBeLessThan(worse.brier - RULE.brierMargin);
    const decision = decide(evidence(), RULE);
    expect(decision).toMatchObject({ promoted: true, decidedBy: 'all' });
    expect(decision.clauses.map((c) => c.clause)).toEqual(['evidence', 'gate', 'brier', 'auc']);
  });

  it('each clause alone keeps the champion, and is named as the one that decided', () => {
    expect(decide(evidence({ newHoldoutRows: 4 }), RULE)).toMatchObject({ promoted: false, decidedBy: 'evidence' });
    expect(decide(evidence({ gatePassed: false, cvRocAuc: 0.8 }), RULE)).toMatchObject({ promoted: false, decidedBy: 'gate' });
    // Equal Brier is not better: the margin must be met.
    const tie = evidence({ champion: { original: good, newRows: good } });
    expect(decide(tie, RULE)).toMatchObject({ promoted: false, decidedBy: 'brier' });
    expect(decide(tie, { ...RULE, brierMargin: 0 })).toMatchObject({ promoted: true });
    // Better on the new rows but worse on the original hold-out beyond the margin.
    const forgets = evidence({ challenger: { original: worse, newRows: good } });
    expect(good.rocAuc - worse.rocAuc).toBeGreaterThan(RULE.aucMargin);
    expect(decide(forgets, RULE)).toMatchObject({ promoted: false, decidedBy: 'auc' });
    expect(decide(forgets, { ...RULE, aucMargin: 1 })).toMatchObject({ promoted: true });
  });

  it('the first failing clause decides and the detail carries the numbers', () => {
    const decision = decide(evidence({ gatePassed: false, challenger: { original: worse, newRows: worse } }), RULE);
    expect(decision.decidedBy).toBe('gate');
    expect(decision.clauses.filter((c) => !c.passed).map((c) => c.clause)).toEqual(['gate', 'brier', 'auc']);
    expect(decision.clauses[2]!.detail).toContain(worse.brier.toFixed(4));
  });
});

describe('new labelled rows', () => {
  it('the hold-out side depends on the row content only: same in every run and in any order', async () => {
    const rows = await readLabelledFile(hungarianFile, FEATURES);
    const a = splitNewRows(rows, 0.3);
    const b = splitNewRows([...rows].reverse(), 0.3);
    const key = (r: { features: number[] }) => r.features.join(',');
    expect(new Set(a.heldOut.map(key))).toEqual(new Set(b.heldOut.map(key)));
    expect(a.heldOut.length + a.train.length).toBe(rows.length);
    // About the stated share (binomial: 294 rows, sd ≈ 0.027).
    expect(a.heldOut.length / rows.length).toBeGreaterThan(0.2);
    expect(a.heldOut.length / rows.length).toBeLessThan(0.4);
    // The outcome is not part of the hash: a relabelled row stays on its side.
    expect(isHeldOut(rows[0]!.features, 0.3)).toBe(a.heldOut.some((r) => key(r) === key(rows[0]!)));
    expect(contentHashUnit(rows[0]!.features)).toBe(contentHashUnit([...rows[0]!.features]));
    // A larger share only adds rows: nothing held out at 0.3 trains at 0.5.
    const wider = new Set(splitNewRows(rows, 0.5).heldOut.map(key));
    for (const r of a.heldOut) expect(wider.has(key(r))).toBe(true);
  });

  it('de-duplicates against the original data and within the new rows (missing values compared as missing)', () => {
    const base = [1, 2, Number.NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
    const other = base.map((v, j) => (j === 0 ? 99 : v));
    const third = base.map((v, j) => (j === 0 ? 50 : v));
    const out = deduplicate(
      [
        { features: base, outcome: 1 },
        { features: other, outcome: 0 },
        { features: [...other], outcome: 1 },
        { features: third, outcome: 0 },
      ],
      [base],
    );
    expect(out.duplicates).toBe(2);
    expect(out.rows.map((r) => r.features[0])).toEqual([99, 50]);
  });

  it('labelled rows round-trip through the UCI text training reads', async () => {
    const rows = (await readLabelledFile(hungarianFile, FEATURES)).slice(0, 20);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hd-labelled-'));
    try {
      const file = path.join(dir, 'rows.data');
      await writeFile(file, toUciText(rows));
      expect(await readLabelledFile(file, FEATURES)).toEqual(rows);
      expect((await readFile(file, 'utf8')).split('\n')[0]).toMatch(/^[\d.?,]+,[01]$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('trigger decision', () => {
  const policy = { level: 'drift' as const, minLabels: 50, cooldownS: 3600 };
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('retrains on drift with enough labels and no recent retraining', () => {
    expect(triggerDecision({ drift: 'drift', labels: 50, lastRetrainMs: null, nowMs: now }, policy).retrain).toBe(true);
    expect(triggerDecision({ drift: 'drift', labels: 50, lastRetrainMs: now - 3_600_000, nowMs: now }, policy).retrain).toBe(true);
  });
  it('does nothing within the cool-down, below the level, or with too few labels — and says which', () => {
    expect(triggerDecision({ drift: 'drift', labels: 500, lastRetrainMs: now - 1000, nowMs: now }, policy)).toMatchObject({
      retrain: false,
      reason: 'cooldown',
    });
    expect(triggerDecision({ drift: 'warning', labels: 500, lastRetrainMs: null, nowMs: now }, policy)).toMatchObject({
      retrain: false,
      reason: 'no-drift',
    });
    expect(
      triggerDecision({ drift: 'warning', labels: 500, lastRetrainMs: null, nowMs: now }, { ...policy, level: 'warning' }).retrain,
    ).toBe(true);
    // Refused traffic is a data-quality alarm, not drift to retrain on.
    expect(
      triggerDecision({ drift: 'refused', labels: 500, lastRetrainMs: null, nowMs: now }, { ...policy, level: 'warning' }),
    ).toMatchObject({
      reason: 'no-drift',
    });
    expect(triggerDecision({ drift: 'drift', labels: 49, lastRetrainMs: null, nowMs: now }, policy)).toMatchObject({
      retrain: false,
      reason: 'too-few-labels',
    });
  });
});

describe('CLIs: usage errors exit 2 with the reason, --help lists every option', () => {
  it.each([
    ['src/retrain/cli.ts', RETRAIN_OPTIONS, []],
    ['src/retrain/trigger-cli.ts', TRIGGER_OPTIONS, ['--api-url', 'http://127.0.0.1:1']],
  ] as const)('%s', async (entry, options, required) => {
    const help = await runTs(entry, ['--help']);
    expect(help.code).toBe(0);
    for (const name of Object.keys(options)) expect(help.stdout).toMatch(new RegExp(`^ {2}(-\\w, )?--${name}\\b`, 'm'));
    const bad = await runTs(entry, [...required, '--brier-margin', '2'], { MLFLOW_TRACKING_URI: '' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/brier-margin/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(bad.stderr).toContain('Run with --help for the options.');
    // The trigger's stdout is read by machines (the CronJob's log): its failures are a JSON line there too.
    if (entry === 'src/retrain/trigger-cli.ts')
      expect(JSON.parse(bad.stdout.trim().split('\n').at(-1)!)).toMatchObject({ action: 'failed' });
    const noMlflow = await runTs(entry, [...required], { MLFLOW_TRACKING_URI: '' });
    expect(noMlflow.code).toBe(2);
    expect(noMlflow.stderr).toContain('MLFLOW_TRACKING_URI is not set');
  });
});
