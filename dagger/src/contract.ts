/**
 * The artifact contract as the pipeline sees it. The names and values are not restated here: they are read from the
 * project's own src/contract/artifact-contract.json in the source directory, the file the TypeScript code reads. The
 * module cannot import src/ (the engine's runtime loads only dagger/), so the one function, imageTag, is a copy of
 * src/contract/image.ts; test/dagger/contract-copy.test.ts checks both give the same answers.
 */
export const CONTRACT_FILE = 'src/contract/artifact-contract.json';

export interface ArtifactContract {
  contractVersion: number;
  files: { onnx: string; card: string; report: string };
  image: {
    name: string;
    port: number;
    defaultSource: string;
    labels: { modelVersion: string; title: string; source: string; revision: string; version: string; created: string };
    fixedLabels: Record<string, string>;
  };
}

/** The part of a Dagger Directory this reads (structural, so the module's tests can run it without the SDK). */
interface SourceFiles {
  file(path: string): { contents(): Promise<string> };
}

export async function readContract(source: SourceFiles): Promise<ArtifactContract> {
  return JSON.parse(await source.file(CONTRACT_FILE).contents()) as ArtifactContract;
}

/** What the pipeline reads from model.json: the contract version first, so a mismatch says so. */
export interface ModelCardSummary {
  modelVersion: string;
  createdAt: string;
}

export function modelCardSummary(text: string, contract: ArtifactContract): ModelCardSummary {
  const card = JSON.parse(text) as { contractVersion?: unknown; modelVersion?: unknown; createdAt?: unknown };
  if (card.contractVersion !== contract.contractVersion) {
    throw new Error(
      `${contract.files.card} follows contract version ${JSON.stringify(card.contractVersion)}; this pipeline reads ${contract.contractVersion}`,
    );
  }
  if (typeof card.modelVersion !== 'string' || card.modelVersion === '' || typeof card.createdAt !== 'string') {
    throw new Error(`${contract.files.card}: modelVersion and createdAt must be non-empty strings`);
  }
  return { modelVersion: card.modelVersion, createdAt: card.createdAt };
}

/** Copy of src/contract/image.ts imageTag: [A-Za-z0-9_.-], at most 128, not starting with '.' or '-'; never empty. */
export function imageTag(modelVersion: string): string {
  const tag = modelVersion
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
  if (tag === '') throw new Error(`model version '${modelVersion}' gives an empty image tag`);
  return tag;
}
