import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/train/data/download.js';
import { dataDir, repoRoot } from '../support/paths.js';
const UCI_BASE = 'https://archive.ics.uci.edu/ml/machine-learning-databases/heart-disease/';

describe('data/manifest.json', () => {
  it('lists the four processed UCI files and the codebook, with the UCI archive URLs', async () => {
    const manifest = await readManifest(path.join(repoRoot, 'data/manifest.json'));
    expect(manifest.default).toBe('processed.cleveland.data');
    expect(manifest.files.map((f) => f.file)).toEqual([
      'processed.cleveland.data',
      'processed.hungarian.data',
      'processed.switzerland.data',
      'processed.va.data',
      'heart-disease.names',
    ]);
    for (const entry of manifest.files) {
      expect(entry.url).toBe(`${UCI_BASE}${entry.file}`);
      expect(Number.isInteger(entry.bytes) && entry.bytes > 0).toBe(true);
      if (entry.sha256 === null) expect((entry as { note?: string }).note).toMatch(/^unverified/);
      else expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(manifest.files.find((f) => f.file === 'processed.switzerland.data')?.rows).toBe(123);
    expect(manifest.files.find((f) => f.file === 'processed.va.data')?.rows).toBe(200);
  });

  it('matches the bytes, sha256 and row counts of the data files present locally', async () => {
    const manifest = await readManifest(path.join(repoRoot, 'data/manifest.json'));
    const local = manifest.files.filter((f) => existsSync(path.join(dataDir, f.file)));
    expect(local.map((f) => f.file)).toEqual(
      expect.arrayContaining(['processed.cleveland.data', 'processed.hungarian.data', 'heart-disease.names']),
    );
    for (const entry of local) {
      const bytes = await readFile(path.join(dataDir, entry.file));
      expect(bytes.length, entry.file).toBe(entry.bytes);
      if (entry.sha256) expect(createHash('sha256').update(bytes).digest('hex'), entry.file).toBe(entry.sha256);
      if (entry.rows !== undefined) {
        const rows = bytes
          .toString('latin1')
          .split(/\r?\n/)
          .filter((line) => line.trim() !== '').length;
        expect(rows, entry.file).toBe(entry.rows);
      }
    }
  });
});
