/**
 * The MLflow model registry over its REST API: registered models, model versions, aliases, `models:/` URIs.
 *
 *   ensureRegisteredModel(client, name)                          // create if absent
 *   createModelVersion(client, { name, source, runId, tags? })   // waits (bounded) until READY → ModelVersion
 *   getModelVersion(client, name, version) / getModelVersionByAlias(client, name, alias)
 *   setAlias(client, name, alias, version) / deleteAlias(client, name, alias) / getAliases(client, name)
 *   setModelVersionTag(client, name, version, key, value)
 *   getDownloadUri(client, name, version)                        // where the version's files are (its source)
 *   parseModelUri('models:/<name>@<alias>' | 'models:/<name>/<version>') → ModelUri   (pure)
 *   resolveModelUri(client, uri) → ModelVersion                   // the version the alias points at now
 *
 * A version's fields come back in camelCase with tags as a record; numbers stay strings, as MLflow sends them.
 */
import { MlflowError, type MlflowClient } from './client.js';

export interface ModelVersion {
  name: string;
  version: string;
  source: string;
  runId: string | null;
  status: string;
  statusMessage: string | null;
  tags: Record<string, string>;
  aliases: string[];
  /** Milliseconds since the epoch. */
  createdAt: number | null;
}

export type ModelUri =
  { uri: string; name: string; alias: string; version: null } | { uri: string; name: string; alias: null; version: string };

interface RawModelVersion {
  name: string;
  version: string;
  source?: string;
  run_id?: string;
  status?: string;
  status_message?: string;
  tags?: Array<{ key: string; value: string }>;
  aliases?: string[];
  creation_timestamp?: string | number;
}

function fromRaw(raw: RawModelVersion): ModelVersion {
  return {
    name: raw.name,
    version: String(raw.version),
    source: raw.source ?? '',
    runId: raw.run_id || null,
    status: raw.status ?? 'READY',
    statusMessage: raw.status_message || null,
    tags: Object.fromEntries((raw.tags ?? []).map((t) => [t.key, t.value])),
    aliases: raw.aliases ?? [],
    createdAt: raw.creation_timestamp === undefined ? null : Number(raw.creation_timestamp),
  };
}

/**
 * `models:/<name>@<alias>` or `models:/<name>/<version>`. Names may hold anything but '/' and '@'; aliases are
 * MLflow's letters, digits, '_' and '-'. Stages (`/Production`) and `/latest` are not supported: aliases replace them.
 */
export const MODEL_URI_PATTERN = '^models:/([^/@]+)(?:@([A-Za-z0-9_-]+)|/([1-9][0-9]*))$';
const MODEL_URI = new RegExp(MODEL_URI_PATTERN);

export function parseModelUri(uri: string): ModelUri {
  const match = MODEL_URI.exec(uri.trim());
  if (!match) {
    throw new MlflowError(
      `model URI "${uri}" is not models:/<name>@<alias> or models:/<name>/<version> (e.g. models:/heart-disease-risk@champion)`,
    );
  }
  const [, name, alias, version] = match;
  return alias !== undefined
    ? { uri: uri.trim(), name: name!, alias, version: null }
    : { uri: uri.trim(), name: name!, alias: null, version: version! };
}

