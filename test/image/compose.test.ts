/**
 * deploy/docker-compose.yml is valid for a real Compose CLI and wires the stack together: the API built from the
 * Dockerfile, Prometheus and Grafana with files that exist in the repo, and every port bound to 127.0.0.1.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../scripts/lib/model-dir.js';
import { runProcess } from '../../scripts/lib/process.js';
import { realComponent } from '../support/real-component.js';

const composeFile = path.join(repoRoot, 'deploy/docker-compose.yml');
const cli = await runProcess('docker-compose', ['version', '--short']).catch(() => null);

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: string[];
  volumes?: string[];
}

describe.runIf(realComponent('docker-compose', cli?.code === 0, 'docker-compose not installed (scripts/ci/install-docker.sh)'))(
  'deploy/docker-compose.yml',
  () => {
    it('is accepted by docker-compose and resolves to the four services', async () => {
      const result = await runProcess('docker-compose', ['-f', composeFile, 'config']);
      expect(result.code, result.stderr).toBe(0);
      const resolved = parse(result.stdout) as { services: Record<string, ComposeService> };
      expect(Object.keys(resolved.services).sort()).toEqual(['api', 'grafana', 'mlflow', 'prometheus']);
      const api = resolved.services.api!;
      expect(api.build?.context).toBe(repoRoot);
      expect(api.build?.dockerfile).toBe('Dockerfile');
      for (const [name, service] of Object.entries(resolved.services)) {
        for (const port of service.ports ?? []) expect(port, `${name} publishes ${port}`).toMatch(/^127\.0\.0\.1:/);
      }
    });

    it('mounts only files and directories that exist in the repository', () => {
      const raw = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, ComposeService> };
      const mounts = Object.values(raw.services)
        .flatMap((s) => s.volumes ?? [])
        .map((v) => v.split(':')[0]!)
        .filter((source) => source.startsWith('./'));
      expect(mounts.length).toBeGreaterThanOrEqual(4);
      for (const source of mounts) expect(existsSync(path.resolve(path.dirname(composeFile), source)), source).toBe(true);
    });
  },
);
