/**
 * Settings from one schema (src/config/settings.ts, src/config/cli-options.ts): env-schema's coercion and defaults,
 * one problem line per setting with the rule written from the schema's keywords, secrets never echoed, and the
 * tables and help generated from the same schema.
 */
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { optionsHelp, optionsTable, parseArgsOptions, parseOptions, type CliOptions } from '../../src/config/cli-options.js';
import { ENV_SOURCE, readEnv, ruleOf, settingsHelp, settingsTable, validateSettings } from '../../src/config/settings.js';

const SCHEMA = Type.Object(
  {
    COUNT: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'how many' }),
    RATIO: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5, description: 'a share' }),
    LIMIT: Type.Optional(Type.Integer({ minimum: 0, description: 'cap | unset: none' })),
    MODE: Type.Enum(['fast', 'safe'], { default: 'safe', description: 'how' }),
    VERBOSE: Type.Boolean({ default: false, description: 'talk' }),
    NAME: Type.String({ default: 'x', description: 'a name' }),
    TOKENS: Type.Array(Type.String({ minLength: 8, title: 'token' }), { default: [], writeOnly: true, description: 'secrets' }),
    TAGS: Type.Array(Type.String({ maxLength: 3, title: 'tag' }), { default: [], description: 'labels' }),
  },
  { additionalProperties: false },
);

describe('readEnv: an environment through the schema', () => {
  it('applies the defaults and leaves optional settings without one unset', () => {
    const result = readEnv(SCHEMA, {});
    expect(result).toEqual({ ok: true, value: { COUNT: 3, RATIO: 0.5, MODE: 'safe', VERBOSE: false, NAME: 'x', TOKENS: [], TAGS: [] } });
  });

  it('converts strings to the schema types, trims, splits lists on commas, treats blank as unset, ignores other variables', () => {
    const result = readEnv(SCHEMA, {
      COUNT: ' 7 ',
      RATIO: '0.25',
      LIMIT: '0',
      MODE: 'fast',
      VERBOSE: 'true',
      NAME: '   ',
      TOKENS: 'abcdefgh, ijklmnop',
      PATH: '/usr/bin',
    });
    expect(result).toEqual({
      ok: true,
      value: { COUNT: 7, RATIO: 0.25, LIMIT: 0, MODE: 'fast', VERBOSE: true, NAME: 'x', TOKENS: ['abcdefgh', 'ijklmnop'], TAGS: [] },
    });
  });

  it('reports every bad setting on its own line, in schema order, with the rule and the value received', () => {
    const result = readEnv(SCHEMA, { VERBOSE: 'yes', COUNT: '11', RATIO: '1', LIMIT: '2.5', MODE: 'slow', TAGS: 'ab,abcd,abcde' });
    expect(result).toEqual({
      ok: false,
      problems: [
        "COUNT: must be an integer from 1 to 10, got '11'",
        "RATIO: must be a number greater than 0 and less than 1, got '1'",
        "LIMIT: must be an integer >= 0, got '2.5'",
        "MODE: must be one of fast, safe, got 'slow'",
        "VERBOSE: must be true or false, got 'yes'",
        "TAGS: every tag must be at most 3 characters long (got 'abcd', 'abcde')",
      ],
    });
  });

  it('never repeats the value of a writeOnly (secret) setting', () => {
    const result = readEnv(SCHEMA, { TOKENS: 'short-secret-1,long-enough-secret,tiny,' });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual(['TOKENS: every token must be at least 8 characters long (2 of 4 are not)']);
    expect(problems.join('\n')).not.toMatch(/tiny|short-secret|long-enough/);
  });

  it('one line per setting even where Ajv reports several keywords', () => {
    const result = readEnv(SCHEMA, { COUNT: 'lots', RATIO: '-1' });
    expect(result.ok ? [] : result.problems).toEqual([
      "COUNT: must be an integer from 1 to 10, got 'lots'",
      "RATIO: must be a number greater than 0 and less than 1, got '-1'",
    ]);
  });
});

