import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/page-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that start engines, brokers, browsers or QEMU share two cores: one file at a time.
    fileParallelism: false,
    reporters: ['default'],
  },
});
