import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Trains the real model once for every API test file (instead of once per worker).
    globalSetup: ['test/api/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // 2-core machine: tests start servers and child processes; keep file-level parallelism modest.
    maxWorkers: 2,
  },
});
