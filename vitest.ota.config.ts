import { defineConfig } from 'vitest/config';

// The update life of a box on the built image in QEMU (issue 10's tests 2-5:
// refusals, a good update, a bad one falling back, power cuts during installs):
// `npm run test:ota-qemu`, and the last step of `npm test` (scripts/test.mjs):
// some fifteen boots of the box, the longest step of the suite.
export default defineConfig({
  test: {
    include: ['test/system/ota.qemu.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 60 * 60_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
