import { parseModelCard, ModelCardError, type ModelCard } from '../../contract/model-card.js';
import { FEATURE_NAMES } from '../../features/feature-schema.js';

export type { ModelCard };

/**
 * A model.json the API can serve: the artifact contract (version and shape), plus what only this server can judge —
 * the card's features are exactly the API's feature schema, so validation and the graph's input agree.
 * Throws ModelCardError with the reason.
 */
export function servableCard(value: unknown, source: string): ModelCard {
  const card = parseModelCard(value, source);
  const names = card.schema.features.map((f) => f.name);
  if (names.join(',') !== FEATURE_NAMES.join(',')) {
    throw new ModelCardError(
      `${source}: schema features [${names.join(', ')}] differ from the API's feature schema [${FEATURE_NAMES.join(', ')}]`,
    );
  }
  return card;
}
