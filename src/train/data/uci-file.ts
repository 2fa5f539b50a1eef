import type { Feature } from '../../features/feature-schema.js';

/** A data problem located precisely enough for a person to fix the file: file, line and column. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly column: number | null,
    reason: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ''}${column !== null ? ` column ${column}` : ''}: ${reason}`);
    this.name = 'DataFileError';
  }
}

export interface ParsedUciFile {
  file: string;
  /** Feature values in schema order; NaN where the file has the missing token. */
  rows: number[][];
  /** The raw `num` target (0-4). */
  num: number[];
  /** 1-based line number of each row in the file, for messages. */
  lines: number[];
}

/**
 * Parse one UCI "processed" file: comma-separated, no header, the 13 schema features then `num`,
 * `?` for missing. Structure is checked strictly (column count, numbers, a valid target): a file that is not
 * UCI-shaped is refused with file, line and column. Range checks on features belong to validation, not parsing.
 */
export function parseUciText(file: string, text: string, features: readonly Feature[], missingToken = '?'): ParsedUciFile {
  const expectedColumns = features.length + 1;
  if (text.includes('\u0000')) throw new DataFileError(file, null, null, 'binary content (NUL bytes): not a UCI text file');
  const rows: number[][] = [];
  const num: number[] = [];
  const lines: number[] = [];
  const rawLines = text.split(/\r?\n/);
  rawLines.forEach((rawLine, index) => {
    const lineNumber = index + 1;
    if (rawLine.trim() === '') return;
    const cells = rawLine.split(',').map((c) => c.trim());
    if (cells.length !== expectedColumns) {
      throw new DataFileError(file, lineNumber, null, `expected ${expectedColumns} comma-separated columns, found ${cells.length}`);
    }
    const values = cells.map((cell, c) => {
      if (cell === missingToken) return Number.NaN;
      const value = Number(cell);
      if (cell === '' || !Number.isFinite(value)) {
        const name = c < features.length ? features[c]!.name : 'num';
        throw new DataFileError(file, lineNumber, c + 1, `${name}: '${cell.slice(0, 40)}' is not a number or '${missingToken}'`);
      }
      return value;
    });
    const target = values[features.length]!;
    if (!Number.isInteger(target) || target < 0 || target > 4) {
      throw new DataFileError(file, lineNumber, expectedColumns, `num: target must be an integer 0-4, found '${cells[features.length]}'`);
    }
    rows.push(values.slice(0, features.length));
    num.push(target);
    lines.push(lineNumber);
  });
  if (rows.length === 0) throw new DataFileError(file, null, null, 'empty file: no data rows');
  return { file, rows, num, lines };
}
