#!/usr/bin/env node
// Prepares a clone to run or test the box: Debian packages (installed when
// root, named otherwise), npm packages, the native build, the TypeScript build.
// Plain Node with no dependencies, so it runs before `npm install`.
//
//   node scripts/prepare.mjs [--build] [--test] [--image]   prepare (and build)
//   node scripts/prepare.mjs --print-debs [test] [image] [bench]   the Debian packages, one line
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What `npm start` needs: a C++ toolchain and the libraries the engine links. */
export const BUILD_DEBS = [
  'cmake',
  'g++',
  'libasound2-dev',
  // the JACK backend (hushbox-engine run --backend jack): libjack, which PipeWire's JACK also serves.
  'libjack-jackd2-dev',
  // The audio tap's resampler and the recordings' file writer (native/engine/tap.cpp, recorder.cpp).
  'libsndfile1-dev',
  'libsoxr-dev',
  'make',
  'ninja-build',
  'pkg-config',
];
/** What `npm test` needs on top: the real parts the tests run against. */
export const TEST_DEBS = [
  'clang-format',
  'chromium',
  'mosquitto',
  'mosquitto-clients',
  'python3',
  // test/engine/jack.test.ts: a real JACK server (jackd2 on its dummy driver) for the JACK backend.
  'jackd2',
  // test/recording: takes read back with sox (not with libsndfile, which wrote them).
  'sox',
  // test/system/alsa.test.ts: the engine on snd-aloop under Debian's PREEMPT_RT kernel in QEMU.
  'busybox-static',
  'cpio',
  'kmod',
  'linux-image-rt-amd64',
  'qemu-system-x86',
  // test/system/midi.test.ts, bench/midi.mjs: amidi writes snd-virmidi's raw MIDI device in QEMU.
  'alsa-utils',
  // test/ota, test/integration/ota.test.ts: real RAUC bundles built, signed and verified (ota/).
  'e2fsprogs',
  'openssl',
  'rauc',
  'squashfs-tools',
  // test/integration/metrics.test.ts: promtool check metrics on the real /metrics output.
  'prometheus',
  // test/board/buildroot.test.ts: Buildroot's make <defconfig> and utils/check-package (python3-magic, flake8,
  // shellcheck) on board/buildroot; test/board/images.test.ts: the board's genimage configs and post-image scripts.
  'dosfstools',
  'fdisk',
  'flake8',
  'genimage',
  'grub-common',
  'mtools',
  'python3-magic',
  'shellcheck',
  'xz-utils',
  // test/system/arm64.test.ts: the engine cross-built for the Pi's CPU and run under qemu-aarch64 (user mode) and
  // qemu-system-aarch64 (the seccomp checks). Its libraries come from Debian's arm64 packages (multiarch: arm64 is
  // added as a foreign architecture, see ensureDebs): the same versions as the x86-64 build's, no sources to fetch.
  'g++-aarch64-linux-gnu',
  'qemu-system-arm',
  'qemu-user',
  'libasound2-dev:arm64',
  'libsndfile1-dev:arm64',
  'libsoxr-dev:arm64',
];
/**
 * What `npm run image` needs (board/debian/build.sh) and what boots the image
 * (board/debian/run.sh, test/system/image.test.ts): part of `--test`, as the
 * tests build and boot the image.
 */
export const IMAGE_DEBS = [
  'debian-archive-keyring',
  'dosfstools',
  'e2fsprogs',
  'fdisk',
  'grub-common',
  'grub-efi-amd64-bin',
  'mmdebstrap',
  'mtools',
  'ovmf',
  'qemu-system-x86',
  'qemu-utils',
  'rauc',
  'squashfs-tools',
  'zstd',
];
/** What bench/ needs on top (not installed by --test): load generators and the reference timer test. */
export const BENCH_DEBS = [
  'rt-tests',
  'stress-ng',
  // bench/ns/run.sh: the noise-suppression comparison
  'espeak-ng',
  'libspeexdsp-dev',
  'libwebrtc-audio-processing-dev',
  'sox',
];

const args = process.argv.slice(2);

function log(msg) {
  process.stderr.write(`[prepare] ${msg}\n`);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    log(`failed: ${cmd} ${argv.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function ensureDebs(pkgs) {
  const missing = pkgs.filter((p) => !installed(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    log(`missing Debian packages: ${missing.join(' ')}`);
    log(`install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const foreign = [...new Set(missing.filter((p) => p.includes(':')).map((p) => p.split(':')[1]))];
  const known = spawnSync('dpkg', ['--print-foreign-architectures'], { encoding: 'utf8' }).stdout.split('\n');
  const add = foreign.filter((a) => !known.includes(a));
  if (add.length > 0) {
    for (const a of add) run('dpkg', ['--add-architecture', a]);
    run('apt-get', ['update', '-q'], { env });
  }
  let r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (r.status !== 0) {
    run('apt-get', ['update', '-q'], { env });
    r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

function newest(dir, exts) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

if (args.includes('--print-debs')) {
  const extra = [
    ...(args.includes('test') ? [...TEST_DEBS, ...IMAGE_DEBS] : []),
    ...(args.includes('image') ? IMAGE_DEBS : []),
    ...(args.includes('bench') ? BENCH_DEBS : []),
  ];
  process.stdout.write(`${[...new Set([...BUILD_DEBS, ...extra])].join(" ")}\n`);
  process.exit(0);
}

ensureDebs([
  ...BUILD_DEBS,
  ...(args.includes('--test') ? [...TEST_DEBS, ...IMAGE_DEBS] : []),
  ...(args.includes('--image') ? IMAGE_DEBS : []),
]);

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  log('installing npm packages');
  // Exactly what the lock file says, as CI and the image install it.
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

if (args.includes('--build')) {
  const buildDir = join(root, 'build', 'native');
  if (existsSync(join(buildDir, 'build.ninja')) || existsSync(join(buildDir, 'Makefile'))) {
    run('cmake', ['--build', buildDir]);
  } else {
    log('building the native engine and addon');
    run('npx', ['cmake-js', 'compile', '-d', 'native', '-O', 'build/native']);
  }
  // The front panel's bundle (Preact, htm, uPlot and src/web/page/ → src/web/public/app.js, app.css).
  const { buildPage, pageStale } = await import('./build-page.mjs');
  if (pageStale()) {
    log('bundling the front panel');
    try {
      await buildPage();
    } catch (err) {
      // A node_modules from before Preact, htm and uPlot were added: the rest still builds.
      log(`the front panel could not be bundled (${String(err.message).split('\n')[0]}): run npm install; the box serves no page until then`);
    }
  }
  const out = join(root, 'dist', 'main.js');
  if (!existsSync(out) || newest(join(root, 'src'), ['.ts']) > statSync(out).mtimeMs) {
    log('compiling the supervisor');
    run('npx', ['tsc', '-p', 'tsconfig.build.json']);
  }
}
