/**
 * The chart's MLflow container command, rendered by the real helm and run by the real `mlflow server` (the version
 * scripts/ci/install-mlflow.sh pins): with only the listen address and the volume's mount path moved to this machine,
 * it starts, keeps its store and artifacts under the mount, and its allowed-hosts list accepts the Host headers the
 * cluster sends (the Service's names, a NodePort on a node address) and refuses a foreign one (MLflow 3's DNS-rebinding
 * protection answers 403). The pod itself (image, user, PVC) is only rendered, never run here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { mlflowAvailable } from '../tracking/mlflow-server.js';
import { realComponent } from '../support/real-component.js';
import { podSpecOf } from './policy.js';
import { helmBin, helmTemplate } from './render.js';

const haveHelm = realComponent('helm', helmBin !== undefined, 'no helm on PATH, HELM_BIN or ~/go/bin (bash scripts/ci/install-helm.sh)');
const probe = mlflowAvailable();
const haveMlflow = realComponent('mlflow', probe.available, probe.reason);

describe.runIf(haveHelm && haveMlflow)("the chart's MLflow command on a real mlflow server", () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'hd-chart-mlflow-'));
  let base = '';
  let stop = () => undefined as void;
  let serviceHost = '';

  beforeAll(async () => {
    const objects = helmTemplate('hd', 'ml', [], ['--set', 'mlflow.enabled=true']);
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'mlflow')!;
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.labels?.['app.kubernetes.io/component'] === 'mlflow')!;
    serviceHost = `${service.metadata.name}.ml.svc:5000`;
    const container = podSpecOf(deployment)!.containers[0] as unknown as {
      command: string[];
      volumeMounts: Array<{ name: string; mountPath: string }>;
    };
    const mount = container.volumeMounts.find((m) => m.name === 'data')!.mountPath;
    const port = await freePort();
    // Only where it listens and where the volume is differ from the pod.
    const args = container.command
      .slice(1)
      .map((arg) => (arg.startsWith('--host=') ? '--host=127.0.0.1' : arg.startsWith('--port=') ? `--port=${port}` : arg))
      .map((arg) => arg.replaceAll(`${mount}/`, `${path.join(scratch, 'volume')}/`));
    expect(container.command[0]).toBe('mlflow');
    const log = openSync(path.join(scratch, 'server.log'), 'a');
    const child = spawn('mlflow', args, { detached: true, stdio: ['ignore', log, log], cwd: scratch });
    let exited = false;
    child.on('exit', () => (exited = true));
    stop = () => {
      try {
        if (!exited) process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 240_000;
    for (;;) {
      const ok = await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (exited || Date.now() > deadline)
        throw new Error(`mlflow did not start:\n${readFileSync(path.join(scratch, 'server.log'), 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 300_000);

  afterAll(async () => {
    stop();
    await new Promise((r) => setTimeout(r, 1_000));
    rmSync(scratch, { recursive: true, force: true });
  });

  /** An MLflow REST call with the given Host header (fetch cannot set Host; node:http can). */
  async function call(host: string, method = 'GET', route = 'experiments/search?max_results=1', body?: object) {
    const { request } = await import('node:http');
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers = { host, ...(body ? { 'content-type': 'application/json' } : {}) };
      const req = request(`${base}/api/2.0/mlflow/${route}`, { method, headers }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
  }
  const statusWithHost = async (host: string) => (await call(host)).status;

  it('keeps the backend store on the volume', () => {
    expect(existsSync(path.join(scratch, 'volume', 'mlflow.db'))).toBe(true);
  });

  it("accepts the Service's names and a NodePort on a node address, refuses a foreign Host", async () => {
    expect(await statusWithHost(serviceHost)).toBe(200);
    expect(await statusWithHost(serviceHost.replace('.ml.svc:5000', ':5000'))).toBe(200);
    expect(await statusWithHost('192.168.49.2:30500')).toBe(200);
    expect(await statusWithHost('localhost:5000')).toBe(200);
    expect(await statusWithHost('mlflow.attacker.example')).toBe(403);
  });

  it('registers a model (the registry the API and the CronJob use answers)', async () => {
    const created = await call(serviceHost, 'POST', 'registered-models/create', { name: 'chart-check' });
    expect(created.status, created.text).toBe(200);
    expect((JSON.parse(created.text) as { registered_model: { name: string } }).registered_model.name).toBe('chart-check');
  });
});
