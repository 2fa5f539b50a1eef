/**
 * Settings stated once: a program's settings (environment variables or command-line options) are one TypeBox object
 * schema whose properties carry the type, default, range or allowed values and meaning (`description`). Validation,
 * error messages, help text and the READMEs' tables are all generated from it here, so none of them can drift.
 *
 * Validation is env-schema's (the library @fastify/env wraps): Ajv with type coercion from strings and defaults.
 * Its own messages ("must be <= 65535") name neither the rule's other half nor the value received, so each problem
 * is rewritten from the failing property's schema keywords: one line per setting, e.g.
 * `PORT: must be an integer from 0 to 65535, got '70000'`. Values of `writeOnly` settings (secrets) are never echoed.
 */
import envSchema from 'env-schema';
import type { Static, TObject, TProperties } from 'typebox';

/** The JSON Schema keywords the settings use, as TypeBox emits them. */
export interface JsonSchema {
  type?: string;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  items?: JsonSchema;
  default?: unknown;
  description?: string;
  /** Valid values beyond the default (tests use the first). */
  examples?: readonly unknown[];
  /** Of a list's items: what one entry is called in messages ("every key must be ..."). */
  title?: string;
  /** A secret: its value is never repeated in a message. */
  writeOnly?: boolean;
}

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

export type SettingsResult<S extends TObject> = { ok: true; value: Static<S> } | { ok: false; problems: string[] };

const jsonSchema = (schema: unknown) => schema as JsonSchema;

export function propertiesOf(schema: TObject): Array<[string, JsonSchema]> {
  return Object.entries(schema.properties as TProperties).map(([key, property]) => [key, jsonSchema(property)]);
}

export const requiredKeys = (schema: TObject): ReadonlySet<string> => new Set((schema as { required?: string[] }).required ?? []);

/** "from 0 to 65535", "greater than 0 and less than 0.5", ">= 0"; '' when unbounded. */
export function boundsText(s: JsonSchema): string {
  const low = s.minimum ?? s.exclusiveMinimum;
  const high = s.maximum ?? s.exclusiveMaximum;
  const lowExclusive = s.minimum === undefined && s.exclusiveMinimum !== undefined;
  const highExclusive = s.maximum === undefined && s.exclusiveMaximum !== undefined;
  if (low !== undefined && high !== undefined) {
    if (!lowExclusive && !highExclusive) return `from ${low} to ${high}`;
    return `${lowExclusive ? 'greater than' : 'at least'} ${low} and ${highExclusive ? 'less than' : 'at most'} ${high}`;
  }
  if (low !== undefined) return `${lowExclusive ? '>' : '>='} ${low}`;
  if (high !== undefined) return `${highExclusive ? '<' : '<='} ${high}`;
  return '';
}

function lengthText(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.minLength !== undefined && s.maxLength !== undefined) parts.push(`${s.minLength} to ${s.maxLength} characters long`);
  else if (s.minLength !== undefined) parts.push(`at least ${s.minLength} characters long`);
  else if (s.maxLength !== undefined) parts.push(`at most ${s.maxLength} characters long`);
  if (s.pattern !== undefined) parts.push(`matching /${s.pattern}/`);
  return parts.join(' and ');
}

/** What a valid value is, completing "must be ...": "an integer from 0 to 65535", "one of a, b", "true or false". */
export function ruleOf(s: JsonSchema): string {
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  const bounds = boundsText(s);
  switch (s.type) {
    case 'integer':
      return bounds ? `an integer ${bounds}` : 'an integer';
    case 'number':
      return bounds ? `a number ${bounds}` : 'a number';
    case 'boolean':
      return 'true or false';
    case 'string':
      return lengthText(s) || 'a string';
    case 'array':
      return `a list where every ${s.items?.title ?? 'entry'} is ${s.items ? ruleOf(s.items) : 'anything'}`;
    default:
      return `of type ${s.type ?? 'any'}`;
  }
}

