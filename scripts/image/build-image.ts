import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { docker, dockerChecked, runChecked, runProcess } from './process.js';
import { IMAGE_REPOSITORY, readModelCard, repoRoot, tagFromModelVersion } from './image-config.js';

export interface BuildOptions {
  /** Build-context directory (relative to the repo root) holding model.onnx + model.json. */
  modelDir: string;
  /** Requested base image; falls back to the locally built Debian + node base when it cannot be pulled. */
  baseImage?: string;
  /** PEM bundle npm must trust inside the build (TLS-intercepting proxy); null = none. */
  extraCaCert?: string | null;
  log?: (line: string) => void;
  echo?: (chunk: string) => void;
}

export interface BuildResult {
  tags: string[];
  baseImage: string;
  baseImageSeconds: number;
  buildSeconds: number;
  sizeBytes: number;
  modelVersion: string;
}

const CA_TARGET = path.join(repoRoot, 'scripts/image/certs/extra-ca.crt');

/** Resolve a usable base image (pull, cached, or built offline) via ensure-base-image.sh. */
export async function ensureBaseImage(baseImage: string | undefined, echo?: (chunk: string) => void): Promise<{ image: string; seconds: number }> {
  const started = performance.now();
  const stdout = await runChecked('bash', [path.join(repoRoot, 'scripts/image/ensure-base-image.sh')], {
    env: baseImage ? { BASE_IMAGE: baseImage } : {},
    echo: (chunk) => echo?.(chunk),
  });
  const image = stdout.trim().split('\n').pop()?.trim();
  if (!image) throw new Error('ensure-base-image.sh printed no image reference');
  return { image, seconds: (performance.now() - started) / 1000 };
}

function stageExtraCa(extraCaCert: string | null | undefined): void {
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

export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const log = options.log ?? (() => undefined);
  const card = readModelCard(options.modelDir);
  for (const file of ['model.onnx', 'model.json']) {
    if (!existsSync(path.join(repoRoot, options.modelDir, file))) throw new Error(`${options.modelDir}/${file} is missing; run \`npm run train\` first`);
  }
  if (path.isAbsolute(options.modelDir) || options.modelDir.startsWith('..')) {
    throw new Error(`modelDir must be a directory inside the repository (build context), got ${options.modelDir}`);
  }

  const base = await ensureBaseImage(options.baseImage, options.echo);
  log(`base image ${base.image} ready in ${base.seconds.toFixed(1)} s`);
  stageExtraCa(options.extraCaCert);

  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const revision = await gitValue(['rev-parse', 'HEAD'], 'unknown');
  const source = await gitValue(['remote', 'get-url', 'origin'], 'https://github.com/heart-disease-mlops/heart-disease-mlops');
  const tags = [`${IMAGE_REPOSITORY}:${tagFromModelVersion(card.modelVersion)}`, `${IMAGE_REPOSITORY}:latest`];
  const buildArgs: Record<string, string> = {
    BASE_IMAGE: base.image,
    MODEL_DIR_CONTEXT: options.modelDir.replace(/\/+$/, ''),
    MODEL_VERSION: card.modelVersion,
    VCS_REF: revision,
    VERSION: pkg.version,
    CREATED: new Date().toISOString(),
    SOURCE_URL: source,
  };
  const args = ['build', '--file', 'Dockerfile', ...tags.flatMap((t) => ['--tag', t])];
  for (const [key, value] of Object.entries(buildArgs)) args.push('--build-arg', `${key}=${value}`);
  args.push('.');

  const started = performance.now();
  // The Debian engine's classic builder is used (no buildx plugin is packaged); DOCKER_BUILDKIT=0 keeps newer
  // clients from demanding buildx.
  await dockerChecked(args, { cwd: repoRoot, env: { DOCKER_BUILDKIT: '0' }, echo: options.echo });
  const buildSeconds = (performance.now() - started) / 1000;
  const size = await docker(['image', 'inspect', '--format', '{{.Size}}', tags[0]!]);
  return { tags, baseImage: base.image, baseImageSeconds: base.seconds, buildSeconds, sizeBytes: Number(size.stdout.trim()), modelVersion: card.modelVersion };
}
