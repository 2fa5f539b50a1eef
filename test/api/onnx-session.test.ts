import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_FILES, ONNX_INPUT, ONNX_OUTPUTS } from '../../src/contract/artifact-contract.js';
import { loadOnnxSession, type OnnxSession } from '../../src/api/model/onnx-session.js';
import { FEATURES } from '../../src/features/feature-schema.js';
import { parseUciText } from '../../src/train/data/uci-file.js';
import { clevelandFile, hungarianFile } from '../support/paths.js';
import { testModelDir } from './support/model.js';

// The API runs graphs through onnxruntime-node's native session directly (same turn, no setImmediate): it must give
// exactly what the package's public InferenceSession.run gives, on real rows with missing values.
describe('loadOnnxSession (synchronous runs)', () => {
  const onnxPath = path.join(testModelDir(), MODEL_FILES.onnx);
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' } as const;
  const rows = [clevelandFile, hungarianFile].flatMap((file) => parseUciText(file, readFileSync(file, 'utf8'), FEATURES).rows);
  const data = Float32Array.from(rows.flat());
  const feeds = () => ({ [ONNX_INPUT]: new ort.Tensor('float32', data, [rows.length, FEATURES.length]) });
  let session: OnnxSession;
  let reference: ort.InferenceSession;
  beforeAll(async () => {
    session = loadOnnxSession(onnxPath, options);
    reference = await ort.InferenceSession.create(onnxPath, options);
  });
  afterAll(async () => {
    await reference.release();
  });

  it('the Hungarian rows have missing values (so imputation is exercised)', () => {
    expect(rows.length).toBe(303 + 294);
    expect(data.some(Number.isNaN)).toBe(true);
  });

  it('names the same inputs and outputs as the public session', () => {
    expect(session.inputNames).toEqual(reference.inputNames);
    expect(session.outputNames).toEqual(reference.outputNames);
  });

  it('gives bit-identical probabilities and labels to InferenceSession.run, synchronously', async () => {
    const expected = await reference.run(feeds());
    const got = session.run(feeds());
    expect(got).not.toBeInstanceOf(Promise);
    for (const name of Object.values(ONNX_OUTPUTS)) {
      expect(got[name]!.dims).toEqual(expected[name]!.dims);
      expect(got[name]!.type).toBe(expected[name]!.type);
      expect(Array.from(got[name]!.data as ArrayLike<number | bigint>)).toEqual(
        Array.from(expected[name]!.data as ArrayLike<number | bigint>),
      );
    }
  });

  it('fetches only the outputs asked for', () => {
    const got = session.run(feeds(), [ONNX_OUTPUTS.probabilities]);
    expect(Object.keys(got)).toEqual([ONNX_OUTPUTS.probabilities]);
    expect(got[ONNX_OUTPUTS.probabilities]!.data).toBeInstanceOf(Float32Array);
  });

  it('refuses an output the graph does not have, and a wrong input shape, with onnxruntime-style errors', () => {
    expect(() => session.run(feeds(), ['no_such_output'])).toThrow(/no output 'no_such_output'/);
    const wrongShape = { [ONNX_INPUT]: new ort.Tensor('float32', new Float32Array(12), [1, 12]) };
    expect(() => session.run(wrongShape)).toThrow();
  });

  it('a file that is not a graph fails to load with a message', () => {
    expect(() => loadOnnxSession(clevelandFile, options)).toThrow(/./);
  });

  it('after release, a run throws instead of touching freed memory', () => {
    const released = loadOnnxSession(onnxPath, options);
    released.release();
    expect(() => released.run(feeds())).toThrow();
    // A second release (a retired model released twice) is harmless.
    expect(() => released.release()).not.toThrow();
  });
});
