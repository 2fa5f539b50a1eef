/**
 * The Dagger module against what the engine's TypeScript module runtime serves and does (written down from upstream
 * in engine-runtime.ts, without an engine): the runtime replaces the npm @dagger.io/dagger with a generated sdk/
 * exporting far fewer names, so a module that type-checks against the npm package can still fail at import in the
 * engine. Checked three ways: the imports by name (TypeScript syntax tree), a type-check and a tsx load of a copy laid
 * out and rewritten as the runtime does; then the runtime's package.json, tsconfig.json, image and install rules.
 */
import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { daggerDir, daggerSdkInstalled, EXPECTED_FUNCTIONS, MODULE_NAME, moduleSources, sdkDir } from './dagger-module.js';
import {
  generatedClientNames,
  importedSpecifiers,
  RUNTIME,
  runtimePackageJson,
  runtimeTsconfig,
  SDK_ALIAS,
  sdkImports,
  servedAt,
  servedModuleCopy,
  SERVED_LIBRARY_TYPES,
  SERVED_LIBRARY_VALUES,
  type PackageJson,
  type SdkImport,
  type TsConfig,
  UPSTREAM,
} from './engine-runtime.js';
import { repoRoot } from '../support/paths.js';

const execFileAsync = promisify(execFile);
const withSdk = daggerSdkInstalled();
const bin = (name: string) => path.join(repoRoot, 'node_modules/.bin', name);

const readDaggerJson = <T>(file: string) => JSON.parse(readFileSync(path.join(daggerDir, file), 'utf8')) as T;
const modulePackage = () => readDaggerJson<PackageJson>('package.json');
const moduleTsconfig = () => readDaggerJson<TsConfig>('tsconfig.json');
const moduleImports = (): SdkImport[] => moduleSources().flatMap(({ file, text }) => sdkImports(file, text));

let cachedClientNames: Set<string> | undefined;
const lazyClientNames = () => (cachedClientNames ??= generatedClientNames());

/** Problems for uses of @dagger.io/dagger the runtime would not serve. */
const unserved = (imports: SdkImport[]) =>
  imports.map((use) => servedAt(use, lazyClientNames)).flatMap((result) => (result.served ? [] : [result.why]));

describe("imports from @dagger.io/dagger: only what the runtime's sdk/index.ts exports", () => {
  it('finds the decorators and core types the module uses (the extraction is not vacuous)', () => {
    const names = moduleImports().map((use) => use.name);
    expect(names).toEqual(expect.arrayContaining(['object', 'func', 'argument', 'dag', 'Container', 'Directory']));
  });

  it.skipIf(!withSdk)(
    'imports no name the runtime does not serve (library names as written down, the rest from the generated client)',
    () => {
      const imports = moduleImports();
      expect(unserved(imports)).toEqual([]);
      const table = imports.map((use) => {
        const result = servedAt(use, lazyClientNames);
        return `${use.name}: ${result.served ? result.where : result.why}`;
      });
      console.log(
        `@dagger.io/dagger names the module imports, served at ${UPSTREAM.repository} ${UPSTREAM.ref} (${UPSTREAM.commit.slice(0, 7)}):\n${table.join('\n')}`,
      );
    },
  );

  it('flags what the runtime would not serve (guards the check above)', () => {
    const uses = sdkImports(
      'probe.ts',
      [
        "import { func, ExecError as Failed, type GraphQLRequestError } from '@dagger.io/dagger';",
        "import sdk from '@dagger.io/dagger';",
        "import * as all from '@dagger.io/dagger';",
        "export { connect, DaggerSDKError } from '@dagger.io/dagger';",
        "import { getTracer } from '@dagger.io/dagger/telemetry';",
        "import { x } from '@dagger.io/dagger/dist/src/index.js';",
        "type T = import('@dagger.io/dagger').ExecError;",
        "const lazy = () => import('@dagger.io/dagger');",
      ].join('\n'),
    );
    // Written-down library names only, so this guard runs without dagger/node_modules.
    const problems = uses.map((use) => servedAt(use, () => new Set()));
    expect(problems.filter((p) => p.served).length).toBe(3);
    expect(problems.flatMap((p) => (p.served ? [] : [p.why.replace(/^probe\.ts:\d+: /, '')]))).toEqual([
      "ExecError is not exported by the runtime's @dagger.io/dagger (sdk/index.ts: library names and the generated client)",
      "GraphQLRequestError is not exported by the runtime's @dagger.io/dagger (sdk/index.ts: library names and the generated client)",
      'a default import of @dagger.io/dagger cannot be checked name by name; import the names',
      'a namespace import of @dagger.io/dagger cannot be checked name by name; import the names',
      "DaggerSDKError is not exported by the runtime's @dagger.io/dagger (sdk/index.ts: library names and the generated client)",
      "'@dagger.io/dagger/dist/src/index.js' is not served (only @dagger.io/dagger and @dagger.io/dagger/telemetry)",
      "ExecError is not exported by the runtime's @dagger.io/dagger (sdk/index.ts: library names and the generated client)",
      'a dynamic import of @dagger.io/dagger cannot be checked name by name; import the names',
    ]);
  });

  it.skipIf(!withSdk)('the npm package serves more than the runtime, which is why type-checking against it is not enough', () => {
    // The runtime's list is a strict subset of the npm package's library exports (else the list is mis-transcribed).
    const clientNames = lazyClientNames(); // fails with the install command when dagger/node_modules is missing
    const npmIndex = readFileSync(path.join(sdkDir, 'dist/src/index.d.ts'), 'utf8');
    expect(npmIndex).toMatch(/export \* from "\.\/common\/errors\/index\.js"/);
    expect(readFileSync(path.join(sdkDir, 'dist/src/common/errors/index.d.ts'), 'utf8')).toMatch(/ExecError/);
    expect(Object.keys(SERVED_LIBRARY_VALUES)).not.toContain('ExecError');
    // The generated client stand-in comes from the same templates as the runtime's (see generatedClientNames).
    const clientGen = readFileSync(path.join(sdkDir, 'dist/src/api/client.gen.d.ts'), 'utf8');
    expect(clientGen).toMatch(/^ \* This file was auto-generated by `client-gen`\./m);
    for (const name of ['float', 'dag', 'Client', 'Container', 'Directory', 'CacheSharingMode']) expect(clientNames).toContain(name);
    for (const name of [...Object.keys(SERVED_LIBRARY_VALUES), ...Object.keys(SERVED_LIBRARY_TYPES)]) {
      expect(clientNames, `${name} is a library name, not a generated one`).not.toContain(name);
    }
  });
});

