/**
 * The configuration tables in the READMEs, each generated from the schema that validates the settings. A table
 * sits between `<!-- generated: <id> ... -->` and `<!-- end generated: <id> -->` (blank lines around it, so Markdown
 * sees a table, not HTML); `npm run docs:config` rewrites it and test/config/docs.test.ts fails when a README's table
 * differs from the schema's.
 */
import path from 'node:path';
import { environmentTable } from '../../src/api/config.js';
import { optionsTable } from '../../src/config/cli-options.js';
import { DEPLOY_OPTIONS } from '../../src/release/args.js';
import { RETRAIN_OPTIONS, TRIGGER_OPTIONS } from '../../src/retrain/options.js';
import { TRAIN_OPTIONS } from '../../src/train/options.js';
import { IMPORT_OPTIONS } from '../../src/outcomes/import-options.js';
import { repoRoot } from '../lib/model-dir.js';

export interface ConfigTable {
  id: string;
  /** README holding the table, relative to the repository root. */
  file: string;
  /** Where the settings are defined (named in the marker so a reader knows where to edit). */
  schema: string;
  render: () => string;
}

export const CONFIG_TABLES: readonly ConfigTable[] = [
  { id: 'api-env', file: 'src/api/README.md', schema: 'src/api/config.ts', render: environmentTable },
  { id: 'train-options', file: 'README.md', schema: 'src/train/options.ts', render: () => optionsTable(TRAIN_OPTIONS) },
  { id: 'retrain-options', file: 'README.md', schema: 'src/retrain/options.ts', render: () => optionsTable(RETRAIN_OPTIONS) },
  { id: 'trigger-options', file: 'README.md', schema: 'src/retrain/options.ts', render: () => optionsTable(TRIGGER_OPTIONS) },
  { id: 'deploy-options', file: 'README.md', schema: 'src/release/args.ts', render: () => optionsTable(DEPLOY_OPTIONS) },
  {
    id: 'feedback-import-options',
    file: 'README.md',
    schema: 'src/outcomes/import-options.ts',
    render: () => optionsTable(IMPORT_OPTIONS),
  },
];

export const readmePath = (table: ConfigTable) => path.join(repoRoot, table.file);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function blockPattern(id: string): RegExp {
  return new RegExp(`(<!-- generated: ${escape(id)} [^\\n]*-->\\n)([\\s\\S]*?\\n)?(<!-- end generated: ${escape(id)} -->)`);
}

/** The table as it stands in the README text, or undefined when the markers are missing. */
export function tableIn(text: string, table: ConfigTable): string | undefined {
  const match = blockPattern(table.id).exec(text);
  return match ? (match[2] ?? '').trim() : undefined;
}

/** The README text with the table replaced by the rendered one. */
export function withTable(text: string, table: ConfigTable): string {
  const pattern = blockPattern(table.id);
  if (!pattern.test(text)) {
    throw new Error(`${table.file} has no "<!-- generated: ${table.id} ... -->" ... "<!-- end generated: ${table.id} -->" block`);
  }
  return text.replace(pattern, (_all, open: string, _table: string | undefined, close: string) => `${open}\n${table.render()}\n\n${close}`);
}

/** The opening marker to paste into a README for a new table. */
export const openMarker = (table: ConfigTable) =>
  `<!-- generated: ${table.id} from ${table.schema} by npm run docs:config; edit there, not here -->`;
