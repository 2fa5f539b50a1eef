import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from './load.js';

export interface ManifestEntry {
  file: string;
  url: string;
  bytes: number;
  sha256: string | null;
  rows?: number;
}

export interface DatasetManifest {
  default: string;
  files: ManifestEntry[];
}

export async function readManifest(manifestPath: string): Promise<DatasetManifest> {
  return JSON.parse(await readFile(manifestPath, 'utf8')) as DatasetManifest;
}

function verify(entry: ManifestEntry, bytes: Uint8Array): string | null {
  if (bytes.length !== entry.bytes) return `size ${bytes.length} bytes, expected ${entry.bytes}`;
  if (entry.sha256 && sha256Hex(bytes) !== entry.sha256) return `sha256 ${sha256Hex(bytes)}, expected ${entry.sha256}`;
  return null;
}

/**
 * The manifest's default file, from the cache under `cacheDir` when it is there and verifies, else downloaded,
 * verified against the pinned size and sha256, and cached. Offline, the error says exactly what to pass instead.
 */
export async function ensureDefaultDataset(manifestPath: string, cacheDir: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  const manifest = await readManifest(manifestPath);
  const entry = manifest.files.find((f) => f.file === manifest.default);
  if (!entry) throw new Error(`${manifestPath}: default file ${manifest.default} is not listed`);
  const cached = path.join(cacheDir, entry.file);
  const existing = await readFile(cached).catch(() => null);
  if (existing && verify(entry, existing) === null) return cached;

  const hint = `download it yourself and pass it: npm run train -- --data /path/to/${entry.file} (expected ${entry.bytes} bytes, sha256 ${entry.sha256})`;
  let bytes: Uint8Array;
  try {
    const response = await fetchImpl(entry.url, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new Error(`could not download ${entry.url} (${(error as Error).message}); offline? ${hint}`, { cause: error });
  }
  const problem = verify(entry, bytes);
  if (problem) throw new Error(`downloaded ${entry.url} does not match the manifest: ${problem}; ${hint}`);
  await mkdir(cacheDir, { recursive: true });
  await writeFile(`${cached}.partial`, bytes);
  await rename(`${cached}.partial`, cached);
  return cached;
}