describe.skipIf(!withSdk)(
  'the module as the runtime lays it out: rewritten tsconfig.json/package.json, @dagger.io/dagger = sdk/index.ts',
  () => {
    it('type-checks (tsc) against exactly the served names', async () => {
      const copy = servedModuleCopy();
      try {
        const result = await execFileAsync(bin('tsc'), ['-p', copy.tsconfig, '--noEmit'], { cwd: copy.moduleDir, timeout: 120_000 }).then(
          () => '',
          (error: { stdout?: string; message: string }) => error.stdout || error.message,
        );
        expect(result.split(copy.moduleDir).join('dagger'), 'tsc over the runtime layout').toBe('');
      } finally {
        copy.cleanup();
      }
    }, 150_000);

    it('loads under tsx with the runtime tsconfig and registers every function (scan with loadModule, as the entrypoint does)', async () => {
      // The runtime's entrypoint runs `tsx --tsconfig <module>/tsconfig.json` (runtime_node.go:106) and scans every
      // .ts/.mts file under src/ plus sdk/client.gen.ts with loadModule (importing them). The introspector reads core
      // types from a file named client.gen.ts, so the npm declarations are copied to one beside the copy.
      const copy = servedModuleCopy();
      try {
        const clientGen = path.join(copy.root, 'client.gen.ts');
        copyFileSync(path.join(sdkDir, 'dist/src/api/client.gen.d.ts'), clientGen);
        const sources = readdirSync(path.join(copy.moduleDir, 'src'), { recursive: true, encoding: 'utf8' })
          .filter((f) => RUNTIME.sourceExtensions.includes(path.extname(f) as '.ts'))
          .map((f) => path.join(copy.moduleDir, 'src', f));
        const script = path.join(copy.root, 'load.mts');
        writeFileSync(
          script,
          [
            `const { scan } = await import(${JSON.stringify(path.join(sdkDir, 'dist/src/module/introspector/index.js'))});`,
            `const m = JSON.parse(JSON.stringify(await scan(${JSON.stringify([...sources, clientGen])}, ${JSON.stringify(MODULE_NAME)}, true)));`,
            `console.log(JSON.stringify(Object.keys(m.objects.HeartDiseaseMlops.methods).sort()));`,
          ].join('\n'),
        );
        const run = await execFileAsync(bin('tsx'), ['--tsconfig', copy.tsconfig, script], { cwd: copy.moduleDir, timeout: 90_000 }).then(
          ({ stdout }) => ({ stdout, error: '' }),
          (error: { stderr?: string; message: string }) => ({
            stdout: '',
            error: (error.stderr || error.message).split(copy.root).join('<copy>').split('\n').slice(0, 6).join('\n'),
          }),
        );
        expect(run.error, 'loading the module the way the runtime does').toBe('');
        expect(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '[]')).toEqual(EXPECTED_FUNCTIONS);
      } finally {
        copy.cleanup();
      }
    }, 120_000);
  },
);

