/**
 * Where the served model comes from. A source hands out candidates (a directory holding model.onnx + model.json, and
 * where those files came from); ModelService loads and probes a candidate before swapping it in, and tells the source
 * whether it was taken.
 *
 *   DirectorySource   MODEL_DIR (the default; the image's baked-in model). Every check re-reads the directory
 *                     (what SIGHUP asks for); nothing to poll.
 *   RegistrySource    MODEL_URI + MLFLOW_TRACKING_URI (registry-source.ts): downloads and verifies a registry version;
 *                     a check returns a candidate only when the alias points at another version.
 */
import { FETCH_FAILURE_REASONS } from '../../mlflow/registered-model.js';

export type ModelOrigin =
  | { kind: 'directory'; dir: string }
  | {
      kind: 'registry';
      /** MODEL_URI as configured. */
      uri: string;
      trackingUri: string;
      name: string;
      /** null for a models:/<name>/<version> URI. */
      alias: string | null;
      /** The registry's version number (a string, as MLflow sends it). */
      version: string;
      runId: string | null;
      downloadedAt: string;
    };

/** A model to load: the directory with its files, and where they came from. */
export interface ModelCandidate {
  dir: string;
  origin: ModelOrigin;
}

export const directoryCandidate = (dir: string): ModelCandidate => ({ dir, origin: { kind: 'directory', dir } });

/** Why a model the source names was not taken: a registry fetch failure, or the model failed to load (probe). */
export const SOURCE_FAILURE_REASONS = [...FETCH_FAILURE_REASONS, 'load'] as const;
export type SourceFailureReason = (typeof SOURCE_FAILURE_REASONS)[number];

export class ModelSourceError extends Error {
  override name = 'ModelSourceError';
  constructor(
    readonly reason: SourceFailureReason,
    message: string,
    /** The registry version concerned, when known. */
    readonly version: string | null = null,
  ) {
    super(message);
  }
}

export interface ModelSource {
  /** For logs and messages: the directory, or MODEL_URI. */
  readonly location: string;
  /** Whether polling can find anything new (an alias can move; a directory or a pinned version cannot). */
  readonly follows: boolean;
  /** The model to serve at start. Throws ModelSourceError. */
  initial(): Promise<ModelCandidate>;
  /** A model to swap in, or null when `serving` is still what the source names. Throws ModelSourceError. */
  next(serving: ModelOrigin | null): Promise<ModelCandidate | null>;
  /** The candidate is being served now. */
  accepted(candidate: ModelCandidate): Promise<void>;
  /** The candidate failed to load; the previous model keeps serving. */
  refused(candidate: ModelCandidate, error: string): Promise<void>;
  close(): Promise<void>;
}

export class DirectorySource implements ModelSource {
  readonly follows = false;
  constructor(readonly location: string) {}

  async initial(): Promise<ModelCandidate> {
    return directoryCandidate(this.location);
  }
  /** Always the directory again: its files may have been replaced (SIGHUP). */
  async next(): Promise<ModelCandidate> {
    return directoryCandidate(this.location);
  }
  async accepted(): Promise<void> {}
  async refused(): Promise<void> {}
  async close(): Promise<void> {}
}
