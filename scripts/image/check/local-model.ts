import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { FEATURES, FEATURE_NAMES } from '../../../src/features/feature-schema.js';
import { parseUciText } from '../../../src/train/data/uci-file.js';
import { ONNX_INPUT, ONNX_OUTPUTS } from '../../../src/contract/artifact-contract.js';
import { repoRoot } from '../../lib/model-dir.js';

export interface KnownPatient {
  source: string;
  /** Feature values in schema order; NaN = missing (the model's contract). */
  vector: number[];
  /** The same patient as an API request: feature name -> value, null = missing. */
  features: Record<string, number | null>;
}

export interface Prediction {
  label: number;
  probability: number;
}

export const defaultDataDir = () => process.env.UCI_DATA_DIR ?? path.resolve(repoRoot, '../shared/data/uci-heart-disease');

/** The first row of processed.cleveland.data: a real patient whose prediction both sides must agree on. */
export function firstClevelandPatient(dataDir = defaultDataDir()): KnownPatient {
  const file = path.join(dataDir, 'processed.cleveland.data');
  const parsed = parseUciText(file, readFileSync(file, 'utf8'), FEATURES);
  const vector = parsed.rows[0]!;
  const features = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, Number.isNaN(vector[i]!) ? null : vector[i]!]));
  return { source: `${file}:${parsed.lines[0]}`, vector, features };
}

/** Score one patient with the local ONNX graph exactly as the API contract says: float32 [1,13], probabilities[:,1]. */
export async function localPrediction(modelPath: string, vector: readonly number[]): Promise<Prediction> {
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const input = new ort.Tensor('float32', Float32Array.from(vector), [1, vector.length]);
    const outputs = await session.run({ [ONNX_INPUT]: input });
    const probabilities = outputs[ONNX_OUTPUTS.probabilities]?.data as Float32Array | undefined;
    const labels = outputs[ONNX_OUTPUTS.label]?.data as BigInt64Array | undefined;
    if (!probabilities || !labels)
      throw new Error(`${modelPath}: outputs ${Object.values(ONNX_OUTPUTS).join(', ')} expected, got ${Object.keys(outputs).join(', ')}`);
    return { label: Number(labels[0]), probability: probabilities[1]! };
  } finally {
    await session.release();
  }
}
