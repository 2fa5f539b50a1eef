/**
 * Names and values every consumer of the trained artifacts agrees on, typed. Defined once, in artifact-contract.json
 * (so the Dagger module and other non-TypeScript tools read the same file).
 */
import contract from './artifact-contract.json' with { type: 'json' };

/** Version of the artifact contract; model.json carries it as `contractVersion` and consumers refuse any other. */
export const CONTRACT_VERSION: number = contract.contractVersion;

/** File names inside a model directory (MODEL_DIR, the image's /app/artifacts, a registry version's artifacts). */
export const MODEL_FILES: Readonly<{ onnx: string; card: string; report: string }> = contract.files;

/** The ONNX graph's input: float32 [N, features] in feature-schema order, NaN = missing. */
export const ONNX_INPUT: string = contract.onnx.input;
/** The graph's outputs: label int64 [N] (P >= threshold) and probabilities float32 [N, 2] (column 1 = P(disease)). */
export const ONNX_OUTPUTS: Readonly<{ label: string; probabilities: string }> = contract.onnx.outputs;

/** Decision threshold training writes into model.json unless told otherwise; serving reads model.json's value. */
export const DEFAULT_DECISION_THRESHOLD: number = contract.decisionThreshold;

/** Repository name of the API image (Minikube, registries, the Helm chart's default). */
export const IMAGE_NAME: string = contract.image.name;
/** Repository name of the trainer image (the Dockerfile's `trainer` stage: `npm run retrain`, `retrain:trigger`). */
export const TRAINER_IMAGE_NAME: string = contract.image.trainerName;
/** Port the API listens on inside its image. */
export const API_PORT: number = contract.image.port;
/** Source repository an image's label names when the build cannot read a git remote. */
export const DEFAULT_IMAGE_SOURCE: string = contract.image.defaultSource;
/** Keys of the image labels whose values come from the build: the model version (no OCI key exists for it), OCI's. */
export const IMAGE_LABEL_KEYS: Readonly<typeof contract.image.labels> = contract.image.labels;
/** Labels with the same value on every API image. */
export const FIXED_IMAGE_LABELS: Readonly<Record<string, string>> = contract.image.fixedLabels;

/**
 * The MLflow model registry as training writes it and serving reads it: the registered model's name, the run
 * artifact directory a model version points at (holding MODEL_FILES), the aliases promotion moves, and the keys of
 * the tags every version carries.
 */
export const REGISTRY: Readonly<{
  modelName: string;
  artifactPath: string;
  aliases: Readonly<{ champion: string; challenger: string }>;
  versionTags: Readonly<{ modelVersion: string; contractVersion: string; onnxSha256: string; gitCommit: string }>;
}> = contract.registry;

/** A row with at least this many missing features is flagged `mostlyMissing` (its estimate rests on imputed values). */
export const MOSTLY_MISSING_MIN_IMPUTED: number = contract.missingData.mostlyMissingMinImputed;
