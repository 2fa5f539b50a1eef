/**
 * The Dagger module reads the artifact contract from src/contract/artifact-contract.json and keeps one copy of one
 * function (imageTag), because the engine loads only dagger/. Here the copy must answer exactly as the original, and
 * the module's reading of the file and of a trained model.json must agree with the TypeScript contract.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageTag as moduleImageTag, modelCardSummary, readContract } from '../../dagger/src/contract.js';
import * as contract from '../../src/contract/artifact-contract.js';
import { imageLabels, imageTag } from '../../src/contract/image.js';
import { testModelDir } from '../api/support/model.js';
import { repoRoot } from '../support/paths.js';

const source = { file: (p: string) => ({ contents: () => readFile(path.join(repoRoot, p), 'utf8') }) };

describe('the Dagger module and the artifact contract', () => {
  it("imageTag's copy gives the original's answer, or the same error, for every kind of version", () => {
    const versions = ['0.1.0-lr-0123456789ab', '1.0+build/7', '.hidden', '-x', '...', '', 'ä', 'a'.repeat(300), 'A_b.c-D', ' sp ace '];
    for (const version of versions) {
      let expected: string;
      try {
        expected = imageTag(version);
      } catch (error) {
        expect(() => moduleImageTag(version)).toThrow((error as Error).message);
        continue;
      }
      expect(moduleImageTag(version), version).toBe(expected);
    }
  });

  it('reads the same names and label keys the TypeScript contract exports', async () => {
    const read = await readContract(source);
    expect(read.contractVersion).toBe(contract.CONTRACT_VERSION);
    expect(read.image.name).toBe(contract.IMAGE_NAME);
    expect(read.image.port).toBe(contract.API_PORT);
    expect(read.files).toEqual(contract.MODEL_FILES);
    // The labels the module sets: same keys as imageLabels() writes for `npm run image:build`.
    const moduleKeys = [...Object.values(read.image.labels), ...Object.keys(read.image.fixedLabels)].sort();
    const info = { modelVersion: 'v', revision: 'r', version: '1', created: 't', source: 's' };
    expect(moduleKeys).toEqual(Object.keys(imageLabels(info)).sort());
  });

  it('reads modelVersion and createdAt from a trained model.json, and refuses another contract version', async () => {
    const read = await readContract(source);
    const text = await readFile(path.join(testModelDir(), contract.MODEL_FILES.card), 'utf8');
    const card = JSON.parse(text) as { modelVersion: string; createdAt: string };
    expect(modelCardSummary(text, read)).toEqual({ modelVersion: card.modelVersion, createdAt: card.createdAt });
    const newer = JSON.stringify({ ...card, contractVersion: contract.CONTRACT_VERSION + 1 });
    expect(() => modelCardSummary(newer, read)).toThrow(`follows contract version ${contract.CONTRACT_VERSION + 1}`);
  });
});
