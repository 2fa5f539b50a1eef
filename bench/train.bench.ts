/**
 * `npm run bench:train`: wall time of a full training run (load, both models with CV, hold-out, ONNX export
 * with parity check, model card), as one JSON line. Baseline in the same run: loading and validating the data alone,
 * so the ratio shows what the modelling costs on this machine. Not a test: nothing here asserts a time.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { FEATURE_SCHEMA } from '../src/features/feature-schema.js';
import { loadDataset } from '../src/train/data/load.js';
import { runTraining } from '../src/train/pipeline.js';

const data = process.env.UCI_DATA_DIR
  ? path.join(process.env.UCI_DATA_DIR, 'processed.cleveland.data')
  : path.resolve('../shared/data/uci-heart-disease/processed.cleveland.data');
const runs = Number(process.env.BENCH_RUNS ?? 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const loadTimes: number[] = [];
const trainTimes: number[] = [];
for (let i = 0; i < runs; i++) {
  let t = performance.now();
  await loadDataset([data], FEATURE_SCHEMA.features);
  loadTimes.push(performance.now() - t);
  const out = await mkdtemp(path.join(os.tmpdir(), 'hd-bench-train-'));
  t = performance.now();
  await runTraining({
    dataPaths: [data],
    outDir: out,
    seed: 42,
    minAuc: 0.85,
    folds: 5,
    holdoutFraction: 0.2,
    exportAll: false,
    schema: FEATURE_SCHEMA,
    producerVersion: 'bench',
    gitCommit: null,
    log: () => {},
  });
  trainTimes.push(performance.now() - t);
}
console.log(
  JSON.stringify({
    bench: 'train',
    runs,
    data: path.basename(data),
    train_wall_ms_median: Math.round(median(trainTimes)),
    train_wall_ms_all: trainTimes.map(Math.round),
    baseline_load_validate_ms_median: Math.round(median(loadTimes) * 10) / 10,
    ratio_train_to_load: Math.round(median(trainTimes) / median(loadTimes)),
    node: process.version,
    cpus: os.cpus().length,
  }),
);
