import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { docker, runChecked, runProcess } from '../../lib/process.js';
import { DEFAULT_IMAGE_SOURCE, IMAGE_NAME, MODEL_FILES } from '../../../src/contract/artifact-contract.js';
import { imageLabels, imageReference } from '../../../src/contract/image.js';
import { readModelCard, repoRoot } from '../../lib/model-dir.js';

export interface BuildOptions {
  /** Build-context directory (relative to the repo root) holding model.onnx + model.json. */
  modelDir: string;
  /** Requested base image; falls back to the locally built Debian + node base when it cannot be pulled. */
  baseImage?: string;
  /** Image repository (default the contract's image name); tagged <repository>:<model tag> and :latest. */
  repository?: string;
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

  const base = await ensureBaseImage(options.baseImage, options.echo);
  log(`base image ${base.image} ready in ${base.seconds.toFixed(1)} s`);
  stageExtraCa(options.extraCaCert);

  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const revision = await gitValue(['rev-parse', 'HEAD'], 'unknown');
  const source = await gitValue(['remote', 'get-url', 'origin'], DEFAULT_IMAGE_SOURCE);
  const repository = options.repository ?? IMAGE_NAME;
  const tags = [imageReference(card.modelVersion, repository), `${repository}:latest`];
  const buildArgs: Record<string, string> = {
    BASE_IMAGE: base.image,
    MODEL_DIR_CONTEXT: options.modelDir.replace(/\/+$/, ''),
  };
  // The model's creation time, not the wall clock: rebuilding one model gives the same labels.
  const labels = imageLabels({ modelVersion: card.modelVersion, revision, version: pkg.version, created: card.createdAt, source });
  const args = ['build', '--file', 'Dockerfile', ...tags.flatMap((t) => ['--tag', t])];
  for (const [key, value] of Object.entries(buildArgs)) args.push('--build-arg', `${key}=${value}`);
  for (const [key, value] of Object.entries(labels)) args.push('--label', `${key}=${value}`);
  args.push('.');

  const builder = await chooseBuilder();
  log(`builder: ${builder.description}`);
  const started = performance.now();
  await runChecked(builder.command, builder.kind === 'buildkit' ? ['build', '--progress=plain', ...args.slice(1)] : args, {
    cwd: repoRoot,
    env: builder.env,
    echo: options.echo,
  });
  const buildSeconds = (performance.now() - started) / 1000;
  const size = await docker(['image', 'inspect', '--format', '{{.Size}}', tags[0]!]);
  return {
    tags,
    baseImage: base.image,
    baseImageSeconds: base.seconds,
    buildSeconds,
    sizeBytes: Number(size.stdout.trim()),
    modelVersion: card.modelVersion,
  };
}
