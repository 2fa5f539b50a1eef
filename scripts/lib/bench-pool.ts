/**
 * Several runs of `npm run bench` read as one sample: each ratio's paired rounds from every run, pooled, with the
 * median's order-statistic interval and the verdict against the run's own target. Why: on a host whose speed drifts
 * and where a process keeps its luck for its whole life, one run's rounds share their processes, so its interval is
 * narrower than the run-to-run spread; runs start fresh processes, and pooling them samples that spread too.
 */
import { medianInterval, targetVerdict, type TargetVerdict } from './median-interval.js';
import { median } from './process.js';

/** The ratios a bench line carries, with where its target is (null: reported without a target). */
export const POOLED_RATIOS = {
  predictVsEmpty: (line: BenchLine) => line.targets.ratio,
  servingPathVsEmpty: () => null,
  predictionLog: (line: BenchLine) => line.predictionLog.target,
} as const;
export type PooledRatioName = keyof typeof POOLED_RATIOS;

interface RatioPart {
  ratio: number;
  pairedRatios: number[];
}

/** What pooling reads of a bench line (its other fields are ignored). */
export interface BenchLine {
  bench: 'api';
  targets: { ratio: number };
  predictVsEmpty: RatioPart;
  servingPathVsEmpty: RatioPart;
  predictionLog: RatioPart & { target: number };
}

export interface PooledRatio {
  /** Each run's own median, in the order given. */
  runMedians: number[];
  rounds: number;
  median: number;
  interval: { low: number; high: number; coverage: number | null };
  target: number | null;
  verdict: TargetVerdict | null;
}

/**
 * The bench's line in a saved output: the last line that parses as a JSON object with `bench: "api"` (npm prints its
 * own lines first). Throws naming `source` when there is none or it lacks paired rounds.
 */
export function benchLineOf(text: string, source: string): BenchLine {
  for (const line of text.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const candidate = parsed as Partial<BenchLine>;
    if (candidate.bench !== 'api') continue;
    for (const name of Object.keys(POOLED_RATIOS) as PooledRatioName[]) {
      const part = candidate[name] as Partial<RatioPart> | undefined;
      if (!Array.isArray(part?.pairedRatios) || part.pairedRatios.length === 0 || !part.pairedRatios.every(Number.isFinite))
        throw new Error(`${source}: ${name}.pairedRatios missing or not numbers (a bench line from before paired rounds?)`);
    }
    if (!Number.isFinite(candidate.targets?.ratio) || !Number.isFinite(candidate.predictionLog?.target))
      throw new Error(`${source}: targets.ratio or predictionLog.target missing or not a number`);
    return candidate as BenchLine;
  }
  throw new Error(`${source}: no line of npm run bench's JSON output ({"bench":"api",...})`);
}

/** Every ratio pooled over `runs` (at least one). Runs with different targets for the same ratio are refused. */
export function poolBenchRuns(runs: readonly BenchLine[], level = 0.9): Record<PooledRatioName, PooledRatio> {
  if (runs.length === 0) throw new Error('no bench runs to pool');
  const pooled = {} as Record<PooledRatioName, PooledRatio>;
  for (const [name, targetOf] of Object.entries(POOLED_RATIOS) as [PooledRatioName, (line: BenchLine) => number | null][]) {
    const targets = new Set(runs.map(targetOf));
    if (targets.size > 1) throw new Error(`${name}: the runs have different targets (${[...targets].join(', ')})`);
    const target = targets.values().next().value ?? null;
    const values = runs.flatMap((run) => run[name].pairedRatios);
    const interval = medianInterval(values, level);
    pooled[name] = {
      runMedians: runs.map((run) => run[name].ratio),
      rounds: values.length,
      median: median(values),
      interval,
      target,
      verdict: target === null ? null : targetVerdict(interval, target),
    };
  }
  return pooled;
}
