/**
 * Command-line options stated once: each option is a TypeBox schema (type, default, range, meaning) plus how it is
 * written on the command line. node:util parseArgs' option table, the validation with its messages, --help and the
 * README's option table are generated from it (validation and messages as for environment variables, settings.ts).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import Type, { type Static, type TObject, type TSchema } from 'typebox';
import { CLI_SOURCE, settingsHelp, settingsTable, validateSettings } from './settings.js';

export interface CliOption {
  schema: TSchema;
  /** One-letter alias: `-n`. */
  short?: string;
  /** Placeholder for the value in help: `<dir>` (default from the type: `<n>`, `<x>`, `<value>`). */
  arg?: string;
  /** A default computed at run time (e.g. a path in this checkout), shown in help and tables instead of 'unset'. */
  defaultText?: string;
}

export type CliOptions = Record<string, CliOption>;

type SchemaOf<T extends CliOptions> = TObject<{ [K in keyof T]: T[K]['schema'] }>;
export type OptionValues<T extends CliOptions> = Static<SchemaOf<T>>;

/** The options as one object schema (for validation, tables and tests). */
export function optionsSchema<T extends CliOptions>(options: T): SchemaOf<T> {
  const properties = Object.fromEntries(Object.entries(options).map(([name, option]) => [name, option.schema]));
  return Type.Object(properties, { additionalProperties: false }) as unknown as SchemaOf<T>;
}

function placeholder(option: CliOption): string {
  if (option.arg) return option.arg;
  const type = (option.schema as { type?: string; items?: { type?: string } }).type;
  if (type === 'boolean') return '';
  return type === 'integer' ? '<n>' : type === 'number' ? '<x>' : '<value>';
}

/** `-n, --namespace <ns>` */
export function optionName(name: string, option: CliOption): string {
  const arg = placeholder(option);
  return `${option.short ? `-${option.short}, ` : ''}--${name}${arg ? ` ${arg}` : ''}`;
}

/** parseArgs' option table. Defaults are left to validation, which applies the schema's. */
export function parseArgsOptions(options: CliOptions): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(options).map(([name, option]) => {
      const type = (option.schema as { type?: string }).type;
      return [
        name,
        {
          type: type === 'boolean' ? 'boolean' : 'string',
          ...(type === 'array' ? { multiple: true } : {}),
          ...(option.short ? { short: option.short } : {}),
        },
      ];
    }),
  );
}

export type ParsedOptions<T extends CliOptions> =
  { ok: true; values: OptionValues<T>; positionals: string[] } | { ok: false; problems: string[] };

/**
 * argv → typed option values with defaults applied, or the problems, one line per option
 * (`--folds: must be an integer from 2 to 20, got '1'`, `--namespace is required: ...`).
 */
export function parseOptions<T extends CliOptions>(options: T, argv: string[], allowPositionals = false): ParsedOptions<T> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: parseArgsOptions(options), strict: true, allowPositionals });
  } catch (error) {
    return { ok: false, problems: [(error as Error).message] };
  }
  const result = validateSettings(optionsSchema(options), { ...parsed.values }, (name) => `--${name}`);
  return result.ok ? { ok: true, values: result.value, positionals: parsed.positionals } : result;
}

/** The option lines of --help. */
export function optionsHelp(options: CliOptions): string {
  return settingsHelp(optionsSchema(options), {
    name: (name) => optionName(name, options[name]!),
    source: CLI_SOURCE,
    defaultText: (name) => options[name]?.defaultText,
  });
}

/** The options as a Markdown table for a README (without --help). */
export function optionsTable(options: CliOptions): string {
  return settingsTable(optionsSchema(options), {
    heading: 'Option',
    name: (name) => `\`${optionName(name, options[name]!)}\``,
    source: CLI_SOURCE,
    defaultText: (name) => options[name]?.defaultText,
    omit: ['help'],
  });
}
