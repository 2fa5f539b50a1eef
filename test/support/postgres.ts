/**
 * A throwaway PostgreSQL server for tests: Debian's binaries (scripts/ci/install-postgresql.sh), a fresh data
 * directory, trust authentication, listening on 127.0.0.1 only (or also on `host`, trusting `allowFrom`: the
 * cluster's pods), on a free port (FREE_PORT_RANGE honoured). As root
 * (CI, the dev machine) the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/lib/free-port.js';
import { realComponent } from './real-component.js';

export const INSTALL_POSTGRESQL = 'bash scripts/ci/install-postgresql.sh';

/** Directory of initdb and pg_ctl: the newest /usr/lib/postgresql/<major>/bin, or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .filter((d) => existsSync(path.join(root, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? path.join(root, majors[0], 'bin') : null;
}

const isRoot = process.getuid?.() === 0;

function serverUserExists(): boolean {
  return !isRoot || spawnSync('id', ['-u', 'postgres']).status === 0;
}

/** Whether the tests can run a real server here; skips (or fails under CI=true) with the install command otherwise. */
export function havePostgres(): boolean {
  const bin = postgresBinDir();
  return realComponent(
    'PostgreSQL',
    bin !== null && serverUserExists(),
    bin === null
      ? `no /usr/lib/postgresql/*/bin/initdb (${INSTALL_POSTGRESQL})`
      : `no 'postgres' user to run the server as root (${INSTALL_POSTGRESQL})`,
  );
}

export interface PostgresServer {
  /** postgres://postgres@<host or 127.0.0.1>:<port>/postgres */
  url: string;
  port: number;
  /** A new empty database on this server; its URL. */
  createDatabase: (name: string) => string;
  stop: () => Promise<void>;
}

function asServerUser(bin: string, args: string[]): string {
  const command = isRoot ? ['runuser', '-u', 'postgres', '--', bin, ...args] : [bin, ...args];
  return execFileSync(command[0]!, command.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface PostgresOptions {
  /** A second address to listen on, e.g. the node address the cluster's pods reach the host on; URLs then name it. */
  host?: string;
  /** CIDRs trusted on `host` (pg_hba.conf), e.g. the pod network. */
  allowFrom?: string[];
}

/** Start a fresh server; `stop()` shuts it down and removes its data directory. */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(`PostgreSQL is not installed (${INSTALL_POSTGRESQL})`);
  const dir = mkdtempSync(path.join(process.env.PG_TEST_DIR ?? os.tmpdir(), 'pg-test-'));
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  try {
    asServerUser(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    if (options.host) {
      const trusted = [`${options.host}/32`, ...(options.allowFrom ?? [])].map((cidr) => `host all all ${cidr} trust\n`);
      appendFileSync(path.join(data, 'pg_hba.conf'), trusted.join(''));
    }
    // Unix socket in the data directory (not /var/run/postgresql, which may not exist); fsync off: throwaway data.
    const listen = ['127.0.0.1', ...(options.host ? [options.host] : [])].join(',');
    const serverOptions = `-p ${port} -c listen_addresses=${listen} -k ${dir} -c fsync=off -c full_page_writes=off`;
    asServerUser(path.join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      path.join(dir, 'server.log'),
      '-o',
      serverOptions,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const e = error as { stderr?: string; message: string };
    throw new Error(`cannot start PostgreSQL: ${e.stderr?.trim() || e.message}`, { cause: error });
  }
  const url = (database: string) => `postgres://postgres@${options.host ?? '127.0.0.1'}:${port}/${database}`;
  return {
    url: url('postgres'),
    port,
    createDatabase(name) {
      asServerUser(path.join(bin, 'psql'), ['-h', dir, '-p', String(port), '-U', 'postgres', '-qc', `CREATE DATABASE "${name}"`]);
      return url(name);
    },
    async stop() {
      try {
        asServerUser(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
