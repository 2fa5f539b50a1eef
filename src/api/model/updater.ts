/**
 * Keeps the served model in step with its source: a check (SIGHUP, or every MODEL_POLL_INTERVAL_S for a registry
 * alias) asks the source for a candidate and, when there is one, lets ModelService load, probe and swap it
 * atomically. Whatever goes wrong — the registry unreachable, a download, a digest, a model that fails its probe —
 * the current model keeps serving; the failure is reported through `events.failed` and kept as `lastFailure`.
 * Checks never overlap: a check asked for while one runs shares it.
 */
import type { LoadedModel, ModelService } from './service.js';
import { ModelSourceError, type ModelSource, type SourceFailureReason } from './source.js';

export interface SourceFailure {
  at: string;
  reason: SourceFailureReason;
  /** The registry version concerned, when known. */
  version: string | null;
  message: string;
}

export type UpdateResult =
  | { ok: true; changed: boolean; previousVersion: string | null; version: string }
  | { ok: false; reason: SourceFailureReason; version: string | null; error: string };

export interface UpdateEvents {
  swapped(model: LoadedModel, previous: LoadedModel | null): void;
  /** `keptVersion`: the model version still serving. */
  failed(failure: SourceFailure, keptVersion: string | null): void;
}

export class ModelUpdater {
  lastCheckAt: string | null = null;
  lastFailure: SourceFailure | null = null;
  private checking: Promise<UpdateResult> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    readonly source: ModelSource,
    private readonly service: ModelService,
    private readonly events: UpdateEvents,
  ) {}

  check(): Promise<UpdateResult> {
    if (this.stopped) {
      // Shutting down: the model is no longer updated.
      const version = this.service.current?.version ?? null;
      return Promise.resolve({ ok: true, changed: false, previousVersion: version, version: version ?? '' });
    }
    this.checking ??= this.run().finally(() => (this.checking = null));
    return this.checking;
  }

  private async run(): Promise<UpdateResult> {
    this.lastCheckAt = new Date().toISOString();
    const previous = this.service.current;
    let candidate;
    try {
      candidate = await this.source.next(previous?.origin ?? null);
    } catch (error) {
      const failure =
        error instanceof ModelSourceError
          ? error
          : new ModelSourceError('registry', error instanceof Error ? error.message : String(error));
      return this.fail(failure);
    }
    if (!candidate) return { ok: true, changed: false, previousVersion: previous?.version ?? null, version: previous?.version ?? '' };
    const result = await this.service.reload(candidate);
    // The source's housekeeping (deleting cached files) never decides what serves: its errors are ignored.
    if (!result.ok) {
      await this.source.refused(candidate, result.error).catch(() => undefined);
      const version = candidate.origin.kind === 'registry' ? candidate.origin.version : null;
      return this.fail(new ModelSourceError('load', result.error, version));
    }
    await this.source.accepted(candidate).catch(() => undefined);
    this.events.swapped(this.service.current!, previous);
    return { ok: true, changed: true, previousVersion: result.previousVersion, version: result.version };
  }

  private fail(error: ModelSourceError): UpdateResult {
    const failure: SourceFailure = { at: new Date().toISOString(), reason: error.reason, version: error.version, message: error.message };
    this.lastFailure = failure;
    const kept = this.service.current?.version ?? null;
    this.events.failed(failure, kept);
    return { ok: false, reason: failure.reason, version: kept, error: failure.message };
  }

  /** Check every `intervalMs` (the next check is timed from the end of the last); off for 0 or a source that cannot move. */
  poll(intervalMs: number): void {
    if (intervalMs <= 0 || !this.source.follows || this.stopped) return;
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.check().finally(schedule), intervalMs);
      // Polling alone never keeps the process alive (shutdown closes the server; the timer must not hold it).
      this.timer.unref();
    };
    schedule();
  }

  /** No further checks; waits for one in progress, so nothing swaps after shutdown began. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.checking;
  }
}
