/**
 * This project's model in the MLflow registry: a model version whose source is a run artifact directory
 * (REGISTRY.artifactPath) holding the artifact contract's files, tagged with the card's modelVersion, the contract
 * version and the ONNX digest. Training registers such versions; serving (and later, evaluation of the champion)
 * fetch them and trust nothing they did not verify.
 *
 *   verifyModelPair(cardText, onnxBytes, label, expectedSha256?) → ModelCard   // pure: contract + digest
 *   versionTags(card) → Record<string, string>                                 // the tags a version carries
 *   fetchModelVersion(client, version, dir) → { card, dir }                    // download, verify, then write
 *   class ModelFetchError { reason: FetchFailureReason; version }
 *
 * Why a run artifact directory and not an MLflow 3 "logged model": a logged model is MLflow's own model format (an
 * MLmodel file naming a flavor that mlflow.pyfunc loads), with its own artifact root and create/finalize calls;
 * this project's model is an ONNX graph and its card, loaded by onnxruntime-node, and the evidence promotion reads
 * (metrics, params, report) lives on the training run. A version pointing into the run's artifacts keeps one copy of
 * the files, links version → run in the UI, and works with any MLflow server that proxies artifacts.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CONTRACT_VERSION, MODEL_FILES, REGISTRY } from '../contract/artifact-contract.js';
import { parseModelCard, type ModelCard } from '../contract/model-card.js';
import { MlflowUnreachableError, type MlflowClient } from './client.js';
import { downloadArtifact, proxiedArtifactPath } from './artifacts.js';
import { getDownloadUri, type ModelVersion } from './registry.js';

/**
 * Why a registered version was not taken: the server did not answer; it answered with an error; a file of the
 * version could not be read; the bytes are not the ones model.json (or the version's tag) names; model.json does
 * not follow the artifact contract.
 */
export const FETCH_FAILURE_REASONS = ['unreachable', 'registry', 'artifact', 'digest', 'contract'] as const;
export type FetchFailureReason = (typeof FETCH_FAILURE_REASONS)[number];

export class ModelFetchError extends Error {
  override name = 'ModelFetchError';
  constructor(
    readonly reason: FetchFailureReason,
    message: string,
    /** The registry version concerned, when known. */
    readonly version: string | null = null,
  ) {
    super(message);
  }
}

/** unreachable when the server never answered, otherwise `answered` (what the failing step was about). */
export function fetchFailureOf(error: unknown, answered: FetchFailureReason, version: string | null = null): ModelFetchError {
  if (error instanceof ModelFetchError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ModelFetchError(error instanceof MlflowUnreachableError ? 'unreachable' : answered, message, version);
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * model.json's text and model.onnx's bytes as one servable pair: the card follows the artifact contract and names
 * exactly these bytes (onnx.sha256). `expectedSha256` (a version's tag) must agree too, so a card swapped together
 * with its graph is caught as well. Throws ModelFetchError ('contract' or 'digest').
 */
export function verifyModelPair(cardText: string, onnxBytes: Uint8Array, label: string, expectedSha256?: string): ModelCard {
  const cardSource = `${label}/${MODEL_FILES.card}`;
  let card: ModelCard;
  try {
    card = parseModelCard(JSON.parse(cardText), cardSource);
  } catch (error) {
    const reason = (error as Error).message;
    throw new ModelFetchError('contract', error instanceof SyntaxError ? `${cardSource} is not JSON: ${reason}` : reason);
  }
  const actual = sha256Hex(onnxBytes);
  if (actual !== card.onnx.sha256) {
    throw new ModelFetchError(
      'digest',
      `${label}/${MODEL_FILES.onnx} has sha256 ${actual} (${onnxBytes.length} bytes) but ${MODEL_FILES.card} names ${card.onnx.sha256} (${card.onnx.bytes} bytes)`,
    );
  }
  if (expectedSha256 !== undefined && expectedSha256 !== actual) {
    throw new ModelFetchError(
      'digest',
      `${label}: tag ${REGISTRY.versionTags.onnxSha256}=${expectedSha256} differs from the sha256 of ${MODEL_FILES.onnx} and ${MODEL_FILES.card} (${actual})`,
    );
  }
  return card;
}

/** The tags a registered version carries, from its card (what a reader checks before downloading anything). */
export function versionTags(card: ModelCard): Record<string, string> {
  const tags: Record<string, string> = {
    [REGISTRY.versionTags.modelVersion]: card.modelVersion,
    [REGISTRY.versionTags.contractVersion]: String(card.contractVersion),
    [REGISTRY.versionTags.onnxSha256]: card.onnx.sha256,
  };
  if (card.gitCommit) tags[REGISTRY.versionTags.gitCommit] = card.gitCommit;
  return tags;
}

/**
 * Download a version's model.json and model.onnx, verify them, and only then write them into `dir` (which must
 * exist; the caller makes it fresh and renames it into place). A version tagged with another contract version is
 * refused before its files are fetched.
 */
export async function fetchModelVersion(
  client: MlflowClient,
  version: ModelVersion,
  dir: string,
): Promise<{ card: ModelCard; dir: string }> {
  const label = `models:/${version.name}/${version.version}`;
  const taggedContract = version.tags[REGISTRY.versionTags.contractVersion];
  if (taggedContract !== undefined && taggedContract !== String(CONTRACT_VERSION)) {
    throw new ModelFetchError(
      'contract',
      `${label} is tagged ${REGISTRY.versionTags.contractVersion}=${taggedContract}; this program reads contract version ${CONTRACT_VERSION} only`,
      version.version,
    );
  }
  let root: string;
  try {
    root = proxiedArtifactPath(await getDownloadUri(client, version.name, version.version));
  } catch (error) {
    throw fetchFailureOf(error, 'registry', version.version);
  }
  const download = async (file: string) => {
    try {
      return await downloadArtifact(client, root, file);
    } catch (error) {
      throw fetchFailureOf(error, 'artifact', version.version);
    }
  };
  const [cardBytes, onnxBytes] = [await download(MODEL_FILES.card), await download(MODEL_FILES.onnx)];
  let card: ModelCard;
  try {
    card = verifyModelPair(Buffer.from(cardBytes).toString('utf8'), onnxBytes, label, version.tags[REGISTRY.versionTags.onnxSha256]);
  } catch (error) {
    const failure = error as ModelFetchError;
    throw new ModelFetchError(failure.reason, failure.message, version.version);
  }
  await writeFile(path.join(dir, MODEL_FILES.card), cardBytes);
  await writeFile(path.join(dir, MODEL_FILES.onnx), onnxBytes);
  return { card, dir };
}
