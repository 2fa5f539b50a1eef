/**
 * Registers arbitrary files as a model version the way training lays them out (a run's model/ directory), through
 * the project's own MLflow functions, so tests can put into the registry what training never would: a graph that
 * model.json does not name, a model.onnx that is not ONNX, a card of another contract version.
 *
 *   registerModelFiles(client, files, { tags?, name? }) → ModelVersion
 *   cardWith(card, onnxBytes, changes?) → model.json text naming `onnxBytes` (digest and size)
 */
import { REGISTRY } from '../../src/contract/artifact-contract.js';
import type { ModelCard } from '../../src/contract/model-card.js';
import { proxiedArtifactPath, uploadArtifact } from '../../src/mlflow/artifacts.js';
import type { MlflowClient } from '../../src/mlflow/client.js';
import { sha256Hex } from '../../src/mlflow/registered-model.js';
import { createModelVersion, type ModelVersion } from '../../src/mlflow/registry.js';
import { createRun, endRun, getOrCreateExperiment } from '../../src/mlflow/runs.js';

export async function registerModelFiles(
  client: MlflowClient,
  files: Record<string, Uint8Array | string>,
  options: { tags?: Record<string, string>; name?: string } = {},
): Promise<ModelVersion> {
  const experimentId = await getOrCreateExperiment(client, 'registry-tests');
  const run = await createRun(client, { experimentId, runName: 'hand-registered' });
  const root = proxiedArtifactPath(run.artifact_uri);
  for (const [name, content] of Object.entries(files)) {
    await uploadArtifact(client, root, `${REGISTRY.artifactPath}/${name}`, typeof content === 'string' ? Buffer.from(content) : content);
  }
  await endRun(client, run.run_id, 'FINISHED');
  return createModelVersion(client, {
    name: options.name ?? REGISTRY.modelName,
    source: `${run.artifact_uri}/${REGISTRY.artifactPath}`,
    runId: run.run_id,
    tags: options.tags,
  });
}

/** model.json text for `onnxBytes`: the card with its digest and size, plus any changes. */
export function cardWith(card: ModelCard, onnxBytes: Uint8Array, changes: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...card, onnx: { ...card.onnx, sha256: sha256Hex(onnxBytes), bytes: onnxBytes.length }, ...changes });
}
