import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/soak/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Most of a test's time is waiting (on servers, pauses, child processes), not computing: a
    // full run keeps two cores about a quarter busy with two files at a time. Three files at a
    // time overlap those waits without starving the spawned processes on two cores.
    maxWorkers: 3,
    // Each test file in a process of its own: test/cmd runs commands in the test process
    // (test/helpers/in-process.ts), changing its working directory for the run.
    pool: 'forks',
  },
});
