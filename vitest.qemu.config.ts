import { defineConfig } from 'vitest/config';

// The built image in QEMU (issue 10's test 1, and a take cut by a power cut):
// test/system/image.qemu.ts, `npm run test:image-qemu`, and the last step of
// `npm test` (scripts/test.mjs). Run alone, so nothing else competes with the
// emulated box for the CPU; the image is built first, cached by its inputs
// (board/debian/build.sh): a clean machine builds it from scratch.
export default defineConfig({
  test: {
    include: ['test/system/image.qemu.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 60 * 60_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
