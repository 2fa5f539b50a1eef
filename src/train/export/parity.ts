import * as ort from 'onnxruntime-node';
import { ONNX_INPUT, ONNX_OUTPUTS } from '../../contract/artifact-contract.js';

export const PARITY_TOLERANCE = 1e-5;

/** Run the exported graph in onnxruntime over `rows` and return the largest |P_onnx − P_typescript|. */
export async function onnxProbabilities(onnxBytes: Uint8Array, rows: readonly number[][]): Promise<number[]> {
  const session = await ort.InferenceSession.create(onnxBytes);
  try {
    const width = rows[0]?.length ?? 0;
    const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, width]);
    const output = await session.run({ [ONNX_INPUT]: input });
    const probabilities = output[ONNX_OUTPUTS.probabilities]!.data as Float32Array;
    return rows.map((_, i) => probabilities[2 * i + 1]!);
  } finally {
    await session.release();
  }
}

/** Refuse an export whose graph disagrees with the model it came from: a model is only shipped as evaluated. */
export async function verifyOnnxParity(onnxBytes: Uint8Array, rows: readonly number[][], expected: readonly number[]): Promise<number> {
  const actual = await onnxProbabilities(onnxBytes, rows);
  const maxDiff = actual.reduce((m, p, i) => Math.max(m, Math.abs(p - expected[i]!)), 0);
  if (!(maxDiff <= PARITY_TOLERANCE)) {
    throw new Error(`ONNX export differs from the trained model by ${maxDiff} (tolerance ${PARITY_TOLERANCE}); refusing to write it`);
  }
  return maxDiff;
}
