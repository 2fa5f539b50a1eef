import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { MODEL_FILES, ONNX_INPUT, ONNX_OUTPUTS } from '../../contract/artifact-contract.js';
import { FEATURE_NAMES } from '../../features/feature-schema.js';
import { servableCard, type ModelCard } from './card.js';
import { loadOnnxSession, type OnnxSession } from './onnx-session.js';
import { directoryCandidate, type ModelCandidate, type ModelOrigin } from './source.js';

export const FEATURE_COUNT = FEATURE_NAMES.length;

/** One loaded model: the ONNX session and its model card. Never mutated after load; a reload builds a new one. */
export interface LoadedModel {
  readonly dir: string;
  /** Where the files came from (MODEL_DIR, or a registry version): travels with the model, so a swap changes both. */
  readonly origin: ModelOrigin;
  readonly card: ModelCard;
  readonly version: string;
  readonly loadedAt: string;
  readonly session: OnnxSession;
}

export interface BatchPrediction {
  /** Decision per row: P(disease) >= the threshold in model.json. */
  labels: number[];
  /** P(disease) per row (column 1 of the graph's probabilities). */
  probabilities: number[];
  /** The graph's probabilities output as is: [N, 2] row-major, column 1 = P(disease). */
  probabilityMatrix: Float32Array;
  /** The model that answered (the same for every row of the batch). */
  model: LoadedModel;
}

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

/** Asked to predict while no model is loaded (start-up or shutdown): a 503, not a server fault. */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
  readonly statusCode = 503;
}

/** Rows (schema order, NaN = missing) → one float32 [N, 13] buffer, the graph's input layout. */
export function toInputTensor(rows: readonly (readonly number[])[]): Float32Array {
  const data = new Float32Array(rows.length * FEATURE_COUNT);
  rows.forEach((row, i) => {
    for (let j = 0; j < FEATURE_COUNT; j++) data[i * FEATURE_COUNT + j] = row[j] ?? Number.NaN;
  });
  return data;
}

/** The graph's probabilities for `n` rows: [N, 2] row-major, column 1 = P(disease). Serving reads only this output. */
function runProbabilities(session: OnnxSession, data: Float32Array, n: number): Float32Array {
  const outputs = session.run({ [ONNX_INPUT]: new Tensor('float32', data, [n, FEATURE_COUNT]) }, [ONNX_OUTPUTS.probabilities]);
  const probs = outputs[ONNX_OUTPUTS.probabilities]?.data;
  if (!(probs instanceof Float32Array) || probs.length !== 2 * n) {
    throw new ModelLoadError(`model output ${ONNX_OUTPUTS.probabilities} does not match [N,2] float32 for N=${n}`);
  }
  return probs;
}

/** The graph's own labels for `n` rows (checked against the card's threshold at load). */
function runLabels(session: OnnxSession, data: Float32Array, n: number): BigInt64Array {
  const label = session.run({ [ONNX_INPUT]: new Tensor('float32', data, [n, FEATURE_COUNT]) }, [ONNX_OUTPUTS.label])[ONNX_OUTPUTS.label]
    ?.data;
  if (!(label instanceof BigInt64Array) || label.length !== n) {
    throw new ModelLoadError(`model output ${ONNX_OUTPUTS.label} does not match [N] int64 for N=${n}`);
  }
  return label;
}

/** P(disease) per row and the decision at the card's threshold (the API's label, whatever the graph computed). */
function decide(probabilityMatrix: Float32Array, threshold: number, from = 0, to = probabilityMatrix.length / 2) {
  const n = to - from;
  const labels = new Array<number>(n);
  const probabilities = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const p = probabilityMatrix[2 * (from + i) + 1]!;
    probabilities[i] = p;
    labels[i] = p >= threshold ? 1 : 0;
  }
  return { labels, probabilities, probabilityMatrix: probabilityMatrix.slice(2 * from, 2 * to) };
}

