import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { docker, runChecked, runProcess } from '../../lib/process.js';
import { DEFAULT_IMAGE_SOURCE, IMAGE_NAME, MODEL_FILES, TRAINER_IMAGE_NAME } from '../../../src/contract/artifact-contract.js';
import { imageLabels, imageReference, imageTag, trainerImageLabels } from '../../../src/contract/image.js';
import { readModelCard, repoRoot } from '../../lib/model-dir.js';

/** What every image build takes. */
interface CommonBuildOptions {
  /** Requested base image; falls back to the locally built Debian + node base when it cannot be pulled. */
  baseImage?: string;
  /** PEM bundle npm must trust inside the build (TLS-intercepting proxy); null = none. */
  extraCaCert?: string | null;
  log?: (line: string) => void;
  echo?: (chunk: string) => void;
}

export interface BuildOptions extends CommonBuildOptions {
  /** Build-context directory (relative to the repo root) holding model.onnx + model.json. */
  modelDir: string;
  /** Image repository (default the contract's image name); tagged <repository>:<model tag> and :latest. */
  repository?: string;
}

export interface TrainerBuildOptions extends CommonBuildOptions {
  /** Image repository (default the contract's trainer image name); tagged <repository>:<package version> and :latest. */
  repository?: string;
}

export interface TrainerBuildResult {
  tags: string[];
  baseImage: string;
  buildSeconds: number;
  sizeBytes: number;
}

export interface BuildResult extends TrainerBuildResult {
  baseImageSeconds: number;
  modelVersion: string;
}

const CA_TARGET = path.join(repoRoot, 'scripts/image/build/certs/extra-ca.crt');

/** Resolve a usable base image (pull, cached, or built offline) via ensure-base-image.sh. */
export async function ensureBaseImage(
  baseImage: string | undefined,
  echo?: (chunk: string) => void,
): Promise<{ image: string; seconds: number }> {
  const started = performance.now();
  const stdout = await runChecked('bash', [path.join(repoRoot, 'scripts/image/build/ensure-base-image.sh')], {
    env: baseImage ? { BASE_IMAGE: baseImage } : {},
    echo: (chunk) => echo?.(chunk),
  });
  const image = stdout.trim().split('\n').pop()?.trim();
  if (!image) throw new Error('ensure-base-image.sh printed no image reference');
  return { image, seconds: (performance.now() - started) / 1000 };
}

/**
 * The CA bundle the image build's npm should trust (a proxy's CA on machines that intercept TLS): EXTRA_CA_CERT, else
 * what Node and OpenSSL on this machine are told to trust; null when none is set.
 */
export function defaultExtraCaCert(): string | null {
  return process.env.EXTRA_CA_CERT ?? process.env.NODE_EXTRA_CA_CERTS ?? process.env.SSL_CERT_FILE ?? null;
}

/**
 * Put `extraCaCert` where the Dockerfile's install stages read it (scripts/image/build/certs/extra-ca.crt). Every
 * build of those stages needs it first, `docker compose build` included: without it npm ci fails behind such a proxy.
 */
export function stageExtraCa(extraCaCert: string | null | undefined): void {
  if (!extraCaCert) return;
  if (!existsSync(extraCaCert)) throw new Error(`EXTRA_CA_CERT: ${extraCaCert} does not exist`);
  const pem = readFileSync(extraCaCert, 'utf8');
  if (!pem.includes('BEGIN CERTIFICATE')) throw new Error(`EXTRA_CA_CERT: ${extraCaCert} is not a PEM certificate bundle`);
  if (existsSync(CA_TARGET) && readFileSync(CA_TARGET, 'utf8') === pem) return;
  copyFileSync(extraCaCert, CA_TARGET);
}

async function gitValue(args: string[], fallback: string): Promise<string> {
  const result = await runProcess('git', args, { cwd: repoRoot }).catch(() => null);
  const value = result?.code === 0 ? result.stdout.trim() : '';
  return value || fallback;
}

interface Builder {
  kind: 'buildkit' | 'classic';
  command: string;
  env: NodeJS.ProcessEnv;
  description: string;
}

/**
 * BuildKit builds the independent stages in parallel (about 80 s instead of 135 s cold here). A docker CLI >= 23
 * only reaches BuildKit through the buildx plugin, which Debian bookworm does not package; the engine's own 20.10
 * CLI (/usr/bin/docker from docker.io) still drives the built-in BuildKit with DOCKER_BUILDKIT=1. Without either,
 * the classic builder works too (the Dockerfile uses no BuildKit-only syntax). DOCKER_BUILDKIT=0 forces classic.
 */
