/**
 * What the image's node_modules must hold: exactly the packages the server bundle leaves external (listed from
 * esbuild's metafile when bundling) and everything those need, as package-lock.json resolves them. Nothing the
 * server does not load ships in the image (training's arquero and onnx-proto, the deploy's Kubernetes client, dev
 * tools), whatever package.json calls a dependency.
 *
 *   tsx scripts/image/build/runtime-packages.ts prune <runtime-packages.json>   (in the image's deps stage)
 */
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The slice of an esbuild metafile this reads. */
export interface Metafile {
  outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

/** The slice of package-lock.json (lockfileVersion 3) this reads. */
export interface Lockfile {
  packages: Record<
    string,
    {
      version?: string;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    }
  >;
}

const BUILTINS = new Set(builtinModules);

/** 'a/b/c' → 'a', '@s/a/b' → '@s/a'. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Package names the bundle imports at run time (external imports that are not Node built-ins), sorted. */
export function externalPackages(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const entry of output.imports) {
      if (!entry.external) continue;
      const bare = entry.path.replace(/^node:/, '');
      if (entry.path.startsWith('node:') || BUILTINS.has(bare) || BUILTINS.has(packageName(bare))) continue;
      names.add(packageName(entry.path));
    }
  }
  return [...names].sort();
}

/** Lock path a package requires `dependency` from, resolved as Node does (own node_modules, then each ancestor's). */
function resolveFrom(lock: Lockfile, from: string, dependency: string): string | null {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${dependency}` : `${base}/node_modules/${dependency}`;
    if (lock.packages[candidate]) return candidate;
    if (base === '') return null;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/**
 * Every lock path (node_modules/…) the roots need at run time: the roots and, transitively, their dependencies and
 * installed optional and peer dependencies. Throws when a root or a required dependency is not in the lock.
 */
export function runtimeClosure(lock: Lockfile, roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue: string[] = [];
  for (const root of roots) {
    const found = resolveFrom(lock, '', root);
    if (!found) throw new Error(`package-lock.json has no ${root} (the bundle imports it)`);
    queue.push(found);
  }
  while (queue.length > 0) {
    const current = queue.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    const entry = lock.packages[current]!;
    const required = Object.keys(entry.dependencies ?? {});
    const optional = [...Object.keys(entry.optionalDependencies ?? {}), ...Object.keys(entry.peerDependencies ?? {})];
    for (const dependency of required) {
      const found = resolveFrom(lock, current, dependency);
      if (!found) throw new Error(`package-lock.json: ${current} needs ${dependency}, which is not installed`);
      queue.push(found);
    }
    for (const dependency of optional) {
      const found = resolveFrom(lock, current, dependency);
      if (found) queue.push(found);
    }
  }
  return [...seen].sort();
}

/** Remove from `root`/node_modules every installed package outside the closure of `roots`; returns what is kept. */
export async function pruneToRuntime(root: string, roots: readonly string[]): Promise<string[]> {
  const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  const keep = new Set(runtimeClosure(lock, roots));
  for (const installed of Object.keys(lock.packages)) {
    if (installed.startsWith('node_modules/') && !keep.has(installed)) rmSync(path.join(root, installed), { recursive: true, force: true });
  }
  rmSync(path.join(root, 'node_modules/.bin'), { recursive: true, force: true });
  return [...keep];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, listFile] = process.argv.slice(2);
  if (command !== 'prune' || !listFile) {
    console.error('usage: tsx scripts/image/build/runtime-packages.ts prune <runtime-packages.json>');
    process.exit(2);
  }
  const roots = JSON.parse(await readFile(listFile, 'utf8')) as string[];
  const kept = await pruneToRuntime(process.cwd(), roots);
  console.log(`kept ${kept.length} packages for the server's run-time imports ${roots.join(', ')}`);
}
