import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Feature } from '../../features/feature-schema.js';
import { targetFromNum } from '../../features/feature-schema.js';
import { DataFileError, parseUciText } from './uci-file.js';
import { validateAgainstSchema, type DataQualityReport } from './quality.js';

export interface SourceFile {
  path: string;
  bytes: number;
  sha256: string;
  rows: number;
}

export interface Dataset {
  /** Feature values in schema order after validation; NaN = missing (or refused by the schema). */
  rows: number[][];
  target: number[];
  num: number[];
  sources: SourceFile[];
  quality: DataQualityReport;
}

/** Files named on the command line, or the UCI `processed.*.data` files of a directory, in a stable order. */
export async function resolveDataPaths(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => {
      throw new DataFileError(input, null, null, 'no such file or directory');
    });
    if (info.isDirectory()) {
      const names = (await readdir(input)).filter((n) => /^processed\..+\.data$/.test(n)).sort();
      if (names.length === 0) throw new DataFileError(input, null, null, 'directory holds no processed.*.data files');
      files.push(...names.map((n) => path.join(input, n)));
    } else {
      files.push(input);
    }
  }
  return files;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Read, parse and validate UCI files into one dataset; any structural problem throws a DataFileError. */
export async function loadDataset(inputs: readonly string[], features: readonly Feature[]): Promise<Dataset> {
  const files = await resolveDataPaths(inputs);
  const sources: SourceFile[] = [];
  const rows: number[][] = [];
  const num: number[] = [];
  const origin: { file: string; line: number }[] = [];
  for (const file of files) {
    const bytes = await readFile(file);
    const parsed = parseUciText(file, bytes.toString('utf8'), features);
    sources.push({ path: file, bytes: bytes.length, sha256: sha256Hex(bytes), rows: parsed.rows.length });
    rows.push(...parsed.rows);
    num.push(...parsed.num);
    origin.push(...parsed.lines.map((line) => ({ file: path.basename(file), line })));
  }
  const target = num.map(targetFromNum);
  const { cleaned, report } = validateAgainstSchema(features, { rows, num, target, origin });
  if (report.classBalance.positive === 0 || report.classBalance.negative === 0) {
    throw new DataFileError(files.join(', '), null, null, 'the data holds only one class; training needs both');
  }
  return { rows: cleaned, target, num, sources, quality: report };
}