/** How settings are written where they come from: a list in one variable, or a repeated option; flags. */
export interface Source {
  /** What a list is called: "comma-separated", "repeatable". */
  list: string;
  /** Booleans are flags (present = true, no value), as on a command line. */
  flags: boolean;
}
export const ENV_SOURCE: Source = { list: 'comma-separated', flags: false };
export const CLI_SOURCE: Source = { list: 'repeatable', flags: true };

const isFlag = (s: JsonSchema, source: Source) => source.flags && s.type === 'boolean';

/** Type column of the tables: integer, number, boolean, string, flag, "string, comma-separated". */
export function typeOf(s: JsonSchema, source: Source): string {
  if (isFlag(s, source)) return 'flag';
  if (s.type === 'array') return `${s.items ? typeOf(s.items, source) : 'any'}, ${source.list}`;
  return s.type ?? (s.enum ? typeof s.enum[0] : 'any');
}

/** Allowed column: what `ruleOf` says, as a table cell; 'any' when anything of the type goes, '' for a flag. */
export function allowedOf(s: JsonSchema, source: Source): string {
  if (isFlag(s, source)) return '';
  if (s.enum) return s.enum.map((value) => `\`${String(value)}\``).join(', ');
  if (s.type === 'boolean') return '`true`, `false`';
  if (s.type === 'array') {
    const each = s.items ? allowedOf(s.items, source) : 'any';
    return each === 'any' ? 'any' : `every ${s.items?.title ?? 'entry'} ${each}`;
  }
  if (s.type === 'string') return lengthText(s) || 'any';
  return boundsText(s) || 'any';
}

/** Default column and help: `8000`, `artifacts`, "none" for an empty list, "unset" when absent means "off". */
export function defaultOf(s: JsonSchema, required: boolean, source: Source): string {
  if (isFlag(s, source)) return 'off';
  if (s.default === undefined) return required ? 'required' : 'unset';
  if (Array.isArray(s.default) && s.default.length === 0) return 'none';
  return `\`${String(s.default)}\``;
}

const quote = (value: unknown) => `'${Array.isArray(value) ? value.join(',') : String(value)}'`;

function problemsFrom(schema: TObject, data: Record<string, unknown>, errors: AjvError[], label: (key: string) => string): string[] {
  const byKey = new Map<string, AjvError[]>();
  const stray: string[] = [];
  for (const error of errors) {
    const key = error.keyword === 'required' ? String(error.params.missingProperty) : error.instancePath.split('/')[1];
    if (key === undefined || !(key in schema.properties))
      stray.push(`${error.instancePath || 'settings'}: ${error.message ?? error.keyword}`);
    else byKey.set(key, [...(byKey.get(key) ?? []), error]);
  }
  const problems: string[] = [];
  // Schema order, one line per setting: Ajv may report several keywords (or list entries) for one value.
  for (const [key, s] of propertiesOf(schema)) {
    const failures = byKey.get(key);
    if (!failures) continue;
    const name = label(key);
    const raw = data[key];
    if (failures.some((error) => error.keyword === 'required')) {
      problems.push(`${name} is required${s.description ? `: ${s.description}` : ''}`);
    } else if (s.type === 'array' && Array.isArray(raw) && failures.every((error) => error.instancePath.split('/').length > 2)) {
      const bad = [...new Set(failures.map((error) => Number(error.instancePath.split('/')[2])))].map((index) => raw[index]);
      const which = s.writeOnly
        ? `${bad.length} of ${raw.length} ${bad.length === 1 ? 'is' : 'are'} not`
        : `got ${bad.map(quote).join(', ')}`;
      problems.push(`${name}: every ${s.items?.title ?? 'entry'} must be ${s.items ? ruleOf(s.items) : 'valid'} (${which})`);
    } else if (s.type === 'array' && failures.some((error) => error.keyword === 'minItems')) {
      problems.push(`${name}: needs at least ${s.minItems} ${s.items?.title ?? 'entry'}${s.minItems === 1 ? '' : 's'}`);
    } else {
      problems.push(`${name}: must be ${ruleOf(s)}${s.writeOnly ? '' : `, got ${quote(raw)}`}`);
    }
  }
  return [...problems, ...stray];
}

