import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { ModelCard } from '../../../src/api/model/card.js';
import { trainModelInto } from './train.js';

let trained: string | undefined;

/** Directory of the model trained for the API tests (globalSetup's, or trained once in this worker). */
export function testModelDir(): string {
  let provided: string | undefined;
  try {
    provided = inject('apiModelDir');
  } catch {
    provided = undefined;
  }
  provided ??= process.env.HD_TEST_MODEL_DIR;
  if (provided) return provided;
  if (!trained) {
    trained = trainModelInto();
    const dir = trained;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
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
