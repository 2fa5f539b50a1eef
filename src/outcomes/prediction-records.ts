/** Prediction records from validated rows: ids, what was imputed, and the mostly-missing flag (threshold in the contract). */
import { v7 as uuidv7 } from 'uuid';
import { MOSTLY_MISSING_MIN_IMPUTED } from '../contract/artifact-contract.js';
import { FEATURE_NAMES } from '../features/feature-schema.js';

/** A new prediction id: UUIDv7, so ids sort by creation time (and index well). */
export const newPredictionId = (): string => uuidv7();

/** Names of the features missing from a row (schema order, NaN = missing). */
export function imputedFeatures(row: readonly number[]): string[] {
  const names: string[] = [];
  for (let j = 0; j < row.length; j++) if (Number.isNaN(row[j])) names.push(FEATURE_NAMES[j]!);
  return names;
}

/** Whether so much of the examination is missing that the estimate rests mostly on imputed values. */
export const mostlyMissing = (imputed: readonly string[]): boolean => imputed.length >= MOSTLY_MISSING_MIN_IMPUTED;

/** The row as scored, for the log: null where the model imputed. */
export const scoredFeatures = (row: readonly number[]): (number | null)[] => row.map((v) => (Number.isNaN(v) ? null : v));
