/**
 * npm run feedback:import -- --file outcomes.csv|json [--database-url <url> | --sqlite-path <file>]
 *
 * Records outcomes that arrive from a hospital system in bulk, straight into the prediction log (the same store and
 * rules as POST /feedback: a repeat is accepted, a contradiction or an unknown id changes nothing and is reported).
 * The whole file is validated first; one bad value refuses the import, naming line (CSV) or item (JSON), field and
 * rule. Exit: 0 every outcome recorded or already there; 1 some conflicted or named no prediction; 2 bad input or usage.
 */
import { readFileSync } from 'node:fs';
import * as aq from 'arquero';
import { optionsHelp, parseOptions } from '../config/cli-options.js';
import { runCli, UsageError } from '../config/cli-run.js';
import { InvalidInputError } from '../api/dataplane/refusals.js';
import { readFeedbackBody } from './feedback-request.js';
import { IMPORT_OPTIONS } from './import-options.js';
import { openPredictionStore } from './open-store.js';
import type { FeedbackStatus, OutcomeFeedback } from './store.js';

const USAGE = `Usage: npm run feedback:import -- --file <outcomes.csv|outcomes.json> [options]\n\n${optionsHelp(IMPORT_OPTIONS)}`;

/** CSV rows as feedback items: outcome '0'/'1' as numbers, empty cells as absent. */
function itemsFromCsv(text: string): unknown[] {
  const rows = aq.fromCSV(text, { autoType: false }).objects() as Record<string, string | null>[];
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row)
        .filter(([, value]) => value !== null && value !== '')
        .map(([key, value]) => [key, key === 'outcome' && /^[01]$/.test(value!) ? Number(value) : value]),
    ),
  );
}

function itemsFromJson(text: string): unknown[] {
  const parsed: unknown = JSON.parse(text);
  if (Array.isArray(parsed)) return parsed;
  if (typeof parsed === 'object' && parsed !== null && 'outcomes' in parsed) return (parsed as { outcomes: unknown[] }).outcomes;
  return [parsed];
}

/** The file's items, validated as POST /feedback validates them; field names say where: `line 3 outcome`, `[2].outcome`. */
export function readOutcomeFile(file: string, text: string): OutcomeFeedback[] {
  const csv = file.endsWith('.csv');
  const items = csv ? itemsFromCsv(text) : itemsFromJson(text);
  try {
    return readFeedbackBody({ outcomes: items }, Number.MAX_SAFE_INTEGER, 50).items;
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    // outcomes[i].field → CSV: line i+2 (after the header); JSON: [i].field
    const where = (field: string) =>
      field.replace(/^outcomes\[(\d+)\]\.?/, (_m, i: string) =>
        csv ? `line ${Number(i) + 2}${field.includes('].') ? ' ' : ''}` : `[${i}]${field.includes('].') ? '.' : ''}`,
      );
    const lines = error.refusals.details.map((d) => `  ${where(d.field)}: ${d.rule}${d.allowed ? ` (allowed: ${d.allowed})` : ''}`);
    const more = error.refusals.omitted > 0 ? `\n  ... and ${error.refusals.omitted} more` : '';
    throw new UsageError(`${file}: ${error.refusals.problems} problem(s), nothing imported:\n${lines.join('\n')}${more}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(IMPORT_OPTIONS, argv);
  if (!parsed.ok) throw new UsageError(parsed.problems.join('\n'));
  const options = parsed.values;
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  let text: string;
  try {
    text = readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${options.file}: ${(error as Error).message}`);
  }
  let items: OutcomeFeedback[];
  try {
    items = readOutcomeFile(options.file, text);
  } catch (error) {
    if (error instanceof SyntaxError) throw new UsageError(`${options.file}: not JSON: ${error.message}`);
    throw error;
  }
  const store = await openPredictionStore({ databaseUrl: options['database-url'] ?? null, sqlitePath: options['sqlite-path'] });
  const counts: Record<FeedbackStatus, number> = { recorded: 0, unchanged: 0, conflict: 0, not_found: 0 };
  const problems: string[] = [];
  try {
    for (let from = 0; from < items.length; from += options['batch-size']) {
      const results = await store.recordOutcomes(items.slice(from, from + options['batch-size']));
      for (const r of results) {
        counts[r.status]++;
        if (r.status === 'conflict') problems.push(`${r.predictionId}: conflict, stored outcome ${r.storedOutcome}`);
        if (r.status === 'not_found') problems.push(`${r.predictionId}: no logged prediction has this id`);
      }
    }
  } finally {
    await store.close();
  }
  console.log(JSON.stringify({ file: options.file, store: store.kind, items: items.length, ...counts }));
  for (const line of problems.slice(0, 50)) console.error(line);
  if (problems.length > 50) console.error(`... and ${problems.length - 50} more`);
  return problems.length > 0 ? 1 : 0;
}

// Run as a command (the module also exports the file reader, for its tests). Bad input and usage both exit 2.
if (import.meta.url === `file://${process.argv[1]}`) runCli(main, { failed: 2, usage: 2 }, { usage: USAGE });
