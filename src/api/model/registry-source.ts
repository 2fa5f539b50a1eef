/**
 * The served model from the MLflow registry (MODEL_URI = models:/<name>@<alias> or models:/<name>/<version>).
 *
 * A check asks the registry which version the URI names now (one small request). When that is not the version being
 * served, the version's model.json and model.onnx are downloaded into a fresh directory of this instance's cache
 * (<MODEL_CACHE_DIR>/api-XXXX/<version>/), verified (contract version, sha256 of the graph against model.json and the
 * version's tag) and only then offered for loading. Once a version is served, the other cached versions are deleted
 * (onnxruntime holds the graph in memory).
 *
 * A version refused for what it is (digest, contract, load) is remembered and not downloaded again: registry versions
 * are immutable, so it would fail the same way on every poll. Failures of the moment (unreachable, an error answer,
 * an artifact that could not be read) are retried at the next check.
 */
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MlflowClient, type MlflowClientConfig } from '../../mlflow/client.js';
import { fetchFailureOf, fetchModelVersion } from '../../mlflow/registered-model.js';
import { parseModelUri, resolveModelUri, type ModelUri, type ModelVersion } from '../../mlflow/registry.js';
import { ModelSourceError, type ModelCandidate, type ModelOrigin, type ModelSource, type SourceFailureReason } from './source.js';

/** Refusals that depend only on the version's files, so a retry would fail the same way. */
const PERMANENT: ReadonlySet<SourceFailureReason> = new Set<SourceFailureReason>(['digest', 'contract', 'load']);

export const DEFAULT_CACHE_DIR = () => path.join(os.tmpdir(), 'heart-disease-models');

export interface RegistrySourceOptions {
  modelUri: string;
  mlflow: MlflowClientConfig;
  /** Parent of this instance's cache directory (default DEFAULT_CACHE_DIR()). */
  cacheDir?: string | null;
}

export class RegistrySource implements ModelSource {
  readonly location: string;
  private readonly uri: ModelUri;
  private readonly client: MlflowClient;
  private readonly cacheParent: string;
  private cacheDir: string | null = null;
  /** Versions refused for what they are: version → reason. */
  private readonly refusedVersions = new Map<string, SourceFailureReason>();

  constructor(options: RegistrySourceOptions) {
    this.uri = parseModelUri(options.modelUri);
    this.location = this.uri.uri;
    this.client = new MlflowClient(options.mlflow);
    this.cacheParent = options.cacheDir ?? DEFAULT_CACHE_DIR();
  }

  get follows(): boolean {
    return this.uri.alias !== null;
  }

  async initial(): Promise<ModelCandidate> {
    return this.download(await this.resolve());
  }

  async next(serving: ModelOrigin | null): Promise<ModelCandidate | null> {
    const version = await this.resolve();
    if (serving?.kind === 'registry' && serving.version === version.version) return null;
    if (this.refusedVersions.has(version.version)) return null;
    return this.download(version);
  }

  /** The version being served is the only one kept on disk. */
  async accepted(candidate: ModelCandidate): Promise<void> {
    if (!this.cacheDir) return;
    for (const entry of await readdir(this.cacheDir)) {
      const dir = path.join(this.cacheDir, entry);
      if (dir !== candidate.dir) await rm(dir, { recursive: true, force: true });
    }
  }

  async refused(candidate: ModelCandidate): Promise<void> {
    if (candidate.origin.kind === 'registry') this.refusedVersions.set(candidate.origin.version, 'load');
    await rm(candidate.dir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    if (this.cacheDir) await rm(this.cacheDir, { recursive: true, force: true });
    this.cacheDir = null;
  }

  private async resolve(): Promise<ModelVersion> {
    try {
      return await resolveModelUri(this.client, this.uri);
    } catch (error) {
      const failure = fetchFailureOf(error, 'registry');
      throw new ModelSourceError(failure.reason, `${this.uri.uri}: ${failure.message}`);
    }
  }

  /** This instance's own directory, so API processes sharing MODEL_CACHE_DIR never delete each other's files. */
  private async ensureCacheDir(): Promise<string> {
    if (!this.cacheDir) {
      await mkdir(this.cacheParent, { recursive: true });
      this.cacheDir = await mkdtemp(path.join(this.cacheParent, 'api-'));
    }
    return this.cacheDir;
  }

  private async download(version: ModelVersion): Promise<ModelCandidate> {
    // The version names a directory here: only what MLflow hands out (a positive integer) is accepted.
    if (!/^[1-9][0-9]*$/.test(version.version)) {
      throw new ModelSourceError('registry', `${this.uri.uri}: the registry answered version "${version.version}", not a version number`);
    }
    let staging: string | null = null;
    let dir: string;
    try {
      const cacheDir = await this.ensureCacheDir();
      staging = await mkdtemp(path.join(cacheDir, `.download-${version.version}-`));
      dir = path.join(cacheDir, version.version);
      await fetchModelVersion(this.client, version, staging);
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
    } catch (error) {
      if (staging) await rm(staging, { recursive: true, force: true });
      const failure = fetchFailureOf(error, 'artifact', version.version);
      if (PERMANENT.has(failure.reason)) this.refusedVersions.set(version.version, failure.reason);
      throw new ModelSourceError(failure.reason, `${this.uri.uri} → version ${version.version}: ${failure.message}`, version.version);
    }
    const origin: ModelOrigin = {
      kind: 'registry',
      uri: this.uri.uri,
      trackingUri: this.client.baseUrl,
      name: version.name,
      alias: this.uri.alias,
      version: version.version,
      runId: version.runId,
      downloadedAt: new Date().toISOString(),
    };
    return { dir, origin };
  }
}
