import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelCardSchema } from './model-card.js';

/** Where the published JSON Schema of model.json lives (beside its TypeBox definition). */
export const MODEL_CARD_SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model-card.schema.json');

/** model-card.schema.json's exact text: the TypeBox definition as plain JSON Schema (draft-07 keywords only). */
export function modelCardJsonSchema(): string {
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...ModelCardSchema }, null, 2)}\n`;
}
