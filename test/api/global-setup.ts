/**
 * vitest globalSetup for the API tests: trains the real model once (Cleveland data, the project's training CLI)
 * into a temp dir and provides its path as `apiModelDir`. Test files read it with `testModelDir()` from
 * support/model.ts, which also works without this setup (then one model per training fingerprint, cached in the
 * OS temp dir).
 * Register in vitest.config.ts: `globalSetup: ['test/api/global-setup.ts']`.
 */
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { trainModelInto } from './support/train.js';

declare module 'vitest' {
  export interface ProvidedContext {
    apiModelDir: string;
  }
}

let dir: string | undefined;

export default function setup(project: TestProject): () => void {
  dir = trainModelInto();
  project.provide('apiModelDir', dir);
  process.env.HD_TEST_MODEL_DIR = dir;
  return () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}
