import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realComponent } from '../support/real-component.js';
import { clevelandFile } from '../support/paths.js';
import { runTrainCli } from '../support/run-cli.js';
import { mlflowAvailable, startMlflowServer, type RunningMlflow } from '../tracking/mlflow-server.js';

const probe = mlflowAvailable();

// End to end: the training CLI itself, pointed at a real `mlflow server` by MLFLOW_TRACKING_URI.
describe.runIf(realComponent('mlflow', probe.available, probe.reason))('npm run train with MLFLOW_TRACKING_URI', () => {
  let server: RunningMlflow;
  beforeAll(async () => {
    server = await startMlflowServer();
  });
  afterAll(async () => server?.stop());

  it('logs the run, its metrics and artifacts, and registers the model version', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'hd-train-mlflow-'));
    const result = await runTrainCli(['--data', clevelandFile, '--out', path.join(work, 'out'), '--runs-dir', path.join(work, 'runs')], {
      MLFLOW_TRACKING_URI: server.uri,
    });
    expect(result.code, result.stderr).toBe(0);
    const match = result.stdout.match(/mlflow: \S*\/runs\/([0-9a-f]{32}) \(registered model version (\d+)\)/);
    expect(match, result.stdout).not.toBeNull();
    const runId = match![1]!;

    const run = (await (await fetch(`${server.uri}/api/2.0/mlflow/runs/get?run_id=${runId}`)).json()) as {
      run: { info: { status: string }; data: { metrics: { key: string; value: number }[]; params: { key: string; value: string }[] } };
    };
    expect(run.run.info.status).toBe('FINISHED');
    const auc = run.run.data.metrics.find((m) => m.key === 'logistic_regression.cv.rocAuc');
    expect(auc?.value).toBeGreaterThanOrEqual(0.88);
    expect(run.run.data.params.find((p) => p.key === 'seed')?.value).toBe('42');

    const list = async (dir: string) =>
      (
        (await (await fetch(`${server.uri}/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=${dir}`)).json()) as {
          files: { path: string }[];
        }
      ).files;
    expect((await list('')).map((f) => f.path)).toEqual(['model']);
    expect((await list('model')).map((f) => f.path).sort()).toEqual(['model/model.json', 'model/model.onnx', 'model/report.html']);

    const versions = (await (
      await fetch(`${server.uri}/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent("name='heart-disease-risk'")}`)
    ).json()) as { model_versions: { run_id: string; version: string; source: string; tags: { key: string; value: string }[] }[] };
    const version = versions.model_versions.find((v) => v.run_id === runId && v.version === match![2]);
    expect(version?.source).toMatch(new RegExp(`/${runId}/artifacts/model$`));
    const modelVersion = result.stdout.match(/^version: (\S+)$/m)?.[1];
    expect(version?.tags).toContainEqual({ key: 'model_version', value: modelVersion });
    expect(version?.tags.map((t) => t.key).sort()).toEqual(['contract_version', 'git_commit', 'model_version', 'onnx_sha256']);
  });
});
