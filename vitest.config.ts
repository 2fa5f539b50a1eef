import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // 2-core machine: tests start servers and child processes; keep file-level parallelism modest.
    maxWorkers: 2,
  },
});
