/**
 * The SQLite writer thread is background work: on Linux it lowers its own priority (niceness per thread), so under
 * full load its inserts wait rather than take the CPU from the event loop. Checked on the running thread in /proc.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteWriter, WRITER_NICENESS } from '../../src/outcomes/sqlite-writer.js';

/** Niceness of each thread of this process, from /proc/self/task/<tid>/stat (field 19). */
function threadNiceness(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

const onLinux = process.platform === 'linux';
if (!onLinux) console.warn(`skipping the writer thread's niceness test: per-thread niceness is Linux's (${process.platform})`);

describe.skipIf(!onLinux)('the SQLite writer thread', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hd-writer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`runs at niceness ${WRITER_NICENESS}, the event loop's thread at the process's own`, async () => {
    const before = threadNiceness();
    expect(before).not.toContain(WRITER_NICENESS);
    const writer = new SqliteWriter(path.join(dir, 'log.sqlite'));
    try {
      await writer.insert('CREATE TABLE IF NOT EXISTS t (x INTEGER)', [[]]);
      await writer.insert('INSERT INTO t (x) VALUES (?1)', [[1], [2]]);
      const during = threadNiceness();
      expect(during.filter((n) => n === WRITER_NICENESS)).toHaveLength(1);
      expect(during[0]).toBe(before[0]);
    } finally {
      await writer.close();
    }
  });
});
