/**
 * Pooling saved bench runs: the pooled median and interval against values sorted and counted here, each run's median
 * kept, verdicts on both sides of a target, and the CLI on files as `npm run bench > file` writes them (npm's preamble
 * first) and on files it must refuse.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { benchLineOf, poolBenchRuns, type BenchLine } from '../../scripts/lib/bench-pool.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/** A bench line as bench/api.bench.ts prints it (the fields pooling reads, plus one it ignores). */
function benchLine(predict: number[], log: number[], servingPath = predict, target = 0.9): BenchLine & { batch: object } {
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  return {
    bench: 'api',
    targets: { ratio: target },
    predictVsEmpty: { ratio: median(predict), pairedRatios: predict },
    servingPathVsEmpty: { ratio: median(servingPath), pairedRatios: servingPath },
    predictionLog: { ratio: median(log), pairedRatios: log, target },
    batch: { rowsPerSecond: 1 },
  };
}

describe('poolBenchRuns', () => {
  it('pools the paired rounds of every run: median and the 90 % order-statistic interval of all of them', () => {
    const a = [0.82, 0.88, 0.91, 0.95, 0.97, 0.99, 1.01, 1.04];
    const b = [0.8, 0.86, 0.9, 0.93, 0.94, 0.96, 1.0, 1.1];
    const pooled = poolBenchRuns([benchLine(a, a), benchLine(b, b)]).predictVsEmpty;
    const all = [...a, ...b].sort((x, y) => x - y);
    expect(pooled.rounds).toBe(16);
    expect(pooled.median).toBeCloseTo((all[7]! + all[8]!) / 2, 12);
    // 16 values at 90 %: the 5th and 12th smallest cover 1 - 2·P(B <= 4) = 1 - 2·2517/65536 = 0.923, B ~ Bin(16, 1/2);
    // the narrower 6th and 11th only 0.79.
    expect([pooled.interval.low, pooled.interval.high]).toEqual([all[4], all[11]]);
    expect(pooled.interval.coverage).toBeCloseTo(1 - (2 * 2517) / 65536, 12);
    expect(pooled.runMedians).toEqual([0.97, 0.94]);
  });

  it("says met, missed or undecided against the runs' target, and nothing for a ratio without one", () => {
    const high = Array.from({ length: 8 }, (_, i) => 0.95 + i * 0.01);
    const low = Array.from({ length: 8 }, (_, i) => 0.7 + i * 0.01);
    const spread = Array.from({ length: 8 }, (_, i) => 0.8 + i * 0.05);
    const pooled = poolBenchRuns([benchLine(high, low, spread), benchLine(high, low, spread)]);
    expect(pooled.predictVsEmpty.verdict).toBe('met');
    expect(pooled.predictionLog.verdict).toBe('missed');
    expect(pooled.servingPathVsEmpty).toMatchObject({ target: null, verdict: null });
    const undecided = poolBenchRuns([benchLine(spread, spread)]);
    expect(undecided.predictVsEmpty).toMatchObject({ target: 0.9, verdict: 'undecided' });
  });

  it('refuses runs with different targets, and no runs at all', () => {
    const v = [0.9, 0.95, 1];
    expect(() => poolBenchRuns([benchLine(v, v, v, 0.9), benchLine(v, v, v, 0.8)])).toThrow(/different targets \(0\.9, 0\.8\)/);
    expect(() => poolBenchRuns([])).toThrow(/no bench runs/);
  });
});

describe('benchLineOf', () => {
  it("finds the bench line after npm's preamble, and names the file when there is none or it has no rounds", () => {
    const line = benchLine([0.9, 1], [0.95, 0.96]);
    expect(benchLineOf(`\n> heart-disease-mlops@0.1.0 bench\n> exec node bench/api.bench.ts\n\n${JSON.stringify(line)}\n`, 'x')).toEqual(
      line,
    );
    expect(() => benchLineOf('> npm\n{"bench":"train"}\n', 'run-1.json')).toThrow(/run-1\.json: no line of npm run bench/);
    const old = { ...line, predictionLog: { ratio: 0.9, target: 0.9 } };
    expect(() => benchLineOf(JSON.stringify(old), 'old.json')).toThrow(/old\.json: predictionLog\.pairedRatios missing/);
    const untargeted = { ...line, targets: {} };
    expect(() => benchLineOf(JSON.stringify(untargeted), 'x.json')).toThrow(/x\.json: targets\.ratio or predictionLog\.target missing/);
  });
});

describe('npm run bench:pool', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hd-bench-pool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ['--import', 'tsx', 'bench/pool.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } }).then(
      (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  it('prints the pooled ratios of saved runs as one JSON line', async () => {
    const files = [0, 1].map((i) => path.join(dir, `run-${i}.json`));
    writeFileSync(files[0]!, `> bench\n${JSON.stringify(benchLine([0.91, 0.93, 0.95], [0.92, 0.94, 0.96]))}\n`);
    writeFileSync(files[1]!, `${JSON.stringify(benchLine([0.97, 0.99, 1.01], [0.98, 1.0, 1.02]))}\n`);
    const result = await cli(files);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ bench: 'api-pooled', runs: 2, level: 0.9 });
    expect(out.ratios.predictVsEmpty).toMatchObject({ rounds: 6, median: 0.96, runMedians: [0.93, 0.99] });
    expect(out.ratios.predictionLog.median).toBeCloseTo(0.97, 12);
  });

  it('exits 2 with usage for no files or a bad level, 1 naming an unreadable or wrong file', async () => {
    expect(await cli([])).toMatchObject({ code: 2, stderr: expect.stringMatching(/usage: npm run bench:pool/) });
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(benchLine([1], [1])));
    expect(await cli([good], { BENCH_POOL_LEVEL: '90' })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/BENCH_POOL_LEVEL must be between 0 and 1/),
    });
    const wrong = path.join(dir, 'wrong.json');
    writeFileSync(wrong, 'not a bench\n');
    expect(await cli([good, wrong])).toMatchObject({ code: 1, stderr: expect.stringContaining(`${wrong}: no line of npm run bench`) });
    expect(await cli([path.join(dir, 'missing.json')])).toMatchObject({ code: 1, stderr: expect.stringMatching(/ENOENT/) });
  });
});
