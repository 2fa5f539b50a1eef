/** The image side of the contract: the tag a model version gets and the labels every build sets. */
import { IMAGE_LABEL_KEYS, IMAGE_NAME, TRAINER_IMAGE_NAME, FIXED_IMAGE_LABELS } from './artifact-contract.js';

/**
 * The image tag for a model version. Docker tags allow [A-Za-z0-9_.-], at most 128 characters, not starting with
 * '.' or '-'. An empty result is an error, never a silent `latest`: a deploy must name the model it ships.
 */
export function imageTag(modelVersion: string): string {
  const tag = modelVersion
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
  if (tag === '') throw new Error(`model version '${modelVersion}' gives an empty image tag`);
  return tag;
}

/** repository:tag of the image that serves `modelVersion` (repository defaults to the contract's image name). */
export function imageReference(modelVersion: string, repository: string = IMAGE_NAME): string {
  return `${repository}:${imageTag(modelVersion)}`;
}

export interface ImageBuildInfo {
  modelVersion: string;
  /** VCS revision the image was built from. */
  revision: string;
  /** Package version of the project. */
  version: string;
  /** RFC 3339 time; the model's creation time keeps rebuilds of one model identical. */
  created: string;
  source: string;
}

/** Every label an API image carries, keyed as the contract says. Builders pass these (docker --label, withLabel). */
export function imageLabels(info: ImageBuildInfo): Record<string, string> {
  return {
    ...FIXED_IMAGE_LABELS,
    [IMAGE_LABEL_KEYS.modelVersion]: info.modelVersion,
    [IMAGE_LABEL_KEYS.title]: IMAGE_NAME,
    [IMAGE_LABEL_KEYS.source]: info.source,
    [IMAGE_LABEL_KEYS.revision]: info.revision,
    [IMAGE_LABEL_KEYS.version]: info.version,
    [IMAGE_LABEL_KEYS.created]: info.created,
  };
}

/**
 * Labels of the trainer image (the Dockerfile's `trainer` stage). It carries no model, so no model version; `created`
 * is the source revision's commit time, so rebuilding one revision gives the same labels.
 */
export function trainerImageLabels(info: Omit<ImageBuildInfo, 'modelVersion'>): Record<string, string> {
  return {
    'org.opencontainers.image.description': 'Heart-disease model retraining and its drift trigger (npm run retrain, retrain:trigger)',
    'org.opencontainers.image.licenses': FIXED_IMAGE_LABELS['org.opencontainers.image.licenses'] ?? 'MIT',
    [IMAGE_LABEL_KEYS.title]: TRAINER_IMAGE_NAME,
    [IMAGE_LABEL_KEYS.source]: info.source,
    [IMAGE_LABEL_KEYS.revision]: info.revision,
    [IMAGE_LABEL_KEYS.version]: info.version,
    [IMAGE_LABEL_KEYS.created]: info.created,
  };
}
