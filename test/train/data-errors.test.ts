import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features/feature-schema.js';
import { loadDataset } from '../../src/train/data/load.js';
import { parseUciText } from '../../src/train/data/uci-file.js';
import { clevelandFile, hungarianFile } from '../support/paths.js';
import { runTrainCli } from '../support/run-cli.js';

let dir: string;
let cleveland: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hd-data-'));
  cleveland = await readFile(clevelandFile, 'utf8');
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, content);
  return p;
}

describe('UCI parsing and validation', () => {
  it('reads Cleveland: 303 rows, ? as missing, binary target from num', async () => {
    const ds = await loadDataset([clevelandFile], FEATURES);
    expect(ds.rows).toHaveLength(303);
    expect(ds.quality.missing).toMatchObject({ ca: 4, thal: 2 });
    expect(ds.quality.classBalance).toMatchObject({ positive: 139, negative: 164 });
    expect(ds.target.filter((t, i) => t !== (ds.num[i]! > 0 ? 1 : 0))).toEqual([]);
    expect(ds.sources[0]!.sha256).toBe('a74b7efa387bc9d108d7d0115d831fe9b414b29ae7124f331b622b4efa0427c8');
  });

  it('reads several files (CRLF Hungarian included) and reports per file', async () => {
    const ds = await loadDataset([clevelandFile, hungarianFile], FEATURES);
    expect(ds.rows).toHaveLength(303 + 294);
    expect(ds.quality.files.map((f) => f.rows)).toEqual([303, 294]);
    expect(ds.quality.missing.ca).toBeGreaterThan(290);
  });

  it('turns out-of-range values into missing and reports where they were', async () => {
    const lines = cleveland.trim().split('\n');
    lines[4] = lines[4]!.replace(/^[^,]+,/, '150.0,'); // age 150
    const p = await file('range.data', lines.join('\n'));
    const ds = await loadDataset([p], FEATURES);
    expect(ds.quality.outOfRange.count).toBe(1);
    expect(ds.quality.outOfRange.examples[0]).toMatchObject({ line: 5, feature: 'age', value: 150 });
    expect(Number.isNaN(ds.rows[4]![0]!)).toBe(true);
  });

  it.each([
    ['wrong column count', '63.0,1.0,1.0,145.0\n', /x\.data:1: expected 14 comma-separated columns, found 4/],
    [
      'text in a numeric column',
      '63.0,1.0,abc,145.0,233.0,1.0,2.0,150.0,0.0,2.3,3.0,0.0,6.0,0\n',
      /x\.data:1 column 3: cp: 'abc' is not a number/,
    ],
    [
      'invalid target',
      '63.0,1.0,1.0,145.0,233.0,1.0,2.0,150.0,0.0,2.3,3.0,0.0,6.0,9\n',
      /x\.data:1 column 14: num: target must be an integer 0-4/,
    ],
    ['empty file', '', /x\.data: empty file/],
    ['only blank lines', '\n\n  \n', /x\.data: empty file/],
    ['binary content', 'PK\u0003\u0004\u0000\u0000garbage', /binary content/],
  ])('refuses %s with file, line and column', (_name, content, message) => {
    expect(() => parseUciText('x.data', content, FEATURES)).toThrow(message);
  });
});

describe('training CLI on bad input: non-zero exit, one-line reason, no stack trace', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    [
      'corrupt file',
      () => file('corrupt.data', cleveland.replace('67.0,1.0,4.0,160.0', '67.0,1.0,#!x,160.0')),
      /corrupt\.data:2 column 3: cp: '#!x' is not a number/,
    ],
    ['empty file', () => file('empty.data', ''), /empty\.data: empty file/],
    [
      'wrong column count',
      () => file('short.data', cleveland.replace(/,0\n/g, '\n')),
      /short\.data:1: expected 14 comma-separated columns, found 13/,
    ],
    ['missing file', async () => path.join(dir, 'nope.data'), /nope\.data: no such file or directory/],
  ];
  it.each(cases)('%s', async (_name, make, message) => {
    const data = await make();
    const result = await runTrainCli(['--data', data, '--out', path.join(dir, 'out'), '--no-track']);
    expect(result.code).toBe(1);
    const errorLines = result.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^error: /);
    expect(errorLines[0]).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('bad options name the option and the rule', async () => {
    const result = await runTrainCli(['--data', clevelandFile, '--min-auc', '1.5', '--holdout', '0.5', '--folds', 'many', '--no-track']);
    expect(result.code).toBe(1);
    // Every bad option at once, one line each, with the rule from the options' schema and the value given.
    expect(result.stderr).toContain("error: --min-auc: must be a number from 0 to 1, got '1.5'");
    expect(result.stderr).toContain("error: --holdout: must be a number greater than 0 and less than 0.5, got '0.5'");
    expect(result.stderr).toContain("error: --folds: must be an integer from 2 to 20, got 'many'");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
