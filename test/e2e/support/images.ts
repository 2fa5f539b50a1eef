/**
 * The images the end-to-end deploy tests roll out, in the cluster's image store:
 *   v1, v2  the API with two model versions (the test model, seed 42, and one trained with seed 7);
 *   broken  the API with a model.json of another contract version: the container starts, refuses the model, never
 *           becomes ready;
 *   missing a reference no store has (deployed with pullPolicy Never, so nothing tries a registry).
 * Built from the API image `npm run image:build` makes with only the model layer replaced, so each build takes seconds, then loaded into the node with scripts/cluster/load-image.sh. E2E_IMAGES (JSON of this
 * module's E2eImages) names images already in the cluster instead: the Dagger `e2e` function imports them into k3s.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { CONTRACT_VERSION, IMAGE_NAME, MODEL_FILES } from '../../../src/contract/artifact-contract.js';
import { imageLabels, imageReference } from '../../../src/contract/image.js';
import { docker, dockerChecked } from '../../../scripts/lib/process.js';
import { testModelDir } from '../../api/support/model.js';
import { CLUSTER_SCRIPTS } from '../../support/cluster.js';
import { clevelandFile, repoRoot } from '../../support/paths.js';

export interface E2eImage {
  ref: string;
  modelVersion: string;
}

export interface E2eImages {
  v1: E2eImage;
  v2: E2eImage;
  broken: E2eImage;
  missing: string;
}

/**
 * The images the derived ones may start from (only their code layers are kept): the one `npm run image:build` made
 * for this checkout's artifacts/ (<image>:<model version>), else <image>:latest. The versioned tag first, because
 * :latest is moved by every image build on the machine (and has been seen to vanish while other tests ran).
 */
export function baseImageCandidates(): string[] {
  const card = path.join(repoRoot, 'artifacts', MODEL_FILES.card);
  return [...(existsSync(card) ? [imageReference(modelVersionOf(path.dirname(card)))] : []), `${IMAGE_NAME}:latest`];
}

/** A repository of their own, so no tag `npm run image:build` or the image tests make is ever replaced. */
const E2E_REPOSITORY = `${IMAGE_NAME}-e2e`;
const run = promisify(execFile);

export const preloadedImages = (): E2eImages | undefined =>
  process.env.E2E_IMAGES ? (JSON.parse(process.env.E2E_IMAGES) as E2eImages) : undefined;

function trainSeed(seed: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `hd-e2e-model-${seed}-`));
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot, 'src/train/cli.ts'),
      '--data',
      clevelandFile,
      '--out',
      dir,
      '--no-track',
      '--seed',
      String(seed),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], timeout: 240_000 },
  );
  return dir;
}

const modelVersionOf = (dir: string) =>
  (JSON.parse(readFileSync(path.join(dir, MODEL_FILES.card), 'utf8')) as { modelVersion: string }).modelVersion;

/** `base` with the model in `modelDir`, labelled as the contract says; returns its reference. */
async function imageWithModel(base: string, modelDir: string, ref: string): Promise<string> {
  const context = mkdtempSync(path.join(os.tmpdir(), 'hd-e2e-image-'));
  try {
    for (const file of [MODEL_FILES.onnx, MODEL_FILES.card]) cpSync(path.join(modelDir, file), path.join(context, file));
    const card = JSON.parse(readFileSync(path.join(modelDir, MODEL_FILES.card), 'utf8')) as { modelVersion: string; createdAt: string };
    writeFileSync(path.join(context, 'Dockerfile'), `FROM ${base}\nCOPY ${MODEL_FILES.onnx} ${MODEL_FILES.card} /app/artifacts/\n`);
    const labels = imageLabels({
      modelVersion: card.modelVersion,
      revision: 'e2e-test',
      version: '0.0.0-e2e',
      created: card.createdAt,
      source: 'test/e2e',
    });
    await dockerChecked(
      ['build', '--quiet', '--tag', ref, ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), context],
      {
        env: { DOCKER_BUILDKIT: '0' },
        timeoutMs: 180_000,
      },
    );
    return ref;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** The first of baseImageCandidates() that Docker has. */
export async function findBaseImage(): Promise<string | undefined> {
  for (const ref of baseImageCandidates()) if ((await docker(['image', 'inspect', ref])).code === 0) return ref;
  return undefined;
}

/** Builds v1, v2 and broken from the base image and loads them into the cluster (or takes E2E_IMAGES). */
export async function prepareImages(log: (line: string) => void): Promise<E2eImages> {
  const preloaded = preloadedImages();
  if (preloaded) return preloaded;
  const base = await findBaseImage();
  if (!base) throw new Error(`Docker has none of ${baseImageCandidates().join(', ')} (npm run train && npm run image:build)`);
  const started = Date.now();
  const v1Dir = testModelDir();
  const v2Dir = trainSeed(7);
  const brokenDir = mkdtempSync(path.join(os.tmpdir(), 'hd-e2e-broken-'));
  try {
    const [v1Version, v2Version] = [modelVersionOf(v1Dir), modelVersionOf(v2Dir)];
    if (v1Version === v2Version) throw new Error(`seeds 42 and 7 gave the same model version ${v1Version}`);
    cpSync(v1Dir, brokenDir, { recursive: true });
    const card = JSON.parse(readFileSync(path.join(brokenDir, MODEL_FILES.card), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(brokenDir, MODEL_FILES.card), JSON.stringify({ ...card, contractVersion: CONTRACT_VERSION + 1 }));
    const images: E2eImages = {
      v1: { ref: await imageWithModel(base, v1Dir, imageReference(v1Version, E2E_REPOSITORY)), modelVersion: v1Version },
      v2: { ref: await imageWithModel(base, v2Dir, imageReference(v2Version, E2E_REPOSITORY)), modelVersion: v2Version },
      broken: {
        ref: await imageWithModel(base, brokenDir, imageReference(`${v1Version}-broken-contract`, E2E_REPOSITORY)),
        modelVersion: v1Version,
      },
      missing: imageReference(`missing-${Date.now()}`, E2E_REPOSITORY),
    };
    // One at a time, and once more on a failure: imports of images sharing layers at the same moment (another test
    // may load one too) have been seen to leave a name missing.
    for (const { ref } of [images.v1, images.v2, images.broken]) {
      const load = () => run('bash', [path.join(CLUSTER_SCRIPTS, 'load-image.sh'), ref], { timeout: 300_000 });
      await load().catch(load);
    }
    log(
      `e2e images built and loaded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${images.v1.ref}, ${images.v2.ref}, ${images.broken.ref}`,
    );
    return images;
  } finally {
    rmSync(v2Dir, { recursive: true, force: true });
    rmSync(brokenDir, { recursive: true, force: true });
  }
}

/**
 * `ref` under `<repository>:<image id>` (a tag no other build moves), loaded into the cluster; returns that reference.
 * For images used as they are (the API serving from the registry, the trainer).
 */
export async function loadPinned(ref: string, repository: string): Promise<string> {
  const id = (await dockerChecked(['image', 'inspect', '--format', '{{.Id}}', ref])).trim().replace(/^sha256:/, '');
  const pinned = `${repository}:${id.slice(0, 12)}`;
  await dockerChecked(['tag', ref, pinned]);
  const load = () => run('bash', [path.join(CLUSTER_SCRIPTS, 'load-image.sh'), pinned], { timeout: 300_000 });
  await load().catch(load);
  return pinned;
}
