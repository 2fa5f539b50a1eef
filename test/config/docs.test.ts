/**
 * The READMEs' configuration tables are the schemas' (scripts/docs/config-tables.ts): each table in the README equals
 * the one rendered from its schema (`npm run docs:config` rewrites them), and each CLI's --help lists every option.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ENV } from '../../src/api/config.js';
import { DEPLOY_OPTIONS } from '../../src/release/args.js';
import { RETRAIN_OPTIONS, TRIGGER_OPTIONS } from '../../src/retrain/options.js';
import { TRAIN_OPTIONS } from '../../src/train/options.js';
import { CONFIG_TABLES, openMarker, readmePath, tableIn, withTable } from '../../scripts/docs/config-tables.js';
import { runTs } from '../support/run-cli.js';

describe('configuration tables in the READMEs', () => {
  it.each(CONFIG_TABLES.map((table) => [table.id, table] as const))(
    '%s: the README table is the one rendered from the schema (else run npm run docs:config)',
    (_id, table) => {
      const text = readFileSync(readmePath(table), 'utf8');
      expect(text, `${table.file} lacks the marker ${openMarker(table)}`).toContain(openMarker(table));
      expect(tableIn(text, table)).toBe(table.render());
    },
  );

  it('one row per setting: every API variable and every option but --help', () => {
    const rowsOf = (id: string) => {
      const table = CONFIG_TABLES.find((t) => t.id === id)!;
      return table.render().split('\n').slice(2);
    };
    expect(rowsOf('api-env').map((row) => /^\| `(\w+)`/.exec(row)?.[1])).toEqual(Object.keys(API_ENV.properties));
    for (const [id, options] of [
      ['train-options', TRAIN_OPTIONS],
      ['deploy-options', DEPLOY_OPTIONS],
      ['retrain-options', RETRAIN_OPTIONS],
      ['trigger-options', TRIGGER_OPTIONS],
    ] as const) {
      expect(rowsOf(id).map((row) => /--([\w-]+)/.exec(row)?.[1])).toEqual(Object.keys(options).filter((name) => name !== 'help'));
    }
  });

  it('withTable replaces only the marked block and refuses a README without the markers', () => {
    const table = CONFIG_TABLES[0]!;
    const stale = `intro\n\n${openMarker(table)}\n\n| old |\n\n<!-- end generated: ${table.id} -->\n\noutro\n`;
    const fresh = withTable(stale, table);
    expect(fresh.startsWith('intro\n\n')).toBe(true);
    expect(fresh.endsWith('\n\noutro\n')).toBe(true);
    expect(tableIn(fresh, table)).toBe(table.render());
    expect(() => withTable('no markers here', table)).toThrow(/no "<!-- generated: api-env/);
  });
});

describe('--help of the CLIs lists every option', () => {
  it.each([
    ['src/train/cli.ts', TRAIN_OPTIONS],
    ['src/release/cli.ts', DEPLOY_OPTIONS],
  ] as const)('%s --help', async (entry, options) => {
    const result = await runTs(entry, ['--help']);
    expect(result.code).toBe(0);
    for (const name of Object.keys(options)) expect(result.stdout).toMatch(new RegExp(`^ {2}(-\\w, )?--${name}\\b`, 'm'));
  });
});