/**
 * Load model.json + model.onnx from `dir` and prove the pair works: the card follows the artifact contract and
 * matches the API's feature schema, the graph has the contract's input/outputs, and one probe row (all features
 * missing, so only imputation) and one all-present row give probabilities in [0, 1] and graph labels that agree with
 * the card's threshold. Throws ModelLoadError with the reason otherwise.
 */
export async function loadModel(dir: string, origin: ModelOrigin = directoryCandidate(dir).origin): Promise<LoadedModel> {
  const cardPath = path.join(dir, MODEL_FILES.card);
  const onnxPath = path.join(dir, MODEL_FILES.onnx);
  let card: ModelCard;
  try {
    card = servableCard(JSON.parse(await readFile(cardPath, 'utf8')), cardPath);
  } catch (error) {
    const reason = (error as Error).message;
    throw new ModelLoadError(reason.startsWith(cardPath) ? reason : `cannot read ${cardPath}: ${reason}`);
  }

  let session: OnnxSession;
  try {
    // One thread per run: the graph is tiny, so thread hand-offs cost more than they save; many requests share a
    // run instead (ModelService).
    session = loadOnnxSession(onnxPath, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    throw new ModelLoadError(`cannot load ${onnxPath}: ${(error as Error).message}`);
  }
  try {
    if (!session.inputNames.includes(ONNX_INPUT))
      throw new ModelLoadError(`${onnxPath} has no input '${ONNX_INPUT}' (has ${session.inputNames.join(', ')})`);
    for (const name of Object.values(ONNX_OUTPUTS)) {
      if (!session.outputNames.includes(name))
        throw new ModelLoadError(`${onnxPath} has no output '${name}' (has ${session.outputNames.join(', ')})`);
    }
    const probeRows = [
      new Array<number>(FEATURE_COUNT).fill(Number.NaN),
      card.schema.features.map((f) => (f.type === 'numeric' ? f.min : f.codes[0]!.code)),
    ];
    const probeData = toInputTensor(probeRows);
    const graphLabels = runLabels(session, probeData, probeRows.length);
    const probe = decide(runProbabilities(session, probeData, probeRows.length), card.threshold);
    probe.probabilities.forEach((p, i) => {
      const graphLabel = Number(graphLabels[i]);
      if (!(p >= 0 && p <= 1)) throw new ModelLoadError(`probe row ${i} gave probability=${p}; expected [0, 1]`);
      if (graphLabel !== probe.labels[i]) {
        throw new ModelLoadError(
          `probe row ${i}: the graph's label ${graphLabel} disagrees with model.json's threshold ${card.threshold} at probability ${p}`,
        );
      }
    });
  } catch (error) {
    session.release();
    throw error instanceof ModelLoadError ? error : new ModelLoadError(`model.onnx failed the probe run: ${(error as Error).message}`);
  }
  return { dir, origin, card, version: card.modelVersion, loadedAt: new Date().toISOString(), session };
}

interface PendingRun {
  model: LoadedModel;
  data: Float32Array;
  n: number;
  resolve: (prediction: BatchPrediction) => void;
  reject: (error: unknown) => void;
}

export type ReloadResult =
  { ok: true; previousVersion: string | null; version: string } | { ok: false; version: string | null; error: string };

/**
 * Holds the model being served and swaps it atomically: a reload loads and probes the new model completely before
 * replacing the reference, so requests see either the old model or the new one, never a half-loaded one; a model
 * that fails to load is refused and the old one keeps serving. The old session is released once its runs finish.
 */
export class ModelService {
  private model: LoadedModel | null = null;
  private readonly inFlight = new Map<LoadedModel, number>();
  private readonly retired = new Set<LoadedModel>();
  private reloading: Promise<unknown> = Promise.resolve();
  private queue: PendingRun[] = [];
  private flushScheduled = false;

  /** `dir`: what load() and reload() read when given no candidate (MODEL_DIR). */
  constructor(readonly dir: string) {}

  get current(): LoadedModel | null {
    return this.model;
  }

  get ready(): boolean {
    return this.model !== null;
  }

  /** First load at start-up; throws when the model cannot be served. */
  async load(candidate: ModelCandidate = directoryCandidate(this.dir)): Promise<LoadedModel> {
    this.model = await loadModel(candidate.dir, candidate.origin);
    return this.model;
  }

  /** Load `candidate` (default: re-read `dir`) and swap if it is sound. Reloads run one after another, never interleaved. */
  reload(candidate: ModelCandidate = directoryCandidate(this.dir)): Promise<ReloadResult> {
    const next = this.reloading.then(() => this.doReload(candidate));
    this.reloading = next.catch(() => undefined);
    return next;
  }

  private async doReload(candidate: ModelCandidate): Promise<ReloadResult> {
    const previous = this.model;
    try {
      const next = await loadModel(candidate.dir, candidate.origin);
      this.model = next;
      if (previous) this.retire(previous);
      return { ok: true, previousVersion: previous?.version ?? null, version: next.version };
    } catch (error) {
      return { ok: false, version: previous?.version ?? null, error: (error as Error).message };
    }
  }

  /** Run the current model on rows (schema order, NaN = missing) as one [N, 13] tensor. */
  predict(rows: readonly (readonly number[])[], model = this.model): Promise<BatchPrediction> {
    return this.predictTensor(toInputTensor(rows), rows.length, model);
  }

  /**
   * Predict rows given as a float32 [n, 13] buffer. Calls made in the same event-loop turn are coalesced into ONE
   * model run (micro-batching): onnxruntime's cost is mostly per call (~25 µs a run, ~0.5 µs a row on a 2-vCPU EPYC), so
   * under concurrent load many requests share it. Each caller gets back exactly its own rows' results.
   */
  predictTensor(data: Float32Array, n: number, model = this.model): Promise<BatchPrediction> {
    if (!model) return Promise.reject(new ModelUnavailableError('no model loaded'));
    // Counted from enqueue, so a reload cannot release a session that still has queued work.
    this.inFlight.set(model, (this.inFlight.get(model) ?? 0) + 1);
    return new Promise<BatchPrediction>((resolve, reject) => {
      this.queue.push({ model, data, n, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const jobs = this.queue;
    this.queue = [];
    // Almost always one model; two only across a reload.
    const model = jobs[0]!.model;
    if (jobs.every((job) => job.model === model)) {
      this.runGroup(model, jobs);
      return;
    }
    const byModel = new Map<LoadedModel, PendingRun[]>();
    for (const job of jobs) {
      const group = byModel.get(job.model);
      if (group) group.push(job);
      else byModel.set(job.model, [job]);
    }
    for (const [groupModel, group] of byModel) this.runGroup(groupModel, group);
  }

  /** One run for the group (synchronous: onnxruntime works on this thread either way), then each caller's rows. */
  private runGroup(model: LoadedModel, group: PendingRun[]): void {
    try {
      const total = group.reduce((sum, job) => sum + job.n, 0);
      let data = group[0]!.data;
      if (group.length > 1) {
        data = new Float32Array(total * FEATURE_COUNT);
        let offset = 0;
        for (const job of group) {
          data.set(job.data, offset * FEATURE_COUNT);
          offset += job.n;
        }
      }
      const probabilityMatrix = runProbabilities(model.session, data, total);
      let offset = 0;
      for (const job of group) {
        job.resolve({ ...decide(probabilityMatrix, model.card.threshold, offset, offset + job.n), model });
        offset += job.n;
      }
    } catch (error) {
      for (const job of group) job.reject(error);
    } finally {
      this.done(model, group.length);
    }
  }

  private done(model: LoadedModel, runs: number): void {
    const left = (this.inFlight.get(model) ?? runs) - runs;
    if (left > 0) this.inFlight.set(model, left);
    else {
      this.inFlight.delete(model);
      if (this.retired.has(model)) this.release(model);
    }
  }

  private retire(model: LoadedModel): void {
    if (this.inFlight.has(model)) this.retired.add(model);
    else this.release(model);
  }

  private release(model: LoadedModel): void {
    this.retired.delete(model);
    model.session.release();
  }

  async close(): Promise<void> {
    const model = this.model;
    this.model = null;
    if (model) this.retire(model);
  }
}
