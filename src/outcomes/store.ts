/**
 * The prediction log and its outcomes: what every prediction was (inputs as received and as scored, which features
 * were imputed, model version, probability, label, time) and, once feedback arrives, how it turned out. Two stores
 * implement this with the same SQL schema (schema.ts): SQLite (node:sqlite, the default) and PostgreSQL (DATABASE_URL).
 * Serving writes through a PredictionLog (log.ts), which batches appends off the request path; retraining reads
 * `labelled()`.
 */

import type { PredictionBatch } from './prediction-batch.js';

export type PredictionRoute = 'predict' | 'v2';

export interface PredictionRecord {
  /** UUIDv7 (time-ordered); the body's `predictionId` and the `x-prediction-id` header. */
  id: string;
  /** ISO 8601 UTC time (Date#toISOString). */
  createdAt: string;
  modelVersion: string;
  route: PredictionRoute;
  /** The row as received (JSON). */
  received: unknown;
  /** The row as the JSON text the client sent, when the protocol kept it: stored as is (then `received` is unset). */
  receivedJson?: string;
  /**
   * As scored, in FEATURE_NAMES order; null = missing (imputed by the model). Serving passes its rows as they are,
   * NaN = missing: stores write them as JSON, where NaN becomes null.
   */
  features: readonly (number | null)[];
  /** Names of the features that were missing. */
  imputed: string[];
  probability: number;
  label: 0 | 1;
}

export interface LabelledPrediction {
  id: string;
  createdAt: string;
  modelVersion: string;
  features: (number | null)[];
  probability: number;
  label: 0 | 1;
  outcome: 0 | 1;
  /** When the outcome was observed (ISO 8601 UTC); the feedback time when the sender gave none. */
  observedAt: string;
}

/** One outcome for one prediction (POST /feedback, the bulk import). */
export interface OutcomeFeedback {
  predictionId: string;
  outcome: 0 | 1;
  /** ISO 8601; default: when the feedback is recorded. */
  observedAt?: string;
}

/**
 * What happened to one feedback item:
 * - `recorded`: the outcome is stored now;
 * - `unchanged`: the same outcome was already stored (an idempotent repeat; the first observedAt is kept);
 * - `conflict`: a different outcome is stored; nothing changed (`storedOutcome` says which);
 * - `not_found`: no prediction has this id (never logged, or removed by retention).
 */
export type FeedbackStatus = 'recorded' | 'unchanged' | 'conflict' | 'not_found';

export interface FeedbackResult {
  predictionId: string;
  status: FeedbackStatus;
  /** The outcome stored for this prediction after the call (absent when not_found). */
  storedOutcome?: 0 | 1;
}

export interface LabelledQuery {
  modelVersion?: string;
  /** Only outcomes observed at or after this ISO time (observedAt >= since). */
  since?: string;
  /** Only the most recent `limit` (by createdAt) of the matching predictions; still returned oldest first. */
  limit?: number;
}

export interface PredictionStore {
  /** Which database: 'sqlite' or 'postgresql'. */
  readonly kind: 'sqlite' | 'postgresql';
  /** Insert predictions, in one transaction; an id already stored is left as it is (a retried flush never duplicates). */
  append(batches: readonly PredictionBatch[]): Promise<void>;
  /** Record outcomes, one result per item in the same order; all in one transaction. */
  recordOutcomes(items: readonly OutcomeFeedback[]): Promise<FeedbackResult[]>;
  /** Labelled predictions ordered by createdAt ascending (ties by id). */
  labelled(query?: LabelledQuery): Promise<LabelledPrediction[]>;
  countLabelled(query?: { since?: string }): Promise<number>;
  /** Model versions that have at least one labelled prediction, sorted. */
  labelledVersions(): Promise<string[]>;
  /** The stored predictions with these ids (any order; unknown ids are left out). */
  find(ids: readonly string[]): Promise<PredictionRecord[]>;
  /** Every stored prediction, labelled or not. */
  count(): Promise<number>;
  /** Retention: delete predictions created before `cutoff` (ISO time); returns how many. */
  deleteCreatedBefore(cutoff: string): Promise<number>;
  close(): Promise<void>;
}
