/**
 * What the Dagger engine's TypeScript module runtime does with the module, written down from its upstream source so
 * the module can be checked against it without an engine: the names its generated `@dagger.io/dagger` serves, how it
 * rewrites package.json and tsconfig.json, which images and versions it uses. Each fact names the file and line it
 * was read from (under sdk/typescript/runtime/ unless another path is given) at UPSTREAM.
 *
 * UPSTREAM: v0.21.9 (the version the module pins) is not in the source snapshot read; branch backport-0.21 is the
 * 0.21 line after v0.21.8, and every file cited here is byte-identical there and at tag v0.21.8. On main,
 * tsutils/module/index.ts also exports up, agent and getRegisteredClass: a superset, so a module that imports only
 * the names below loads on either.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { daggerDir, sdkDir } from './dagger-module.js';
import { repoRoot } from '../support/paths.js';

export const UPSTREAM = {
  repository: 'github.com/dagger/dagger',
  ref: 'backport-0.21',
  commit: '00c993cbe47ba494262871052b9ab4a547989b1d',
  identicalAt: 'v0.21.8',
} as const;

export const SDK_ALIAS = '@dagger.io/dagger';
export const SDK_TELEMETRY_ALIAS = '@dagger.io/dagger/telemetry';

/**
 * tsutils/module/index.ts, the runtime's sdk/index.ts (embedded as StaticBundleModuleIndexTS, written by
 * lib_generator.go:131): these library names from the bundled SDK (./core.js), each with its line, ...
 */
export const SERVED_LIBRARY_VALUES: Readonly<Record<string, number>> = {
  connection: 2,
  connect: 3,
  Context: 4,
  func: 5,
  check: 6,
  generate: 7,
  argument: 8,
  object: 9,
  field: 10,
  enumType: 11,
  entrypoint: 12,
};
/** ... these types (line 15: `export type { ConnectOpts, CallbackFct } from "./core.js"`) ... */
export const SERVED_LIBRARY_TYPES: Readonly<Record<string, number>> = { ConnectOpts: 15, CallbackFct: 15 };
/** ... and, line 17, `export * from "./client.gen.js"`: the client generated from the schema the module sees. */
export const SERVED_CLIENT_LINE = 17;
/** tsutils/module/telemetry.ts line 3: @dagger.io/dagger/telemetry (tsconfig path ./sdk/telemetry.ts) serves getTracer only. */
export const SERVED_TELEMETRY: Readonly<Record<string, number>> = { getTracer: 3 };

/**
 * The generated client's names, read from the npm package's dist/src/api/client.gen.d.ts. Faithful for the engine:
 * the runtime runs the same generator (cmd/codegen, `generate-module --bundle`, lib_generator.go:58-86) over the
 * schema the module sees (core API; this module has no dependencies), and the bundle flag only changes the header's
 * import of Context (cmd/codegen/generator/typescript/templates/src/header.ts.gtpl:10-16); `float` (header.ts.gtpl:87)
 * and `dag` (default.ts.gtpl:2) come from the same templates. Checked by hand: the 285 names of the 0.21.9 npm file
 * are the 281 of upstream's generated sdk/typescript/src/api/client.gen.ts at UPSTREAM plus Volume, VolumeID,
 * ClientSshfsVolumeOpts and ContainerWithMountedVolumeOpts (SSHFS volumes, newer than v0.21.8).
 */
export function generatedClientNames(): Set<string> {
  const file = path.join(sdkDir, 'dist/src/api/client.gen.d.ts');
  if (!existsSync(file)) {
    throw new Error(`@dagger.io/dagger is not installed in dagger/ (no ${path.relative(repoRoot, file)}): run npm ci --prefix dagger`);
  }
  return exportedNames(ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true));
}

