/**
 * The artifact contract: model.json as training writes it follows the published JSON Schema (checked with Ajv, an
 * implementation independent of the TypeBox definition), the schema file is current, and cards of another contract
 * version are refused — by the contract parser and by the API's model loader — with a message that says so.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { CONTRACT_VERSION, MODEL_FILES, ONNX_INPUT, ONNX_OUTPUTS } from '../../src/contract/artifact-contract.js';
import { FEATURE_NAMES } from '../../src/features/feature-schema.js';
import { MODEL_CARD_SCHEMA_FILE, modelCardJsonSchema } from '../../src/contract/json-schema.js';
import { ModelCardError, parseModelCard } from '../../src/contract/model-card.js';
import { imageReference, imageTag } from '../../src/contract/image.js';
import { loadModel, ModelLoadError } from '../../src/api/model/service.js';
import { testModelDir } from '../api/support/model.js';

const trainedCard = () => JSON.parse(readFileSync(path.join(testModelDir(), MODEL_FILES.card), 'utf8')) as Record<string, unknown>;

function modelDirWithCard(card: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hd-contract-'));
  cpSync(path.join(testModelDir(), MODEL_FILES.onnx), path.join(dir, MODEL_FILES.onnx));
  writeFileSync(path.join(dir, MODEL_FILES.card), JSON.stringify(card));
  return dir;
}

describe('model-card.schema.json', () => {
  it('is what the TypeBox definition generates (run `npm run contract:schema` after changing the contract)', () => {
    expect(readFileSync(MODEL_CARD_SCHEMA_FILE, 'utf8')).toBe(modelCardJsonSchema());
  });

  it('accepts the model.json training writes, and rejects one with a field removed (Ajv, draft-07)', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(MODEL_CARD_SCHEMA_FILE, 'utf8')));
    const card = trainedCard();
    expect(validate(card), JSON.stringify(validate.errors)).toBe(true);
    const { threshold: _dropped, ...withoutThreshold } = card;
    expect(validate(withoutThreshold)).toBe(false);
    expect(validate.errors?.map((e) => e.params)).toContainEqual({ missingProperty: 'threshold' });
  });
});

describe('parseModelCard', () => {
  it('returns the trained card unchanged', () => {
    const card = trainedCard();
    expect(parseModelCard(card)).toEqual(card);
    expect(card.contractVersion).toBe(CONTRACT_VERSION);
  });

  it('refuses a newer contract version with a message about versions, not fields', () => {
    const newer = { ...trainedCard(), contractVersion: CONTRACT_VERSION + 1, somethingNew: { shape: 'unknown' } };
    expect(() => parseModelCard(newer, 'm/model.json')).toThrow(ModelCardError);
    expect(() => parseModelCard(newer, 'm/model.json')).toThrow(
      `m/model.json follows contract version ${CONTRACT_VERSION + 1}; this program reads contract version ${CONTRACT_VERSION} only: this program is older than the model: upgrade it`,
    );
  });

  it('refuses a card written before the contract was versioned', () => {
    const { contractVersion: _v, ...old } = trainedCard();
    expect(() => parseModelCard(old)).toThrow(/has no contractVersion .* retrain the model/);
  });

  it('names the path of a field that breaks the contract', () => {
    const card = trainedCard();
    expect(() => parseModelCard({ ...card, threshold: 1.5 })).toThrow(/\/threshold must be < 1/);
    expect(() => parseModelCard({ ...card, onnx: { ...(card.onnx as object), sha256: 'nothex' } })).toThrow(/\/onnx\/sha256/);
  });
});

describe('the API loads only cards of its contract version', () => {
  it('refuses a model.json of a newer contract version at load, with the reason', async () => {
    const dir = modelDirWithCard({ ...trainedCard(), contractVersion: CONTRACT_VERSION + 1 });
    const load = loadModel(dir);
    await expect(load).rejects.toBeInstanceOf(ModelLoadError);
    await expect(loadModel(dir)).rejects.toThrow(
      `${path.join(dir, MODEL_FILES.card)} follows contract version ${CONTRACT_VERSION + 1}; this program reads contract version ${CONTRACT_VERSION} only`,
    );
  });

  it('refuses a card whose threshold disagrees with the graph it ships with', async () => {
    // The graph labels P >= 0.5. Move the card's threshold to the other side of the probability of the loader's first
    // probe row (every feature missing), so the graph's label and the card's rule must disagree on that row.
    const session = await ort.InferenceSession.create(path.join(testModelDir(), MODEL_FILES.onnx));
    const probe = new ort.Tensor('float32', new Float32Array(FEATURE_NAMES.length).fill(Number.NaN), [1, FEATURE_NAMES.length]);
    const p = ((await session.run({ [ONNX_INPUT]: probe }))[ONNX_OUTPUTS.probabilities]!.data as Float32Array)[1]!;
    await session.release();
    const threshold = p >= 0.5 ? (p + 1) / 2 : p / 2;
    const dir = modelDirWithCard({ ...trainedCard(), threshold });
    await expect(loadModel(dir)).rejects.toThrow(`disagrees with model.json's threshold ${threshold} at probability ${p}`);
  });
});

describe('image naming', () => {
  it('derives one tag per model version and refuses an empty one', () => {
    expect(imageTag('0.1.0-lr-0123456789ab')).toBe('0.1.0-lr-0123456789ab');
    expect(imageTag('1.0+build/7')).toBe('1.0-build-7');
    expect(imageTag('.hidden')).toBe('hidden');
    expect(imageTag('x'.repeat(200))).toHaveLength(128);
    expect(() => imageTag('')).toThrow(/empty image tag/);
    expect(() => imageTag('...')).toThrow(/empty image tag/);
    expect(imageReference('0.1.0-lr-abc')).toBe('heart-disease-api:0.1.0-lr-abc');
  });
});
