import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clevelandFile, repoRoot } from '../../support/paths.js';

/**
 * Train the real model (both models exported: model.onnx = selected, model.<name>.onnx for each) into a new temp
 * dir and return it. ~5 s on this machine.
 */
export function trainModelInto(dir = mkdtempSync(path.join(os.tmpdir(), 'hd-api-model-'))): string {
  execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'src/train/cli.ts'), '--data', clevelandFile, '--out', dir, '--no-track', '--export-all'],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], timeout: 240_000 },
  );
  return dir;
}