/** The runtime's versions and images. */
export const RUNTIME = {
  /** tsdistconsts/consts.go:6-8 DefaultNodeImageRef: the image the module's code runs in, unless package.json sets dagger.baseImage (config.go:376-399). */
  nodeImage: 'node:24.13.1-alpine@sha256:4f696fbf39f383c1e486030ba6b289a5d9af541642fc78ab197e584a113b9c03',
  nodeMajor: 24,
  /**
   * tsdistconsts/consts.go:22 DefaultTypeScriptVersion: package.json's `typescript` is set to it when absent
   * (tsutils/package_json_updator.go:21), and a module that pins exactly it gets the SDK's own TypeScript mounted
   * at node_modules/typescript (runtime_node.go:313-315) instead of the registry's.
   */
  typescriptPin: '5.9.3',
  /**
   * The TypeScript that mount holds: the engine image's typescript-library is the SDK build's node_modules/typescript
   * (toolchains/engine-dev/build/sdk.go:157,174), sdk/typescript/package.json:39 `^6.0.3`, yarn.lock:2873-2874 6.0.3.
   */
  mountedTypescript: '6.0.3',
  /** config.go:38 NpmDefaultVersion, installed unless the image has it (runtime_node.go:306). */
  npm: '11.8.0',
  /** toolchains/engine-dev/build/sdk.go:122: tsx that runs the entrypoint (runtime_node.go:35,106). */
  tsx: '4.15.6',
  /** tsutils/bin/__dagger.entrypoint.ts:6: the entrypoint imports the .ts and .mts files under src/, nothing else. */
  sourceExtensions: ['.ts', '.mts'],
  /** config.go:546-547: sdk/ and node_modules/ of the module are dropped (the runtime generates and installs its own). */
  replacedDirectories: ['sdk', 'node_modules'],
  /** config.go:421-457 and 467-517: lock files that select the Bun or Deno runtime, or yarn/pnpm instead of npm. */
  otherRuntimeOrManagerFiles: ['bun.lockb', 'bun.lock', 'deno.json', 'deno.lock', 'yarn.lock', 'pnpm-lock.yaml'],
} as const;

export interface PackageJson {
  type?: string;
  packageManager?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  dagger?: { baseImage?: string; runtime?: string };
  [key: string]: unknown;
}

export interface TsConfig {
  compilerOptions?: Record<string, unknown> & { paths?: Record<string, string[]>; baseUrl?: string };
  [key: string]: unknown;
}

/** tsutils/package_json_updator.go:11-41 UpdatePackageJSONForModule: the package.json the runtime installs from. */
export function runtimePackageJson(pkg: PackageJson): PackageJson {
  const out = structuredClone(pkg);
  out.type = 'module';
  out.dependencies = { ...out.dependencies };
  out.dependencies.typescript ??= RUNTIME.typescriptPin;
  delete out.dependencies[SDK_ALIAS];
  if (out.devDependencies) delete out.devDependencies[SDK_ALIAS];
  return out;
}

/** tsutils/tsconfig_updator.go:23-50 UpdateTSConfigForModule: the tsconfig.json the runtime runs tsx with. */
export function runtimeTsconfig(tsconfig: TsConfig): TsConfig {
  const out = structuredClone(tsconfig);
  const options = (out.compilerOptions ??= {});
  options.paths = { ...options.paths, [SDK_ALIAS]: ['./sdk/index.ts'], [SDK_TELEMETRY_ALIAS]: ['./sdk/telemetry.ts'] };
  options.experimentalDecorators = true;
  return out;
}

