/**
 * `npm run bench:pool -- <saved output of npm run bench> ...`: the runs' ratios pooled (scripts/lib/bench-pool.ts), as
 * one JSON line on stdout. Save runs with `npm run bench > run-1.json`. Env: BENCH_POOL_LEVEL (0.9: the interval's
 * coverage asked for).
 */
import { readFileSync } from 'node:fs';
import { benchLineOf, poolBenchRuns } from '../scripts/lib/bench-pool.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: npm run bench:pool -- <bench output file> [more files...]\n');
  process.exit(2);
}
const level = Number(process.env.BENCH_POOL_LEVEL ?? 0.9);
if (!(level > 0 && level < 1)) {
  process.stderr.write(`BENCH_POOL_LEVEL must be between 0 and 1, got ${process.env.BENCH_POOL_LEVEL}\n`);
  process.exit(2);
}
try {
  const runs = files.map((file) => benchLineOf(readFileSync(file, 'utf8'), file));
  const pooled = { bench: 'api-pooled', runs: files.length, level, ratios: poolBenchRuns(runs, level) };
  // Four decimals: the rounds' ratios have three; a median of two of them, or a coverage, needs no more.
  const rounded = (_key: string, value: unknown) => (typeof value === 'number' ? Math.round(value * 1e4) / 1e4 : value);
  process.stdout.write(`${JSON.stringify(pooled, rounded)}\n`);
} catch (error) {
  process.stderr.write(`bench:pool: ${(error as Error).message}\n`);
  process.exit(1);
}
