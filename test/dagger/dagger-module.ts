/**
 * The Dagger module as the engine sees it, without an engine: runs the TypeScript SDK's own introspection (`scan`, the
 * step the engine runs to register a module's functions) over dagger/src. Offline: the introspector resolves core
 * types (Directory, Container, ...) from a file named client.gen.ts, so the SDK's published client.gen.d.ts is copied
 * to a temporary client.gen.ts. Needs `npm ci --prefix dagger`.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../support/paths.js';
import { realComponent } from '../support/real-component.js';

export const daggerDir = path.join(repoRoot, 'dagger');
export const sdkDir = path.join(daggerDir, 'node_modules/@dagger.io/dagger');
export const MODULE_NAME = 'heart-disease-mlops';

/**
 * Whether dagger/node_modules holds the SDK (`npm ci --prefix dagger`, which README's Quick start runs). Tests that
 * need it skip with that command outside CI and fail in CI, like every other real component.
 */
export function daggerSdkInstalled(): boolean {
  return realComponent(
    'the Dagger module dependencies (dagger/node_modules)',
    existsSync(path.join(sdkDir, 'package.json')),
    'run npm ci --prefix dagger',
  );
}

/** The functions the module's main object registers, sorted. */
export const EXPECTED_FUNCTIONS = [
  'lint',
  'test',
  'train',
  'build',
  'smokeTest',
  'ci',
  'publish',
  'serve',
  'minikubeLoad',
  'deploy',
  'e2e',
  'mlflowServer',
  'retrain',
  'retrainTrigger',
].sort();

export interface TypeRef {
  kind: string;
  name?: string;
  typeDef?: TypeRef;
}

export interface ScannedArgument {
  name: string;
  description: string;
  type?: TypeRef;
  isOptional: boolean;
  isNullable: boolean;
  defaultValue?: unknown;
  defaultPath?: string;
  ignore?: string[];
}

export interface ScannedFunction {
  name: string;
  description: string;
  arguments: Record<string, ScannedArgument>;
  returnType?: TypeRef;
}

export interface ScannedObject {
  name: string;
  description: string;
  constructor?: { arguments: Record<string, ScannedArgument> };
  methods: Record<string, ScannedFunction>;
}

export interface ScannedModule {
  name: string;
  description?: string;
  objects: Record<string, ScannedObject>;
}

/** camelCase -> kebab-case, as the dagger CLI names functions and flags (smokeTest -> smoke-test). */
export function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export function typeName(type: TypeRef | undefined): string {
  if (!type) return '?';
  switch (type.kind) {
    case 'STRING_KIND':
      return 'String';
    case 'INTEGER_KIND':
      return 'Int';
    case 'FLOAT_KIND':
      return 'Float';
    case 'BOOLEAN_KIND':
      return 'Boolean';
    case 'VOID_KIND':
      return 'Void';
    case 'LIST_KIND':
      return `[${typeName(type.typeDef)}]`;
    default:
      return type.name ?? type.kind;
  }
}

function moduleFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(dir, f))
    .sort();
}

/** The module's source files (dagger/src/**.ts), for tests that read what the functions run. */
export function moduleSources(): Array<{ file: string; text: string }> {
  return moduleFiles(path.join(daggerDir, 'src')).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

export async function scanDaggerModule(): Promise<ScannedModule> {
  const introspector = path.join(sdkDir, 'dist/src/module/introspector/index.js');
  const clientGen = path.join(sdkDir, 'dist/src/api/client.gen.d.ts');
  if (!existsSync(introspector) || !existsSync(clientGen)) {
    throw new Error(
      `@dagger.io/dagger is not installed in dagger/ (no ${path.relative(repoRoot, introspector)}): run npm ci --prefix dagger`,
    );
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dagger-scan-'));
  try {
    copyFileSync(clientGen, path.join(tmp, 'client.gen.ts'));
    const { scan } = (await import(pathToFileURL(introspector).href)) as {
      scan: (files: string[], moduleName?: string, loadModule?: boolean) => Promise<unknown>;
    };
    const files = [...moduleFiles(path.join(daggerDir, 'src')), path.join(tmp, 'client.gen.ts')];
    // The SDK's DaggerModule serialises to the shape the engine registers (toJSON); keep only that data.
    return JSON.parse(JSON.stringify(await scan(files, MODULE_NAME, false))) as ScannedModule;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The module's main object: the class named after the module (heart-disease-mlops -> HeartDiseaseMlops). */
export function mainObject(module: ScannedModule): ScannedObject {
  const name = MODULE_NAME.split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  const main = module.objects[name];
  if (!main) throw new Error(`scan found no main object ${name}; objects: ${Object.keys(module.objects).join(', ')}`);
  return main;
}

function describeArg(arg: ScannedArgument): string {
  const dflt =
    arg.defaultPath !== undefined
      ? ` = context ${arg.defaultPath}`
      : arg.defaultValue !== undefined
        ? ` = ${JSON.stringify(arg.defaultValue)}`
        : arg.isOptional
          ? '?'
          : '';
  return `--${kebab(arg.name)} ${typeName(arg.type)}${dflt}`;
}

/** Markdown table of the functions (kebab-case, as `dagger functions` lists them) with arguments and description. */
export function functionTable(module: ScannedModule): string {
  const main = mainObject(module);
  const rows = [
    '| function | arguments | returns | description |',
    '| --- | --- | --- | --- |',
    `| (constructor) | ${Object.values(main.constructor?.arguments ?? {})
      .map(describeArg)
      .join('<br>')} | | |`,
  ];
  for (const fn of Object.values(main.methods)) {
    const args = Object.values(fn.arguments).map(describeArg).join('<br>') || '—';
    rows.push(`| ${kebab(fn.name)} | ${args} | ${typeName(fn.returnType)} | ${fn.description.split('\n').join(' ')} |`);
  }
  return rows.join('\n');
}
