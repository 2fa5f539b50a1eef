import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_FILES } from '../../src/contract/artifact-contract.js';
import { parseModelCard, type ModelCard } from '../../src/contract/model-card.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The model card of a trained model directory (relative to the repo root), checked against the artifact contract. */
export function readModelCard(modelDir: string): ModelCard {
  const file = path.resolve(repoRoot, modelDir, MODEL_FILES.card);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the model card ${file}: ${(err as Error).message}; run \`npm run train\` first`, { cause: err });
  }
  return parseModelCard(parsed, file);
}
