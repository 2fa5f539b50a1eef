/**
 * The Dagger module's functions as the engine would register them: the SDK's own introspection (scan) over dagger/src,
 * run offline (see dagger-module.ts). Asserts the function set, arguments, defaults, return types and that every
 * function and argument is documented (the doc comments are `dagger functions` / `dagger call X --help`).
 * Prints the function table README's Pipeline section mirrors.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  daggerDir,
  daggerSdkInstalled,
  EXPECTED_FUNCTIONS,
  functionTable,
  kebab,
  mainObject,
  MODULE_NAME,
  scanDaggerModule,
  sdkDir,
  typeName,
  type ScannedArgument,
  type ScannedModule,
  type ScannedObject,
} from './dagger-module.js';
import { repoRoot } from '../support/paths.js';

const SOURCE_IGNORES = ['node_modules', 'artifacts', 'data/raw', 'runs', 'dist', '.git', 'dagger/node_modules', 'dagger/sdk'];

let module: ScannedModule;
let main: ScannedObject;

function fn(name: string) {
  const found = main.methods[name];
  if (!found) throw new Error(`no function ${name}`);
  return found;
}

function arg(functionName: string, name: string): ScannedArgument {
  const found = fn(functionName).arguments[name];
  if (!found) throw new Error(`${functionName} has no argument ${name}`);
  return found;
}

const withSdk = daggerSdkInstalled();

beforeAll(async () => {
  if (withSdk) module = await scanDaggerModule();
  main = mainObject(module);
  console.log(`Dagger module ${module.name}, functions from the SDK's scan:\n${functionTable(module)}`);
}, 60_000);

describe.skipIf(!withSdk)('Dagger module introspection (SDK scan over dagger/src)', () => {
  it('is a documented module whose main object has exactly the pipeline functions', () => {
    expect(module.description?.trim()).toBeTruthy();
    expect(Object.keys(main.methods).sort()).toEqual(EXPECTED_FUNCTIONS);
  });

  it('documents every function and every argument, constructor included', () => {
    const undocumented: string[] = [];
    for (const [name, a] of Object.entries(main.constructor?.arguments ?? {})) {
      if (!a.description.trim()) undocumented.push(`constructor --${kebab(name)}`);
    }
    for (const f of Object.values(main.methods)) {
      if (!f.description.trim()) undocumented.push(kebab(f.name));
      for (const a of Object.values(f.arguments)) if (!a.description.trim()) undocumented.push(`${kebab(f.name)} --${kebab(a.name)}`);
    }
    expect(undocumented).toEqual([]);
  });

  it('loads the project from the context root, leaving out dependencies, outputs, data and runs', () => {
    const source = main.constructor?.arguments.source;
    expect(source?.type).toEqual({ kind: 'OBJECT_KIND', name: 'Directory' });
    expect(source?.defaultPath).toBe('/');
    expect(source?.ignore).toEqual(expect.arrayContaining(SOURCE_IGNORES));
    expect(main.constructor?.arguments.nodeImage?.defaultValue).toBe('node:24-bookworm-slim');
    expect(main.constructor?.arguments.commit?.defaultValue).toBe('unknown');
  });

  it('train takes optional data, seed, min AUC and mlflow and returns the artifacts Directory', () => {
    expect(typeName(fn('train').returnType)).toBe('Directory');
    expect(arg('train', 'data')).toMatchObject({ isOptional: true, type: { kind: 'OBJECT_KIND', name: 'Directory' } });
    expect(arg('train', 'seed')).toMatchObject({ type: { kind: 'INTEGER_KIND' }, defaultValue: 42 });
    expect(arg('train', 'mlflow')).toMatchObject({ type: { kind: 'BOOLEAN_KIND' }, defaultValue: false });
    // A float default would be registered truncated (the SDK reads numeric defaults with parseInt): optional, no default.
    expect(arg('train', 'minAuc')).toMatchObject({ type: { kind: 'FLOAT_KIND' }, isOptional: true });
    expect(arg('train', 'minAuc').defaultValue).toBeUndefined();
  });

  it('no Float argument carries a default the SDK would truncate', () => {
    const floatsWithDefaults = Object.values(main.methods).flatMap((f) =>
      Object.values(f.arguments)
        .filter((a) => a.type?.kind === 'FLOAT_KIND' && a.defaultValue !== undefined)
        .map((a) => `${f.name}.${a.name}`),
    );
    expect(floatsWithDefaults).toEqual([]);
  });

  it('returns the types the CLI chains on: Container from build, Service from serve and mlflow-server, strings elsewhere', () => {
    const returns = Object.fromEntries(Object.values(main.methods).map((f) => [f.name, typeName(f.returnType)]));
    expect(returns).toEqual({
      lint: 'String',
      test: 'String',
      train: 'Directory',
      build: 'Container',
      smokeTest: 'String',
      ci: 'String',
      publish: 'String',
      serve: 'Service',
      minikubeLoad: 'String',
      deploy: 'String',
      e2e: 'String',
      mlflowServer: 'Service',
      retrain: 'String',
      retrainTrigger: 'String',
    });
  });

  it('retrain and retrain-trigger take the database URL and MLflow token as Secrets, the API as an optional Service', () => {
    const shared = ['mlflowTrackingUri', 'mlflow', 'mlflowToken', 'databaseUrl', 'predictionLog', 'data'];
    expect(Object.keys(fn('retrain').arguments)).toEqual(shared);
    expect(Object.keys(fn('retrainTrigger').arguments)).toEqual(['apiUrl', 'api', ...shared]);
    for (const name of ['retrain', 'retrainTrigger']) {
      expect(arg(name, 'databaseUrl')).toMatchObject({ isOptional: true, type: { kind: 'OBJECT_KIND', name: 'Secret' } });
      expect(arg(name, 'mlflowToken')).toMatchObject({ isOptional: true, type: { kind: 'OBJECT_KIND', name: 'Secret' } });
      expect(arg(name, 'mlflowTrackingUri')).toMatchObject({ isOptional: true, type: { kind: 'STRING_KIND' } });
      expect(arg(name, 'mlflow')).toMatchObject({ type: { kind: 'BOOLEAN_KIND' }, defaultValue: false });
      expect(arg(name, 'predictionLog')).toMatchObject({ isOptional: true, type: { kind: 'OBJECT_KIND', name: 'File' } });
      expect(arg(name, 'data')).toMatchObject({ isOptional: true, type: { kind: 'OBJECT_KIND', name: 'Directory' } });
    }
    expect(arg('retrainTrigger', 'apiUrl')).toMatchObject({ isOptional: false, type: { kind: 'STRING_KIND' } });
    expect(arg('retrainTrigger', 'api')).toMatchObject({ isOptional: true, type: { kind: 'OBJECT_KIND', name: 'Service' } });
  });

  it('publish takes the registry password as a Secret; deploy takes the kubeconfig as a Secret with Minikube defaults', () => {
    expect(Object.keys(fn('publish').arguments)).toEqual(['registry', 'username', 'password', 'tag']);
    expect(arg('publish', 'password').type).toEqual({ kind: 'OBJECT_KIND', name: 'Secret' });
    expect(arg('publish', 'registry')).toMatchObject({ type: { kind: 'STRING_KIND' }, isOptional: false });
    expect(arg('publish', 'tag').isOptional).toBe(true);

    expect(arg('deploy', 'kubeconfig')).toMatchObject({ type: { kind: 'OBJECT_KIND', name: 'Secret' }, isOptional: false });
    expect(arg('deploy', 'namespace').defaultValue).toBe('heart-disease');
    expect(arg('deploy', 'values').defaultValue).toBe('deploy/helm/heart-disease-api/values-dev.yaml');
    expect(arg('deploy', 'image').isOptional).toBe(true);
    expect(arg('deploy', 'timeout').defaultValue).toBe('300s');
    expect(arg('deploy', 'tunnel').defaultValue).toBe('auto');
    expect(Object.keys(fn('e2e').arguments)).toEqual(['artifacts']);
  });

  it("deploy's default values file and the default image name exist in the project", () => {
    const values = String(arg('deploy', 'values').defaultValue);
    const chartDefaults = readFileSync(path.join(repoRoot, 'deploy/helm/heart-disease-api/values.yaml'), 'utf8');
    expect(readFileSync(path.join(repoRoot, values), 'utf8')).toMatch(/pullPolicy:\s*IfNotPresent/);
    expect(chartDefaults).toMatch(/repository:\s*heart-disease-api\b/);
  });

  it('pins the engine dagger.json names to the installed SDK version', () => {
    const sdk = JSON.parse(readFileSync(path.join(sdkDir, 'package.json'), 'utf8')) as { version: string };
    const pkg = JSON.parse(readFileSync(path.join(daggerDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const config = JSON.parse(readFileSync(path.join(repoRoot, 'dagger.json'), 'utf8')) as {
      name: string;
      engineVersion: string;
      source: string;
      sdk: { source: string };
      include?: string[];
    };
    expect(config).toMatchObject({ name: MODULE_NAME, source: 'dagger', sdk: { source: 'typescript' } });
    expect(config.engineVersion).toBe(`v${sdk.version}`);
    // Module loading uploads dagger/ only, without its node_modules (the runtime installs from the lock file).
    expect(config.include).toContain('!**/node_modules');
    // The npm SDK here is for type-checking and scanning only: in the engine the module runtime drops it from
    // package.json and serves its own generated sdk/ (see engine-runtime.test.ts for what that serves).
    expect(pkg.dependencies['@dagger.io/dagger']).toBe(sdk.version);
  });
});