export async function ensureRegisteredModel(client: MlflowClient, name: string): Promise<void> {
  try {
    await client.call('create registered model', 'POST', '/api/2.0/mlflow/registered-models/create', { name });
  } catch (error) {
    if (!(error instanceof MlflowError && error.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw error;
  }
}

export async function getModelVersion(client: MlflowClient, name: string, version: string): Promise<ModelVersion> {
  const got = await client.call<{ model_version: RawModelVersion }>(
    `get model ${name} version ${version}`,
    'GET',
    '/api/2.0/mlflow/model-versions/get',
    new URLSearchParams({ name, version }),
  );
  return fromRaw(got.model_version);
}

/**
 * Register `source` (a run artifact directory) as a new version of `name`, creating the registered model if needed.
 * Registries backed by remote storage may copy asynchronously, so this waits (bounded) until the version is READY.
 */
export async function createModelVersion(
  client: MlflowClient,
  input: { name: string; source: string; runId: string; tags?: Record<string, string>; description?: string },
  wait: { attempts: number; intervalMs: number } = { attempts: 60, intervalMs: 500 },
): Promise<ModelVersion> {
  await ensureRegisteredModel(client, input.name);
  const created = await client.call<{ model_version: RawModelVersion }>(
    'create model version',
    'POST',
    '/api/2.0/mlflow/model-versions/create',
    {
      name: input.name,
      source: input.source,
      run_id: input.runId,
      tags: Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value })),
      ...(input.description !== undefined && { description: input.description }),
    },
  );
  let version = fromRaw(created.model_version);
  for (let attempt = 0; version.status === 'PENDING_REGISTRATION' && attempt < wait.attempts; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, wait.intervalMs));
    version = await getModelVersion(client, input.name, version.version);
  }
  if (version.status !== 'READY') {
    throw new MlflowError(
      `MLflow model ${input.name} version ${version.version} is ${version.status}: ${version.statusMessage ?? 'no message'}`,
    );
  }
  return version;
}

export async function getModelVersionByAlias(client: MlflowClient, name: string, alias: string): Promise<ModelVersion> {
  const got = await client.call<{ model_version: RawModelVersion }>(
    `get model ${name}@${alias}`,
    'GET',
    '/api/2.0/mlflow/registered-models/alias',
    new URLSearchParams({ name, alias }),
  );
  return fromRaw(got.model_version);
}

/** Point `alias` at `version` (moving it if it pointed elsewhere). */
export async function setAlias(client: MlflowClient, name: string, alias: string, version: string): Promise<void> {
  await client.call(`set alias ${name}@${alias} to version ${version}`, 'POST', '/api/2.0/mlflow/registered-models/alias', {
    name,
    alias,
    version,
  });
}

export async function deleteAlias(client: MlflowClient, name: string, alias: string): Promise<void> {
  await client.call(`delete alias ${name}@${alias}`, 'DELETE', '/api/2.0/mlflow/registered-models/alias', { name, alias });
}

/** Every alias of a registered model and the version it points at. */
export async function getAliases(client: MlflowClient, name: string): Promise<Record<string, string>> {
  const got = await client.call<{ registered_model: { aliases?: Array<{ alias: string; version: string }> } }>(
    `get registered model ${name}`,
    'GET',
    '/api/2.0/mlflow/registered-models/get',
    new URLSearchParams({ name }),
  );
  return Object.fromEntries((got.registered_model.aliases ?? []).map((a) => [a.alias, String(a.version)]));
}

export async function setModelVersionTag(client: MlflowClient, name: string, version: string, key: string, value: string): Promise<void> {
  await client.call(`tag model ${name} version ${version}`, 'POST', '/api/2.0/mlflow/model-versions/set-tag', {
    name,
    version,
    key,
    value,
  });
}

/** The URI the version's files can be read from (its source, or where the registry copied them). */
export async function getDownloadUri(client: MlflowClient, name: string, version: string): Promise<string> {
  const got = await client.call<{ artifact_uri: string }>(
    `get download URI of model ${name} version ${version}`,
    'GET',
    '/api/2.0/mlflow/model-versions/get-download-uri',
    new URLSearchParams({ name, version }),
  );
  return got.artifact_uri;
}

/** The version a `models:/` URI names now: an alias is looked up, a version number is fetched. */
export function resolveModelUri(client: MlflowClient, uri: ModelUri): Promise<ModelVersion> {
  return uri.alias !== null ? getModelVersionByAlias(client, uri.name, uri.alias) : getModelVersion(client, uri.name, uri.version);
}
