import type { ModelCard } from '../../train/pipeline.js';
import { FEATURE_NAMES } from '../../schema/feature-schema.js';

export type { ModelCard };

/** Why a parsed model.json cannot be served, or null. Checks only what the API relies on. */
export function cardProblem(card: unknown): string | null {
  if (typeof card !== 'object' || card === null) return 'model.json is not a JSON object';
  const c = card as Partial<ModelCard>;
  if (typeof c.modelVersion !== 'string' || c.modelVersion === '') return 'model.json: modelVersion must be a non-empty string';
  if (typeof c.selectedModel !== 'string') return 'model.json: selectedModel must be a string';
  const names = c.schema?.features?.map((f) => f.name);
  if (!Array.isArray(names) || names.join(',') !== FEATURE_NAMES.join(',')) {
    return `model.json: schema features [${names?.join(', ') ?? 'none'}] differ from the API's feature schema [${FEATURE_NAMES.join(', ')}]`;
  }
  if (typeof c.reference !== 'object' || c.reference === null) return 'model.json: reference distributions are missing';
  if (c.explainer?.kind === 'linear' && !Array.isArray(c.explainer.terms)) return 'model.json: linear explainer has no terms';
  return null;
}
