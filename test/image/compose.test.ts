/**
 * deploy/docker-compose.yml as the README's local-stack section uses it, with Docker Compose v2 (`docker compose`):
 * valid for the real CLI, wired together (the API built from the Dockerfile, Prometheus and Grafana with files that
 * exist in the repo, every port bound to 127.0.0.1), and the API service really builds and serves with
 * `docker compose up`. The other three services need images pulled from a registry, which this machine cannot reach.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MODEL_FILES } from '../../src/contract/artifact-contract.js';
import { freePort } from '../../scripts/lib/free-port.js';
import { defaultExtraCaCert, stageExtraCa } from '../../scripts/image/build/build-image.js';
import { repoRoot } from '../../scripts/lib/model-dir.js';
import { dockerEngineStatus, runChecked, runProcess } from '../../scripts/lib/process.js';
import { waitUntilReady } from '../../scripts/lib/api-process.js';
import { testModelDir } from '../api/support/model.js';
import { removeStaleTestProjects, TEST_PROJECT_PREFIX } from '../support/compose-projects.js';
import { realComponent } from '../support/real-component.js';

const composeFile = path.join(repoRoot, 'deploy/docker-compose.yml');
const version = await runProcess('docker', ['compose', 'version', '--short']).catch(() => null);
const available = realComponent(
  'Docker Compose v2',
  version?.code === 0 && /^2\./.test(version.stdout.trim()),
  `\`docker compose version\` gave ${version?.stdout.trim() || version?.stderr.trim() || 'nothing'} (run scripts/ci/install-compose.sh)`,
);
// The builds need the engine too (`docker compose version` answers without one); the file checks do not.
const engine = available ? await dockerEngineStatus() : null;
const engineUp = engine !== null && realComponent('Docker engine', engine.available, engine.reason);

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: (string | { host_ip?: string; published?: string })[];
  volumes?: (string | { source?: string })[];
}

describe.runIf(available)('deploy/docker-compose.yml with Docker Compose v2', () => {
  const project = `${TEST_PROJECT_PREFIX}test-${process.pid}`;
  const modelContext = path.join(repoRoot, 'artifacts', `compose-test-${process.pid}`);
  // Its own image name: the file's default (heart-disease-api:latest) belongs to npm run image:build.
  const testImage = `heart-disease-api-compose-test:${process.pid}`;
  beforeAll(async () => {
    if (engineUp) await removeStaleTestProjects();
  });
  afterAll(async () => {
    await runProcess('docker', ['compose', '-p', project, '-f', composeFile, 'down', '--volumes'], { env: { API_IMAGE: testImage } });
    await runProcess('docker', ['image', 'rm', '--force', testImage]);
    rmSync(modelContext, { recursive: true, force: true });
  });

  it('is accepted by `docker compose config` and resolves to the four services, every port on 127.0.0.1', async () => {
    const result = await runProcess('docker', ['compose', '-f', composeFile, 'config', '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const resolved = JSON.parse(result.stdout) as { services: Record<string, ComposeService> };
    expect(Object.keys(resolved.services).sort()).toEqual(['api', 'grafana', 'mlflow', 'prometheus']);
    const api = resolved.services.api!;
    expect(api.build?.context).toBe(repoRoot);
    expect(api.build?.dockerfile).toBe('Dockerfile');
    for (const [name, service] of Object.entries(resolved.services)) {
      for (const port of service.ports ?? []) {
        expect(typeof port === 'string' ? port : port.host_ip, `${name} publishes ${JSON.stringify(port)}`).toMatch(/^127\.0\.0\.1/);
      }
    }
  });

  it('mounts only files and directories that exist in the repository', () => {
    const raw = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, { volumes?: string[] }> };
    const mounts = Object.values(raw.services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => v.split(':')[0]!)
      .filter((source) => source.startsWith('./'));
    expect(mounts.length).toBeGreaterThanOrEqual(4);
    for (const source of mounts) expect(existsSync(path.resolve(path.dirname(composeFile), source)), source).toBe(true);
  });

  it.runIf(engineUp)('`docker compose up --build api` builds the image and serves the model on the published port', async () => {
    // The build context needs a model inside the repository; the image build reads artifacts/**/model.*.
    mkdirSync(modelContext, { recursive: true });
    for (const file of [MODEL_FILES.onnx, MODEL_FILES.card]) cpSync(path.join(testModelDir(), file), path.join(modelContext, file));
    const base = (await runChecked('bash', [path.join(repoRoot, 'scripts/image/build/ensure-base-image.sh')])).trim().split('\n').pop()!;
    const port = await freePort();
    const env = {
      BASE_IMAGE: base,
      MODEL_DIR_CONTEXT: path.relative(repoRoot, modelContext),
      API_HOST_PORT: String(port),
      API_IMAGE: testImage,
    };
    stageExtraCa(defaultExtraCaCert());
    const up = await runProcess('docker', ['compose', '-p', project, '-f', composeFile, 'up', '--build', '--detach', 'api'], {
      env,
      timeoutMs: 600_000,
    });
    expect(up.code, up.stderr.slice(-3000)).toBe(0);
    await waitUntilReady(`http://127.0.0.1:${port}`, {
      timeoutMs: 60_000,
      stillRunning: async () =>
        (await runProcess('docker', ['compose', '-p', project, '-f', composeFile, 'ps', '-q', 'api'], { env })).stdout.trim() !== '',
    });
    const model = (await (await fetch(`http://127.0.0.1:${port}/model`)).json()) as { modelVersion: string };
    const card = JSON.parse(readFileSync(path.join(modelContext, MODEL_FILES.card), 'utf8')) as { modelVersion: string };
    expect(model.modelVersion).toBe(card.modelVersion);
  });
});
