/**
 * npm run docs:config — rewrites the configuration tables in the READMEs from the schemas (scripts/docs/config-tables.ts).
 * test/config/docs.test.ts checks they are up to date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_TABLES, readmePath, withTable } from './config-tables.js';

for (const table of CONFIG_TABLES) {
  const file = readmePath(table);
  const before = readFileSync(file, 'utf8');
  const after = withTable(before, table);
  if (after !== before) writeFileSync(file, after);
  console.log(`${after === before ? 'unchanged' : 'wrote'} ${table.file} (${table.id})`);
}
