/** Prediction records from validated rows: ids, what was imputed, and the mostly-missing flag (threshold in the contract). */
import { getRandomValues } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { MOSTLY_MISSING_MIN_IMPUTED } from '../contract/artifact-contract.js';
import { FEATURE_NAMES } from '../features/feature-schema.js';

/** Random bytes for ids, drawn 4 KiB at a time: one call into the CSPRNG per 256 ids instead of one per id. */
const RANDOM_POOL_BYTES = 4096;
let randomPool = new Uint8Array(0);
let randomOffset = 0;

function sixteenRandomBytes(): Uint8Array {
  if (randomOffset + 16 > randomPool.length) {
    randomPool = getRandomValues(new Uint8Array(RANDOM_POOL_BYTES));
    randomOffset = 0;
  }
  randomOffset += 16;
  return randomPool.subarray(randomOffset - 16, randomOffset);
}

/**
 * A new prediction id: UUIDv7 (RFC 9562), so ids sort by creation time to the millisecond (and index well); within
 * one millisecond their order is random (the RFC's plain method, no shared counter).
 */
export const newPredictionId = (): string => uuidv7({ random: sixteenRandomBytes() });

/** The millisecond a prediction id was made (a UUIDv7's first 48 bits), or null for an id that is not a UUIDv7. */
export function predictionIdTime(id: string): number | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return null;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

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
