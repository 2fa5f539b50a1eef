import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { ModelCard } from '../../../src/contract/model-card.js';
import { clevelandFile, repoRoot } from '../../support/paths.js';
import { trainModelInto } from './train.js';

let trained: string | undefined;

/** Hash of everything training reads, so a cached model is reused only while it would come out the same. */
function trainingFingerprint(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else hash.update(full).update(readFileSync(full));
    }
  };
  walk(path.join(repoRoot, 'src/train'));
  walk(path.join(repoRoot, 'src/drift'));
  walk(path.join(repoRoot, 'src/contract'));
  walk(path.join(repoRoot, 'src/features'));
  hash.update(readFileSync(path.join(repoRoot, 'data/feature-schema.json'))).update(readFileSync(clevelandFile));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Without the globalSetup, test files (each in its own module scope) share one model per training fingerprint in
 * the OS temp dir: trained into a private dir, then renamed into place (a concurrent loser keeps the winner's).
 */
function sharedTrainedModel(): string {
  const target = path.join(os.tmpdir(), `hd-api-test-model-${trainingFingerprint()}`);
  if (existsSync(path.join(target, 'model.json'))) return target;
  const fresh = trainModelInto();
  try {
    renameSync(fresh, target);
  } catch {
    rmSync(fresh, { recursive: true, force: true });
  }
  return target;
}

/** Directory of the model trained for the API tests (globalSetup's, or a shared cached one). */
export function testModelDir(): string {
  let provided: string | undefined;
  try {
    provided = inject('apiModelDir');
  } catch {
    provided = undefined;
  }
  provided ??= process.env.HD_TEST_MODEL_DIR;
  if (provided) return provided;
  trained ??= sharedTrainedModel();
  return trained;
}

export function readCard(dir = testModelDir()): ModelCard {
  return JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelCard;
}

/** A private, writable copy of the test model (for reload tests and model variants). */
export function copyModelDir(source = testModelDir()): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hd-api-model-copy-'));
  for (const file of ['model.onnx', 'model.json']) cpSync(path.join(source, file), path.join(dir, file));
  return dir;
}

/**
 * The random forest from the same training run, served as if it had been selected: its own ONNX graph
 * (model.random_forest.onnx) and the card with selectedModel/explainer switched, so occlusion explanations apply.
 */
export function randomForestModelDir(source = testModelDir()): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hd-api-model-rf-'));
  cpSync(path.join(source, 'model.random_forest.onnx'), path.join(dir, 'model.onnx'));
  const card = readCard(source);
  const rf: ModelCard = {
    ...card,
    modelVersion: `${card.modelVersion}-rf`,
    selectedModel: 'random_forest',
    explainer: { kind: 'occlusion' },
  };
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(rf));
  return dir;
}