describe("the module against the runtime's other rules (upstream sdk/typescript/runtime, see engine-runtime.ts)", () => {
  const files = readdirSync(daggerDir);
  const gitignore = readFileSync(path.join(repoRoot, '.gitignore'), 'utf8');

  it('selects the Node runtime with npm: package-lock.json, no Bun/Deno/yarn/pnpm files, no dagger.runtime or other packageManager', () => {
    const pkg = modulePackage();
    expect(files).toContain('package-lock.json');
    expect(files.filter((f) => (RUNTIME.otherRuntimeOrManagerFiles as readonly string[]).includes(f))).toEqual([]);
    if (pkg.dagger?.runtime !== undefined) expect(pkg.dagger.runtime).toMatch(/^node(@|$)/);
    if (pkg.packageManager !== undefined) expect(pkg.packageManager).toMatch(/^npm@\d/);
  });

  it(`runs the module's code on the runtime's Node ${RUNTIME.nodeMajor} image: no dagger.baseImage, or a Node ${RUNTIME.nodeMajor} one`, () => {
    const baseImage = modulePackage().dagger?.baseImage;
    if (baseImage !== undefined) expect(baseImage).toMatch(new RegExp(`^(docker\\.io/)?(library/)?node:${RUNTIME.nodeMajor}(\\.|-|$)`));
    expect(RUNTIME.nodeImage.startsWith(`node:${RUNTIME.nodeMajor}.`)).toBe(true);
  });

  it('package.json: the runtime only drops @dagger.io/dagger (type is already module, typescript already set)', () => {
    const pkg = modulePackage();
    const rewritten = runtimePackageJson(pkg);
    const { [SDK_ALIAS]: sdkVersion, ...kept } = pkg.dependencies ?? {};
    expect(sdkVersion, 'the npm SDK, for type-checking and the scan tests here').toBeDefined();
    expect(rewritten).toEqual({ ...pkg, dependencies: kept });
  });

  it('pins typescript to the runtime default exactly, so the runtime mounts its own TypeScript instead of installing one', () => {
    expect(modulePackage().dependencies?.typescript).toBe(RUNTIME.typescriptPin);
  });

  it('imports only Node built-ins, @dagger.io/dagger and production dependencies the runtime installs (npm install --omit=dev)', () => {
    const installed = new Set(Object.keys(runtimePackageJson(modulePackage()).dependencies ?? {}));
    const builtins = new Set(builtinModules);
    const packageOf = (specifier: string) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/');
    const missing = moduleSources().flatMap(({ file, text }) =>
      importedSpecifiers(text)
        .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && packageOf(s) !== SDK_ALIAS)
        .filter((s) => !builtins.has(packageOf(s)) && !installed.has(packageOf(s)))
        .map((s) => `${path.relative(repoRoot, file)}: ${s}`),
    );
    expect(missing).toEqual([]);
  });

  it('relative imports stay inside dagger/src (the runtime has only the module directory, without sdk/ and node_modules/)', () => {
    const srcDir = path.join(daggerDir, 'src');
    const escaping = moduleSources().flatMap(({ file, text }) =>
      importedSpecifiers(text)
        .filter((s) => s.startsWith('.') && !path.resolve(path.dirname(file), s).startsWith(srcDir + path.sep))
        .map((s) => `${path.relative(repoRoot, file)}: ${s}`),
    );
    expect(escaping).toEqual([]);
  });

  it('tsconfig.json: strict JSON; the rewrite only adds the two sdk/ paths (decorators already on, no paths or baseUrl of its own)', () => {
    const tsconfig = moduleTsconfig();
    expect(tsconfig.compilerOptions?.experimentalDecorators).toBe(true);
    expect(tsconfig.compilerOptions?.paths).toBeUndefined();
    expect(tsconfig.compilerOptions?.baseUrl).toBeUndefined();
    const rewritten = runtimeTsconfig(tsconfig);
    expect(rewritten).toEqual({
      ...tsconfig,
      compilerOptions: {
        ...tsconfig.compilerOptions,
        paths: { '@dagger.io/dagger': ['./sdk/index.ts'], '@dagger.io/dagger/telemetry': ['./sdk/telemetry.ts'] },
      },
    });
  });

  it('sources are .ts files the entrypoint loads; no sdk/ or node_modules/ is shipped (the runtime replaces both)', () => {
    const sources = readdirSync(path.join(daggerDir, 'src'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(sources.length).toBeGreaterThan(0);
    expect(
      sources.filter((f) => !(RUNTIME.sourceExtensions as readonly string[]).includes(path.extname(f.name))).map((f) => f.name),
    ).toEqual([]);
    const config = JSON.parse(readFileSync(path.join(repoRoot, 'dagger.json'), 'utf8')) as { include?: string[] };
    expect(config.include).toContain('!**/node_modules');
    for (const dir of RUNTIME.replacedDirectories) {
      expect(gitignore, `dagger/${dir}/ is never committed`).toMatch(new RegExp(`^dagger/${dir}/$`, 'm'));
    }
  });
});