export async function chooseBuilder(): Promise<Builder> {
  if (process.env.DOCKER_BUILDKIT === '0')
    return { kind: 'classic', command: 'docker', env: { DOCKER_BUILDKIT: '0' }, description: 'classic (DOCKER_BUILDKIT=0)' };
  const buildx = await runProcess('docker', ['buildx', 'version']).catch(() => null);
  if (buildx?.code === 0)
    return { kind: 'buildkit', command: 'docker', env: { DOCKER_BUILDKIT: '1' }, description: `BuildKit via ${buildx.stdout.trim()}` };
  const engineCli = '/usr/bin/docker';
  if (existsSync(engineCli)) {
    const version = await runProcess(engineCli, ['version', '--format', '{{.Client.Version}}']).catch(() => null);
    const major = Number(version?.stdout.trim().split('.')[0]);
    if (version?.code === 0 && major > 0 && major < 23) {
      return {
        kind: 'buildkit',
        command: engineCli,
        env: { DOCKER_BUILDKIT: '1' },
        description: `BuildKit via ${engineCli} ${version.stdout.trim()}`,
      };
    }
  }
  return { kind: 'classic', command: 'docker', env: { DOCKER_BUILDKIT: '0' }, description: 'classic builder (no buildx, no pre-23 CLI)' };
}

export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const log = options.log ?? (() => undefined);
  const card = readModelCard(options.modelDir);
  for (const file of [MODEL_FILES.onnx, MODEL_FILES.card]) {
    if (!existsSync(path.join(repoRoot, options.modelDir, file)))
      throw new Error(`${options.modelDir}/${file} is missing; run \`npm run train\` first`);
  }
  if (path.isAbsolute(options.modelDir) || options.modelDir.startsWith('..')) {
    throw new Error(`modelDir must be a directory inside the repository (build context), got ${options.modelDir}`);
  }

  const { base, version, revision, source } = await prepareBuild(options, log);
  const repository = options.repository ?? IMAGE_NAME;
  const tags = [imageReference(card.modelVersion, repository), `${repository}:latest`];
  const buildArgs: Record<string, string> = {
    BASE_IMAGE: base.image,
    MODEL_DIR_CONTEXT: options.modelDir.replace(/\/+$/, ''),
  };
  // The model's creation time, not the wall clock: rebuilding one model gives the same labels.
  const labels = imageLabels({ modelVersion: card.modelVersion, revision, version, created: card.createdAt, source });
  const built = await dockerBuild({ target: 'runtime', tags, buildArgs, labels, log, echo: options.echo });
  return { tags, baseImage: base.image, baseImageSeconds: base.seconds, ...built, modelVersion: card.modelVersion };
}

/** What both builds do first: a base image, the CA staged, and what the labels say (package version, git). */
async function prepareBuild(options: CommonBuildOptions, log: (line: string) => void) {
  const base = await ensureBaseImage(options.baseImage, options.echo);
  log(`base image ${base.image} ready in ${base.seconds.toFixed(1)} s`);
  stageExtraCa(options.extraCaCert);
  const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const revision = await gitValue(['rev-parse', 'HEAD'], 'unknown');
  const source = await gitValue(['remote', 'get-url', 'origin'], DEFAULT_IMAGE_SOURCE);
  return { base, version, revision, source };
}

/** `docker build --target <stage>` of the Dockerfile in the repository root; seconds taken and the image's size. */
async function dockerBuild(request: {
  target: 'runtime' | 'trainer';
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  log: (line: string) => void;
  echo?: (chunk: string) => void;
}): Promise<{ buildSeconds: number; sizeBytes: number }> {
  const args = ['build', '--file', 'Dockerfile', '--target', request.target, ...request.tags.flatMap((t) => ['--tag', t])];
  for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
  for (const [key, value] of Object.entries(request.labels)) args.push('--label', `${key}=${value}`);
  args.push('.');

  const builder = await chooseBuilder();
  request.log(`builder: ${builder.description}`);
  const started = performance.now();
  await runChecked(builder.command, builder.kind === 'buildkit' ? ['build', '--progress=plain', ...args.slice(1)] : args, {
    cwd: repoRoot,
    env: builder.env,
    echo: request.echo,
  });
  const buildSeconds = (performance.now() - started) / 1000;
  const size = await docker(['image', 'inspect', '--format', '{{.Size}}', request.tags[0]!]);
  return { buildSeconds, sizeBytes: Number(size.stdout.trim()) };
}

/**
 * The trainer image: the Dockerfile's `trainer` stage (retraining and its drift trigger, no model and no training data
 * inside), tagged <repository>:<package version> and :latest.
 */
export async function buildTrainerImage(options: TrainerBuildOptions): Promise<TrainerBuildResult> {
  const log = options.log ?? (() => undefined);
  const { base, version, revision, source } = await prepareBuild(options, log);
  const created = await gitValue(['show', '-s', '--format=%cI', 'HEAD'], new Date(0).toISOString());
  const repository = options.repository ?? TRAINER_IMAGE_NAME;
  const tags = [`${repository}:${imageTag(version)}`, `${repository}:latest`];
  const labels = trainerImageLabels({ revision, version, created, source });
  const built = await dockerBuild({ target: 'trainer', tags, buildArgs: { BASE_IMAGE: base.image }, labels, log, echo: options.echo });
  return { tags, baseImage: base.image, ...built };
}
