/**
 * The trainer image (the Dockerfile's `trainer` stage, `npm run image:build:trainer`) built for real and run: non-root,
 * no training data inside, no dev tools but tsx, and the retraining commands answer --help on a read-only root with
 * only the image's scratch paths writable (as the chart's CronJob and compose's trainer service run it).
 * Needs a running engine: scripts/ci/install-docker.sh && scripts/ci/start-docker.sh.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTrainerImage, defaultExtraCaCert, type TrainerBuildResult } from '../../scripts/image/build/build-image.js';
import { docker, dockerEngineStatus, type ProcessResult } from '../../scripts/lib/process.js';
import { TRAINER_IMAGE_NAME } from '../../src/contract/artifact-contract.js';
import { repoRoot } from '../support/paths.js';
import { realComponent } from '../support/real-component.js';
import { packageScripts, TRAINER_SCRIPTS, trainerScriptsDefined } from '../support/trainer-scripts.js';

const engine = await dockerEngineStatus();
const WRITABLE = ['/tmp', '/app/data/raw', '/app/runs', '/app/artifacts'];

describe.runIf(realComponent('docker', engine.available, engine.reason))('trainer image on a real Docker engine', () => {
  let build: TrainerBuildResult;

  /** `docker run` of the image's entrypoint (npm run --silent) hardened like the CronJob: read-only, no capabilities. */
  const runScript = (args: string[]): Promise<ProcessResult> =>
    docker(
      [
        'run',
        '--rm',
        '--read-only',
        '--cap-drop=ALL',
        '--security-opt=no-new-privileges',
        '--network=none',
        ...WRITABLE.flatMap((dir) => ['--tmpfs', `${dir}:rw,uid=10001,gid=10001`]),
        build.tags[0]!,
        ...args,
      ],
      { timeoutMs: 120_000 },
    );
  const shell = (script: string, user?: string) =>
    docker(['run', '--rm', ...(user ? ['--user', user] : []), '--entrypoint', 'sh', build.tags[0]!, '-c', script]);

  beforeAll(async () => {
    build = await buildTrainerImage({
      extraCaCert: defaultExtraCaCert(),
    });
    console.log(
      `[trainer image] ${build.tags.join(', ')}: ${(build.sizeBytes / 1e6).toFixed(1)} MB, built in ${build.buildSeconds.toFixed(1)} s`,
    );
  }, 1_200_000);

  it("is tagged with the contract's trainer name and the package version, labelled, and runs as a numeric non-root user", async () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(build.tags).toEqual([`${TRAINER_IMAGE_NAME}:${version}`, `${TRAINER_IMAGE_NAME}:latest`]);
    const inspect = await docker(['image', 'inspect', '--format', '{{json .Config}}', build.tags[0]!]);
    const config = JSON.parse(inspect.stdout) as { User: string; Entrypoint: string[]; Labels: Record<string, string> };
    expect(config.User).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(config.Entrypoint).toEqual(['npm', 'run', '--silent']);
    expect(config.Labels['org.opencontainers.image.title']).toBe(TRAINER_IMAGE_NAME);
    const id = await shell('id -u');
    expect(Number(id.stdout.trim())).toBeGreaterThan(0);
  });

  it('carries no training data: data/ holds the schema and the download manifest only, no processed.*.data anywhere', async () => {
    const data = await shell('ls -A /app/data');
    expect(data.stdout.trim().split('\n').sort()).toEqual(['feature-schema.json', 'manifest.json']);
    // As root, so no directory is left unsearched.
    const found = await shell(
      "find / -xdev -path /app/node_modules -prune -o \\( -name 'processed.*.data' -o -name '*.onnx' \\) -print",
      '0:0',
    );
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout.trim()).toBe('');
  });

  it('has the production dependencies and tsx, no dev tools', async () => {
    const modules = await shell('ls /app/node_modules /app/node_modules/@types 2>/dev/null');
    const names = modules.stdout.split(/\s+/);
    for (const needed of ['tsx', 'onnxruntime-node', 'arquero', 'typebox']) expect(names, needed).toContain(needed);
    for (const devTool of ['vitest', 'eslint', 'typescript', 'prettier', 'playwright-core', 'autocannon'])
      expect(names, devTool).not.toContain(devTool);
  });

  it('runs `npm run train -- --help` (tsx, sources, dependencies) read-only, without network', async () => {
    const result = await runScript(['train', '--', '--help']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage: npm run train');
  });

  it.runIf(trainerScriptsDefined())('runs `--help` of retrain and retrain:trigger read-only, without network', async () => {
    expect(Object.keys(packageScripts())).toEqual(expect.arrayContaining([...TRAINER_SCRIPTS]));
    for (const script of TRAINER_SCRIPTS) {
      const result = await runScript([script, '--', '--help']);
      expect(result.code, `${script}: ${result.stderr}`).toBe(0);
      expect(result.stdout.length, script).toBeGreaterThan(0);
    }
  });
});
