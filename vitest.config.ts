import { defineConfig } from 'vitest/config';

const shared = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'default',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/hostile/kube/**', '**/node_modules/**'],
          globalSetup: ['test/helpers/global-setup.ts'],
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
      {
        // A real kube-apiserver + etcd (test/e2e/harness), embedded PostgreSQL, controllers in-process;
        // test/hostile/kube holds the hostile cases that need one.
        test: {
          ...shared,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'test/hostile/kube/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
