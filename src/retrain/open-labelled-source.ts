/**
 * The labelled rows a retraining reads: the `--labelled` files when given, else the API's prediction log.
 */
import type { Feature } from '../features/feature-schema.js';
import { fileSource, type LabelledSource } from './labelled-source.js';

export async function openLabelledSource(input: {
  files: readonly string[];
  env: NodeJS.ProcessEnv;
  features: readonly Feature[];
}): Promise<LabelledSource> {
  if (input.files.length > 0) return fileSource(input.files, input.features);
  throw new Error('no --labelled file given, and reading the prediction log is not available in this build');
}