describe('rules, help and tables written from the schema', () => {
  it('words each keyword combination', () => {
    expect(ruleOf({ type: 'integer', minimum: 0, maximum: 65535 })).toBe('an integer from 0 to 65535');
    expect(ruleOf({ type: 'number', minimum: 0.5, exclusiveMaximum: 1 })).toBe('a number at least 0.5 and less than 1');
    expect(ruleOf({ type: 'number', exclusiveMinimum: 0 })).toBe('a number > 0');
    expect(ruleOf({ type: 'integer', maximum: 9 })).toBe('an integer <= 9');
    expect(ruleOf({ type: 'string', minLength: 2, maxLength: 5 })).toBe('2 to 5 characters long');
    expect(ruleOf({ enum: ['a', 'b'] })).toBe('one of a, b');
    expect(ruleOf({ type: 'boolean' })).toBe('true or false');
  });

  it('renders a Markdown table with one row per setting, pipes escaped', () => {
    const table = settingsTable(SCHEMA, { heading: 'Variable', name: (key) => `\`${key}\``, source: ENV_SOURCE }).split('\n');
    expect(table).toHaveLength(2 + Object.keys(SCHEMA.properties).length);
    expect(table[0]).toBe('| Variable | Type | Default | Allowed | Meaning |');
    expect(table).toContain('| `COUNT` | integer | `3` | from 1 to 10 | how many |');
    expect(table).toContain('| `LIMIT` | integer | unset | >= 0 | cap \\| unset: none |');
    expect(table).toContain('| `MODE` | string | `safe` | `fast`, `safe` | how |');
    expect(table).toContain('| `TOKENS` | string, comma-separated | none | every token at least 8 characters long | secrets |');
  });

  it('help names every setting with its meaning, rule and default', () => {
    const help = settingsHelp(SCHEMA, { name: (key) => key, source: ENV_SOURCE });
    expect(help.split('\n').filter((line) => /^ {2}\S/.test(line))).toHaveLength(Object.keys(SCHEMA.properties).length);
    expect(help).toMatch(/^ {2}COUNT +how many \(an integer from 1 to 10; default 3\)$/m);
    expect(help).toMatch(/^ {2}NAME +a name \(default x\)$/m);
  });
});

const OPTIONS = {
  input: { schema: Type.Array(Type.String(), { minItems: 1, description: 'input file' }), short: 'i', arg: '<file>' },
  level: { schema: Type.Integer({ minimum: 1, maximum: 9, default: 5, description: 'level' }) },
  name: { schema: Type.Optional(Type.String({ description: 'name' })) },
  dry: { schema: Type.Boolean({ default: false, description: 'change nothing' }) },
  help: { schema: Type.Boolean({ default: false, description: 'this help' }), short: 'h' },
} satisfies CliOptions;

describe('command-line options from one table', () => {
  it('derives parseArgs options: booleans are flags, lists repeat, values are strings until validated', () => {
    expect(parseArgsOptions(OPTIONS)).toEqual({
      input: { type: 'string', multiple: true, short: 'i' },
      level: { type: 'string' },
      name: { type: 'string' },
      dry: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
  });

  it('parses, converts and applies defaults', () => {
    expect(parseOptions(OPTIONS, ['-i', 'a', '--input', 'b', '--dry', 'rest'], true)).toEqual({
      ok: true,
      values: { input: ['a', 'b'], level: 5, dry: true, help: false },
      positionals: ['rest'],
    });
    expect(parseOptions(OPTIONS, ['-i', 'a', '--level', '9'])).toMatchObject({ ok: true, values: { level: 9 } });
  });

  it('names each bad or missing option with its rule', () => {
    expect(parseOptions(OPTIONS, ['--level', '0'])).toEqual({
      ok: false,
      problems: ['--input is required: input file', "--level: must be an integer from 1 to 9, got '0'"],
    });
    const unknown = parseOptions(OPTIONS, ['--colour', 'red']);
    expect(unknown.ok).toBe(false);
    expect(unknown.ok ? '' : unknown.problems[0]).toMatch(/Unknown option '--colour'/);
  });

  it('help and table come from the same entries', () => {
    const help = optionsHelp(OPTIONS);
    expect(help).toMatch(/^ {2}-i, --input <file> +input file \(repeatable; required\)$/m);
    expect(help).toMatch(/^ {2}--level <n> +level \(an integer from 1 to 9; default 5\)$/m);
    expect(help).toMatch(/^ {2}--dry +change nothing$/m);
    const table = optionsTable(OPTIONS);
    expect(table).toContain('| `--dry` | flag | off |  | change nothing |');
    expect(table).not.toContain('--help');
  });

  it('validateSettings keeps the caller-given data untouched (messages quote what was given)', () => {
    const data = { COUNT: '11' };
    validateSettings(SCHEMA, data, (key) => key);
    expect(data).toEqual({ COUNT: '11' });
  });
});
