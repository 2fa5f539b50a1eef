/**
 * `npm run loop`: the whole loop on a laptop (scripts/lib/retrain-loop.ts): MLflow, v1 trained on Cleveland as
 * @champion, the API serving it, half of the Hungarian rows replayed with their outcomes fed back, the trigger
 * retraining under drift, the swap under load, and v1 vs v2 on the other (fresh) Hungarian half.
 * Needs `mlflow` on PATH (scripts/ci/install-mlflow.sh) or MLFLOW_TRACKING_URI of a running server.
 * Data: UCI_DATA_DIR (processed.cleveland.data, processed.hungarian.data); default ../shared/data/uci-heart-disease.
 * Exit 0 when v2 was promoted and served with no failed request, 1 otherwise.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './lib/model-dir.js';
import { runLoop } from './lib/retrain-loop.js';

const dataDir = process.env.UCI_DATA_DIR ?? path.resolve(repoRoot, '../shared/data/uci-heart-disease');
const workDir = await mkdtemp(path.join(os.tmpdir(), 'hd-loop-'));
try {
  const summary = await runLoop({
    workDir,
    clevelandFile: path.join(dataDir, 'processed.cleveland.data'),
    hungarianFile: path.join(dataDir, 'processed.hungarian.data'),
    mlflowUri: process.env.MLFLOW_TRACKING_URI || undefined,
    // A fresh registry has no earlier retraining; a shared one may: the loop shows the decision, not the cool-down.
    triggerArgs: ['--cooldown', '0'],
    log: (line) => console.log(`[loop] ${line}`),
  });
  console.log(JSON.stringify(summary));
  process.exitCode = summary.v2 !== null && summary.load.failed === 0 ? 0 : 1;
} finally {
  await rm(workDir, { recursive: true, force: true });
}