/**
 * Validates `data` (strings as they come from the environment or the command line) against the schema: converts to
 * the schema's types, fills defaults, and on failure returns one problem line per setting, named by `label`.
 */
export function validateSettings<S extends TObject>(
  schema: S,
  data: Record<string, unknown>,
  label: (key: string) => string,
): SettingsResult<S> {
  try {
    // env: false: read only `data`, never process.env, so callers (and tests) pass exactly the environment they mean.
    // Lists are copied: Ajv converts in place, and the messages quote what the caller gave.
    const copy = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Array.isArray(value) ? [...value] : value]));
    return { ok: true, value: envSchema({ schema, data: copy, env: false }) as Static<S> };
  } catch (error) {
    const errors = (error as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw error;
    return { ok: false, problems: problemsFrom(schema, data, errors, label) };
  }
}

/**
 * An environment as the schema reads it. A blank value counts as unset (`VAR=` in a shell, `${VAR:-}` in compose,
 * an empty ConfigMap entry); values are trimmed; list settings are split on commas here because env-schema's
 * `separator` keyword splits only after validation, so the entries themselves could not be checked.
 */
export function settingsFromEnv(schema: TObject, env: Record<string, string | undefined>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [name, s] of propertiesOf(schema)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    data[name] = s.type === 'array' ? raw.split(',').map((entry) => entry.trim()) : raw;
  }
  return data;
}

/** Validates an environment against the schema; problems name the variable. */
export function readEnv<S extends TObject>(schema: S, env: Record<string, string | undefined>): SettingsResult<S> {
  return validateSettings(schema, settingsFromEnv(schema, env), (name) => name);
}

export interface TableOptions {
  /** Heading of the first column: "Variable", "Option". */
  heading: string;
  /** How a setting is written in the first column: `PORT`, `--seed <n>`. */
  name: (key: string) => string;
  source: Source;
  /** A default computed at run time, shown instead of the schema's (e.g. a path inside the checkout). */
  defaultText?: (key: string) => string | undefined;
  /** Settings left out (e.g. --help from the README's table). */
  omit?: readonly string[];
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function rows(schema: TObject, options: Omit<TableOptions, 'heading'>) {
  const required = requiredKeys(schema);
  return propertiesOf(schema)
    .filter(([key]) => !options.omit?.includes(key))
    .map(([key, s]) => ({
      key,
      s,
      name: options.name(key),
      fallback: options.defaultText?.(key) ?? defaultOf(s, required.has(key) && s.default === undefined, options.source),
    }));
}

/** The settings as a Markdown table: name, type, default, allowed values, meaning. */
export function settingsTable(schema: TObject, options: TableOptions): string {
  const lines = rows(schema, options).map(
    ({ s, name, fallback }) =>
      `| ${[name, typeOf(s, options.source), fallback, allowedOf(s, options.source), s.description ?? ''].map(cell).join(' | ')} |`,
  );
  return [`| ${options.heading} | Type | Default | Allowed | Meaning |`, '| --- | --- | --- | --- | --- |', ...lines].join('\n');
}

/** Plain-text lines for help and error output: "  PORT  listen port (an integer from 0 to 65535; default 8000)". */
export function settingsHelp(schema: TObject, options: Omit<TableOptions, 'heading'>, width = 118): string {
  const entries = rows(schema, options).map(({ s, name, fallback }) => {
    const facts: string[] = [];
    if (s.type === 'array') facts.push([options.source.list, allowedOf(s, options.source)].filter((text) => text !== 'any').join(', '));
    else if (!isFlag(s, options.source) && !(s.type === 'string' && !lengthText(s))) facts.push(ruleOf(s));
    if (!isFlag(s, options.source)) facts.push(fallback === 'required' ? 'required' : `default ${fallback.replaceAll('`', '')}`);
    return [name, `${s.description ?? ''}${facts.length ? ` (${facts.join('; ')})` : ''}`] as const;
  });
  const pad = Math.max(...entries.map(([name]) => name.length)) + 2;
  return entries.map(([name, text]) => `  ${name.padEnd(pad)}${wrap(text, width - pad - 2).join(`\n${' '.repeat(pad + 2)}`)}`).join('\n');
}
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
