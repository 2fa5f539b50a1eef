/**
 * npm run contract:schema — writes src/contract/model-card.schema.json from the TypeBox definition in
 * src/contract/model-card.ts, for consumers in other languages. test/contract checks the file is up to date.
 */
import { writeFileSync } from 'node:fs';
import { modelCardJsonSchema, MODEL_CARD_SCHEMA_FILE } from '../../src/contract/json-schema.js';

writeFileSync(MODEL_CARD_SCHEMA_FILE, modelCardJsonSchema());
console.log(`wrote ${MODEL_CARD_SCHEMA_FILE}`);
