import { defineConfig } from 'vitest/config';

// The built image in QEMU: its boot test (test/system/image.qemu.ts, issue 10's test 1)
// and the update tests (test/system/ota.qemu.ts, issue 10's
// tests 2-5): `npm run test:ota-qemu`. Not part of `npm test` yet: they need the
// image to boot to its page under TCG, which the image's own boot test does not
// yet show on the shared development machine; they join `npm test` with it.
export default defineConfig({
  test: {
    include: ['test/system/image.qemu.ts', 'test/system/ota.qemu.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 60 * 60_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
