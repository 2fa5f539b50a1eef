import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const IMAGE_REPOSITORY = process.env.IMAGE_REPOSITORY ?? 'heart-disease-api';
/** Port the API listens on inside the container (the image's PORT). */
export const CONTAINER_PORT = 8000;
/** Label carrying the baked model's version (the OCI keys have no model field). */
export const MODEL_VERSION_LABEL = 'dev.heart-disease-mlops.model.version';
export const MAX_IMAGE_BYTES = 300 * 1000 * 1000;
/** Seconds `docker stop` waits after SIGTERM before SIGKILL; the API must drain and exit 0 within it. */
export const STOP_GRACE_S = 10;

export interface ModelCardSummary {
  modelVersion: string;
  selectedModel: string;
  threshold: number;
}

export function readModelCard(modelDir: string): ModelCardSummary {
  const file = path.resolve(repoRoot, modelDir, 'model.json');
  let card: Partial<ModelCardSummary>;
  try {
    card = JSON.parse(readFileSync(file, 'utf8')) as Partial<ModelCardSummary>;
  } catch (err) {
    throw new Error(`cannot read the model card ${file}: ${(err as Error).message}; run \`npm run train\` first`, { cause: err });
  }
  if (typeof card.modelVersion !== 'string' || card.modelVersion === '') {
    throw new Error(`${file}: modelVersion must be a non-empty string`);
  }
  return { modelVersion: card.modelVersion, selectedModel: String(card.selectedModel), threshold: Number(card.threshold ?? 0.5) };
}

/** Docker tags allow [A-Za-z0-9_.-], max 128 chars, not starting with '.' or '-'. */
export function tagFromModelVersion(version: string): string {
  const tag = version
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
  if (tag === '') throw new Error(`model version '${version}' gives an empty image tag`);
  return tag;
}
