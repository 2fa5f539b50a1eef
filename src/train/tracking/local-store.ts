/**
 * Local run store: every training run gets a directory `<runsDir>/<runId>/` with
 *   params.json, metrics.json (as given), meta.json ({ runId, runName, status, startTime, endTime, gitCommit,
 *   gitDirty, tags, artifacts: [{ name, path, bytes, sha256 }] }) and copies of the artifact files in artifacts/.
 *
 *   recordLocalRun(runsDir: string, run: RunRecord, options?: LocalRunOptions): Promise<{ runId: string; dir: string }>
 *   readLocalRun(runsDir: string, runId: string): Promise<LocalRun>
 *   listLocalRuns(runsDir: string): Promise<string[]>          // run ids, oldest first
 *   newRunId(now?: Date): string                               // e.g. 20261123T081200123Z-3f9a1c
 *
 * A run directory appears only once complete: it is written under a hidden temporary name and renamed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gitCommit as readGitCommit, gitDirty as readGitDirty } from './git-info.js';
import { validateRunRecord, type MetricTree, type ParamTree, type RunRecord, type RunStatus } from './run-record.js';

export interface LocalRunOptions {
  /** The commit to record; looked up with git when omitted. */
  gitCommit?: string | null;
  /** Working tree to ask git about (default: process.cwd()). */
  cwd?: string;
  /** Clock, for the end time and the run id. */
  now?: () => Date;
}

export interface ArtifactEntry {
  name: string;
  /** Relative to the run directory. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface LocalRunMeta {
  runId: string;
  runName: string;
  status: RunStatus;
  startTime: string;
  endTime: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  tags: Record<string, string>;
  artifacts: ArtifactEntry[];
}

export interface LocalRun {
  runId: string;
  dir: string;
  meta: LocalRunMeta;
  params: ParamTree;
  metrics: MetricTree;
}

const RUN_ID_PATTERN = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

/** Sorts lexically in time order (UTC, millisecond resolution); the random suffix separates runs in one millisecond. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, ''); // 20261123T081200123Z
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

export async function recordLocalRun(
  runsDir: string,
  run: RunRecord,
  options: LocalRunOptions = {},
): Promise<{ runId: string; dir: string }> {
  validateRunRecord(run);
  const now = options.now ?? (() => new Date());
  const endTime = now();
  const runId = newRunId(endTime);
  const dir = path.join(runsDir, runId);
  const staging = path.join(runsDir, `.incomplete-${runId}`);

  const commit = options.gitCommit !== undefined ? options.gitCommit : await readGitCommit(options.cwd);
  const dirty = await readGitDirty(options.cwd);

  await mkdir(path.join(staging, 'artifacts'), { recursive: true });
  try {
    const artifacts: ArtifactEntry[] = [];
    for (const file of run.artifactFiles ?? []) {
      const name = path.basename(file);
      const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`artifactFiles: cannot read ${file} (${error.code ?? error.message})`);
      });
      await copyFile(file, path.join(staging, 'artifacts', name));
      artifacts.push({
        name,
        path: `artifacts/${name}`,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
    }
    const meta: LocalRunMeta = {
      runId,
      runName: run.runName,
      status: run.status ?? 'FINISHED',
      startTime: (run.startTime ?? endTime).toISOString(),
      endTime: endTime.toISOString(),
      gitCommit: commit,
      gitDirty: dirty,
      tags: { ...(run.tags ?? {}) },
      artifacts,
    };
    await writeJson(path.join(staging, 'params.json'), run.params);
    await writeJson(path.join(staging, 'metrics.json'), run.metrics);
    await writeJson(path.join(staging, 'meta.json'), meta);
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { runId, dir };
}

export async function readLocalRun(runsDir: string, runId: string): Promise<LocalRun> {
  if (!RUN_ID_PATTERN.test(runId)) throw new Error(`runId: ${runId} is not a run id (expected e.g. 20261123T081200123Z-3f9a1c)`);
  const dir = path.join(runsDir, runId);
  const read = async <T>(name: string): Promise<T> => {
    const text = await readFile(path.join(dir, name), 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`run ${runId}: cannot read ${name} in ${dir} (${error.code ?? error.message})`);
    });
    return JSON.parse(text) as T;
  };
  return {
    runId,
    dir,
    meta: await read<LocalRunMeta>('meta.json'),
    params: await read<ParamTree>('params.json'),
    metrics: await read<MetricTree>('metrics.json'),
  };
}

export async function listLocalRuns(runsDir: string): Promise<string[]> {
  const entries = await readdir(runsDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries
    .filter((e) => e.isDirectory() && RUN_ID_PATTERN.test(e.name))
    .map((e) => e.name)
    .sort();
}
