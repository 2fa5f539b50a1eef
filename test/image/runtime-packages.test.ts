/**
 * The image keeps exactly the server bundle's run-time imports and what they need. The closure is computed from
 * package-lock.json the way Node resolves (nested node_modules first, then each ancestor's): checked on a small lock
 * with a nested version, and on the project's own lock for the bundle's real external imports.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ABSENT_OPTIONAL_PACKAGES, EXTERNAL_PACKAGES } from '../../scripts/image/build/bundle-server-options.js';
import { externalPackages, packageName, runtimeClosure, type Lockfile } from '../../scripts/image/build/runtime-packages.js';
import { repoRoot } from '../support/paths.js';

describe('runtimeClosure', () => {
  const lock: Lockfile = {
    packages: {
      '': { dependencies: { a: '1', dev: '1' } },
      'node_modules/a': { dependencies: { b: '^2', c: '1' }, optionalDependencies: { gone: '1' } },
      'node_modules/a/node_modules/b': { dependencies: { c: '1' } },
      'node_modules/b': { dependencies: {} },
      'node_modules/c': { peerDependencies: { d: '1' } },
      'node_modules/d': {},
      'node_modules/dev': { dependencies: { b: '1' } },
    },
  };

  it('follows Node resolution: a nested version shadows the hoisted one; installed peers count, absent optionals do not', () => {
    expect(runtimeClosure(lock, ['a'])).toEqual(['node_modules/a', 'node_modules/a/node_modules/b', 'node_modules/c', 'node_modules/d']);
  });

  it('fails on a root or a required dependency missing from the lock', () => {
    expect(() => runtimeClosure(lock, ['nope'])).toThrow('package-lock.json has no nope');
    const broken: Lockfile = { packages: { ...lock.packages, 'node_modules/d': { dependencies: { missing: '1' } } } };
    expect(() => runtimeClosure(broken, ['a'])).toThrow('node_modules/d needs missing');
  });

  it('names packages from import paths, scoped or not', () => {
    expect(packageName('onnxruntime-node')).toBe('onnxruntime-node');
    expect(packageName('@fastify/swagger-ui/static')).toBe('@fastify/swagger-ui');
    expect(packageName('pino/file')).toBe('pino');
  });
});

describe("the server bundle's run-time imports", () => {
  it('are the declared externals, and their closure carries none of training, deploy or dev dependencies', async () => {
    const result = await build({
      entryPoints: [path.join(repoRoot, 'src/api/server.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: [...EXTERNAL_PACKAGES],
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    // pg's optional native binding is named inside a try/catch and never installed (bundle-server-options.ts).
    expect(externalPackages(result.metafile)).toContain('pg-native');
    const imports = externalPackages(result.metafile).filter((name) => !ABSENT_OPTIONAL_PACKAGES.includes(name));
    expect(imports).toEqual([...EXTERNAL_PACKAGES].sort());
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as Lockfile;
    const closure = runtimeClosure(lock, imports);
    expect(closure).toContain('node_modules/onnxruntime-node');
    for (const notServed of ['arquero', 'onnx-proto', '@kubernetes/client-node', 'typescript', 'vitest', 'tsx', 'esbuild', 'autocannon']) {
      expect(closure, notServed).not.toContain(`node_modules/${notServed}`);
    }
  });
});