/** Names a module exports (declarations with `export`, `export { ... }` lists). */
export function exportedNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of source.statements) {
    if (
      ts.isExportDeclaration(statement) &&
      !statement.moduleSpecifier &&
      statement.exportClause &&
      ts.isNamedExports(statement.exportClause)
    ) {
      for (const element of statement.exportClause.elements) names.add(element.name.text);
      continue;
    }
    const modifiers = ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : [];
    if (!modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text);
      }
    } else if (
      (ts.isClassDeclaration(statement) ||
        ts.isFunctionDeclaration(statement) ||
        ts.isEnumDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

export type SdkImportKind = 'named' | 'default' | 'namespace' | 'export-all' | 'dynamic' | 'side-effect' | 'type-query';

/** One use of `@dagger.io/dagger` (or a subpath) in the module's code; `name` is the exported name asked for. */
export interface SdkImport {
  file: string;
  line: number;
  specifier: string;
  kind: SdkImportKind;
  name?: string;
}

const isSdkSpecifier = (specifier: string) => specifier === SDK_ALIAS || specifier.startsWith(`${SDK_ALIAS}/`);

/**
 * Every way a file can reach @dagger.io/dagger, from the TypeScript syntax tree: import and export declarations,
 * `import x = require(...)`, dynamic `import(...)` and type-level `import('...').X`.
 */
export function sdkImports(file: string, text: string): SdkImport[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: SdkImport[] = [];
  const add = (node: ts.Node, specifier: string, kind: SdkImportKind, name?: string) =>
    found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, specifier, kind, name });

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && isSdkSpecifier(node.moduleSpecifier.text)) {
      const specifier = node.moduleSpecifier.text;
      const clause = node.importClause;
      if (!clause) add(node, specifier, 'side-effect');
      if (clause?.name) add(clause.name, specifier, 'default', 'default');
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) add(bindings, specifier, 'namespace');
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) add(element, specifier, 'named', (element.propertyName ?? element.name).text);
      }
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const specifier = node.moduleSpecifier.text;
      if (isSdkSpecifier(specifier)) {
        const clause = node.exportClause;
        if (!clause || ts.isNamespaceExport(clause)) add(node, specifier, 'export-all');
        else for (const element of clause.elements) add(element, specifier, 'named', (element.propertyName ?? element.name).text);
      }
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression) &&
      isSdkSpecifier(node.moduleReference.expression.text)
    ) {
      add(node, node.moduleReference.expression.text, 'namespace');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument) && isSdkSpecifier(argument.text)) add(node, argument.text, 'dynamic');
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal) &&
      isSdkSpecifier(node.argument.literal.text)
    ) {
      const qualifier = node.qualifier ? (ts.isIdentifier(node.qualifier) ? node.qualifier : leftmost(node.qualifier)) : undefined;
      add(node, node.argument.literal.text, qualifier ? 'named' : 'type-query', qualifier?.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every module specifier a file imports or re-exports, static or dynamic (TypeScript's own pre-processor). */
export function importedSpecifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

function leftmost(name: ts.QualifiedName): ts.Identifier {
  return ts.isIdentifier(name.left) ? name.left : leftmost(name.left);
}

/**
 * Where the runtime serves an imported name: the upstream line for library names, the generated client otherwise,
 * or why it is not served. `clientNames` is read only when a name is outside the written-down library list, so a
 * module that imports library names only is checked without dagger/node_modules.
 */
export function servedAt(use: SdkImport, clientNames: () => Set<string>): { served: true; where: string } | { served: false; why: string } {
  const at = `${path.relative(repoRoot, use.file)}:${use.line}`;
  if (use.specifier === SDK_TELEMETRY_ALIAS && use.kind === 'named' && use.name && use.name in SERVED_TELEMETRY) {
    return { served: true, where: `sdk/typescript/runtime/tsutils/module/telemetry.ts:${SERVED_TELEMETRY[use.name]}` };
  }
  if (use.specifier !== SDK_ALIAS)
    return { served: false, why: `${at}: '${use.specifier}' is not served (only ${SDK_ALIAS} and ${SDK_TELEMETRY_ALIAS})` };
  if (use.kind !== 'named' || !use.name) {
    return { served: false, why: `${at}: a ${use.kind} import of ${SDK_ALIAS} cannot be checked name by name; import the names` };
  }
  const line = SERVED_LIBRARY_VALUES[use.name] ?? SERVED_LIBRARY_TYPES[use.name];
  if (line !== undefined) return { served: true, where: `sdk/typescript/runtime/tsutils/module/index.ts:${line}` };
  if (clientNames().has(use.name)) {
    return { served: true, where: `generated client (sdk/typescript/runtime/tsutils/module/index.ts:${SERVED_CLIENT_LINE} export *)` };
  }
  return {
    served: false,
    why: `${at}: ${use.name} is not exported by the runtime's ${SDK_ALIAS} (sdk/index.ts: library names and the generated client)`,
  };
}

/**
 * A temporary copy of dagger/ laid out as the runtime lays out the module (runtime_node.go:95-107): package.json and
 * tsconfig.json as the runtime rewrites them, src/, and sdk/ whose index.ts exports exactly the names written down
 * above, also reachable as node_modules/@dagger.io/dagger (runtime_node.go:100). The bundled library (core.js) and the
 * generated client stand in as the npm package's own files; besides them node_modules holds only the production
 * dependencies the runtime installs, so @dagger.io/dagger resolves only to the served surface.
 */
export function servedModuleCopy(): { root: string; moduleDir: string; tsconfig: string; cleanup: () => void } {
  const npmIndex = path.join(sdkDir, 'dist/src/index.js');
  if (!existsSync(npmIndex)) {
    throw new Error(`@dagger.io/dagger is not installed in dagger/ (no ${path.relative(repoRoot, npmIndex)}): run npm ci --prefix dagger`);
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'dagger-runtime-'));
  const moduleDir = path.join(root, 'dagger');
  const sdk = path.join(moduleDir, 'sdk');
  mkdirSync(sdk, { recursive: true });
  cpSync(path.join(daggerDir, 'src'), path.join(moduleDir, 'src'), { recursive: true });
  const readJson = <T>(file: string) => JSON.parse(readFileSync(path.join(daggerDir, file), 'utf8')) as T;
  writeFileSync(path.join(moduleDir, 'package.json'), JSON.stringify(runtimePackageJson(readJson<PackageJson>('package.json')), null, 2));
  const tsconfig = path.join(moduleDir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify(runtimeTsconfig(readJson<TsConfig>('tsconfig.json')), null, 2));
  writeFileSync(
    path.join(sdk, 'index.ts'),
    [
      `export { ${Object.keys(SERVED_LIBRARY_VALUES).join(', ')} } from './core.js';`,
      `export type { ${Object.keys(SERVED_LIBRARY_TYPES).join(', ')} } from './core.js';`,
      `export * from './client.gen.js';`,
    ].join('\n'),
  );
  writeFileSync(path.join(sdk, 'core.ts'), `export * from ${JSON.stringify(npmIndex)};\n`);
  writeFileSync(path.join(sdk, 'client.gen.ts'), `export * from ${JSON.stringify(path.join(sdkDir, 'dist/src/api/client.gen.js'))};\n`);
  writeFileSync(
    path.join(sdk, 'telemetry.ts'),
    `export { ${Object.keys(SERVED_TELEMETRY).join(', ')} } from ${JSON.stringify(path.join(sdkDir, 'dist/src/telemetry/index.js'))};\n`,
  );
  mkdirSync(path.join(moduleDir, 'node_modules/@dagger.io'), { recursive: true });
  symlinkSync(sdk, path.join(moduleDir, 'node_modules', SDK_ALIAS), 'dir');
  // The production dependencies the runtime installs (npm install --omit=dev), as dagger/node_modules holds them.
  for (const name of Object.keys(runtimePackageJson(readJson<PackageJson>('package.json')).dependencies ?? {})) {
    mkdirSync(path.dirname(path.join(moduleDir, 'node_modules', name)), { recursive: true });
    symlinkSync(path.join(daggerDir, 'node_modules', name), path.join(moduleDir, 'node_modules', name), 'dir');
  }
  return { root, moduleDir, tsconfig, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
