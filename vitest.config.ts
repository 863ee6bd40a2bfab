import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/soak/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests spawn the CLI and emulators; two cores here, so keep parallelism modest.
    maxWorkers: 2,
    // Each test file in a process of its own: test/cmd runs commands in the test process
    // (test/helpers/in-process.ts), changing its working directory for the run.
    pool: 'forks',
  },
});
