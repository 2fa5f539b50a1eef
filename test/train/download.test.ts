import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultDataset } from '../../src/train/data/download.js';
import { clevelandFile, repoRoot } from '../support/paths.js';

// A local HTTP server on 127.0.0.1 plays the UCI archive, so download, cache and checksum run for real.
let server: Server;
let base: string;
let work: string;
let requests = 0;
let body: Buffer;

beforeAll(async () => {
  body = await readFile(clevelandFile);
  work = await mkdtemp(path.join(os.tmpdir(), 'hd-dl-'));
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/good/processed.cleveland.data') res.end(body);
    else if (req.url === '/tampered/processed.cleveland.data')
      res.end(Buffer.concat([body.subarray(0, body.length - 2), Buffer.from('9\n')]));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function manifestFor(prefix: string): Promise<string> {
  const real = JSON.parse(await readFile(path.join(repoRoot, 'data/manifest.json'), 'utf8'));
  const file = path.join(work, `${prefix.replace(/\W/g, '')}-manifest.json`);
  real.files = real.files.map((f: { file: string }) => ({ ...f, url: `${prefix}/${f.file}` }));
  await writeFile(file, JSON.stringify(real));
  return file;
}

describe('default dataset download with cache and checksum', () => {
  it('downloads, verifies against the pinned sha256, caches, then serves from the cache', async () => {
    const cache = path.join(work, 'cache-good');
    const manifest = await manifestFor(`${base}/good`);
    const before = requests;
    const file = await ensureDefaultDataset(manifest, cache);
    expect(file).toBe(path.join(cache, 'processed.cleveland.data'));
    expect((await readFile(file)).equals(body)).toBe(true);
    expect(requests - before).toBe(1);
    await ensureDefaultDataset(manifest, cache);
    expect(requests - before).toBe(1);
  });

  it('refuses a download whose checksum does not match and caches nothing', async () => {
    const cache = path.join(work, 'cache-bad');
    await expect(ensureDefaultDataset(await manifestFor(`${base}/tampered`), cache)).rejects.toThrow(
      /does not match the manifest: sha256 [0-9a-f]{64}, expected a74b7efa/,
    );
    await expect(readFile(path.join(cache, 'processed.cleveland.data'))).rejects.toThrow();
  });

  it('offline: says exactly what to pass instead', async () => {
    const unreachable = 'http://127.0.0.1:9'; // discard port: nothing listens
    await expect(ensureDefaultDataset(await manifestFor(unreachable), path.join(work, 'cache-off'))).rejects.toThrow(
      /could not download .*offline\? download it yourself and pass it: npm run train -- --data \/path\/to\/processed\.cleveland\.data \(expected 18461 bytes, sha256 a74b7efa/,
    );
  });
});
