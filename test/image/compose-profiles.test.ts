/**
 * deploy/docker-compose.yml's optional profiles with Docker Compose v2: `postgres` (the prediction log's database,
 * used by the API through deploy/docker-compose.postgres.yml) and `trainer` (the trainer image running the drift
 * trigger). The resolved configuration is checked; the trainer service is built from the Dockerfile's trainer stage
 * and run. The postgres service needs the postgres image pulled from a registry, which this machine cannot reach, so
 * it is only resolved here, never started.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultExtraCaCert, stageExtraCa } from '../../scripts/image/build/build-image.js';
import { repoRoot } from '../../scripts/lib/model-dir.js';
import { dockerEngineStatus, runChecked, runProcess } from '../../scripts/lib/process.js';
import { realComponent } from '../support/real-component.js';
import { removeStaleTestProjects, TEST_PROJECT_PREFIX } from '../support/compose-projects.js';
import { TRAINER_SCRIPTS } from '../support/trainer-scripts.js';

const composeFile = path.join(repoRoot, 'deploy/docker-compose.yml');
const postgresOverlay = path.join(repoRoot, 'deploy/docker-compose.postgres.yml');
const version = await runProcess('docker', ['compose', 'version', '--short']).catch(() => null);
const available = realComponent(
  'Docker Compose v2',
  version?.code === 0 && /^2\./.test(version.stdout.trim()),
  `\`docker compose version\` gave ${version?.stdout.trim() || version?.stderr.trim() || 'nothing'} (run scripts/ci/install-compose.sh)`,
);
// The builds need the engine too (`docker compose version` answers without one); the file checks do not.
const engine = available ? await dockerEngineStatus() : null;
const engineUp = engine !== null && realComponent('Docker engine', engine.available, engine.reason);

interface Service {
  profiles?: string[];
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: Array<{ host_ip?: string; target: number }>;
  read_only?: boolean;
  cap_drop?: string[];
  tmpfs?: string[];
  depends_on?: Record<string, { condition: string }>;
}

describe.runIf(available)('deploy/docker-compose.yml profiles postgres and trainer (Docker Compose v2)', () => {
  const project = `${TEST_PROJECT_PREFIX}profiles-${process.pid}`;
  const trainerImage = `heart-disease-trainer-compose-test:${process.pid}`;
  const config = async (files: string[], profiles: string[], env: Record<string, string> = {}) => {
    const args = [...files.flatMap((f) => ['-f', f]), ...profiles.flatMap((p) => ['--profile', p]), 'config', '--format', 'json'];
    const result = await runProcess('docker', ['compose', ...args], {
      env: { POSTGRES_PASSWORD: undefined, TRAINER_DATABASE_URL: undefined, ...env },
    });
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { services: Record<string, Service> }).services;
  };
  beforeAll(async () => {
    if (engineUp) await removeStaleTestProjects();
  });
  afterAll(async () => {
    // `run --rm` removes its container, not the project's network and volumes: `down` does.
    if (engineUp)
      await runProcess(
        'docker',
        ['compose', '-p', project, '-f', composeFile, '--profile', 'trainer', 'down', '--volumes', '--remove-orphans'],
        {
          env: { TRAINER_IMAGE: trainerImage },
        },
      );
    await runProcess('docker', ['image', 'rm', '--force', trainerImage]);
  });

  it('without a profile neither service is part of the stack', async () => {
    const services = await config([composeFile], []);
    expect(Object.keys(services)).not.toContain('postgres');
    expect(Object.keys(services)).not.toContain('trainer');
  });

  it('postgres + overlay: the API and the trainer get the same DATABASE_URL, naming the postgres service, its user and database', async () => {
    for (const password of [undefined, 'another-local-password']) {
      const services = await config(
        [composeFile, postgresOverlay],
        ['postgres', 'trainer'],
        password ? { POSTGRES_PASSWORD: password } : {},
      );
      const postgres = services.postgres!;
      const url = new URL(services.api!.environment!.DATABASE_URL!);
      expect(url.protocol).toBe('postgres:');
      expect(url.hostname).toBe('postgres');
      expect(url.port).toBe('5432');
      expect(decodeURIComponent(url.username)).toBe(postgres.environment!.POSTGRES_USER);
      expect(decodeURIComponent(url.password)).toBe(postgres.environment!.POSTGRES_PASSWORD);
      expect(url.pathname).toBe(`/${postgres.environment!.POSTGRES_DB}`);
      expect(services.trainer!.environment!.DATABASE_URL).toBe(services.api!.environment!.DATABASE_URL);
      expect(services.api!.depends_on?.postgres?.condition).toBe('service_healthy');
      for (const port of postgres.ports ?? []) expect(port.host_ip).toBe('127.0.0.1');
    }
  });

  it('trainer: built from the Dockerfile trainer stage, runs the trigger against the api service, hardened, MLflow of the stack', async () => {
    const trainer = (await config([composeFile], ['trainer'])).trainer!;
    expect(trainer.build).toMatchObject({ context: repoRoot, dockerfile: 'Dockerfile', target: 'trainer' });
    expect(trainer.command).toEqual([TRAINER_SCRIPTS[1], '--', '--api-url', 'http://api:8000']);
    expect(trainer.environment!.MLFLOW_TRACKING_URI).toBe('http://mlflow:5000');
    expect(trainer.read_only).toBe(true);
    expect(trainer.cap_drop).toEqual(['ALL']);
    expect(trainer.tmpfs!.map((t) => t.split(':')[0])).toEqual(['/tmp', '/app/data/raw', '/app/runs', '/app/artifacts']);
    const external = (await config([composeFile], ['trainer'], { TRAINER_DATABASE_URL: 'postgres://u:p@db.example:5432/x' })).trainer!;
    expect(external.environment!.DATABASE_URL).toBe('postgres://u:p@db.example:5432/x');
  });

  it.runIf(engineUp)(
    '`docker compose build trainer` builds the trainer stage, and the service runs a script on its read-only root',
    async () => {
      const base = (await runChecked('bash', [path.join(repoRoot, 'scripts/image/build/ensure-base-image.sh')])).trim().split('\n').pop()!;
      const env = { BASE_IMAGE: base, TRAINER_IMAGE: trainerImage };
      stageExtraCa(defaultExtraCaCert());
      const build = await runProcess('docker', ['compose', '-p', project, '-f', composeFile, '--profile', 'trainer', 'build', 'trainer'], {
        env,
        timeoutMs: 900_000,
      });
      // The classic builder writes the steps' output (npm's errors among it) to stdout.
      expect(build.code, `${build.stdout.slice(-3000)}\n${build.stderr.slice(-1500)}`).toBe(0);
      // --no-deps: the api and mlflow services are not needed for --help (and mlflow's image cannot be pulled here).
      const run = await runProcess(
        'docker',
        [
          'compose',
          '-p',
          project,
          '-f',
          composeFile,
          '--profile',
          'trainer',
          'run',
          '--rm',
          '--no-deps',
          'trainer',
          'train',
          '--',
          '--help',
        ],
        { env, timeoutMs: 120_000 },
      );
      expect(run.code, run.stderr.slice(-3000)).toBe(0);
      expect(run.stdout).toContain('Usage: npm run train');
      // The build alone may take its 900 s on a cold cache (npm ci and tsc inside the builder), beside other tests.
    },
    1_200_000,
  );
});
