// Bundles for the update tests in QEMU, made from the built image's own root
// filesystem (build/image/rootfs.ext4) by ota/restamp-rootfs.sh and
// ota/build-bundle.sh, signed with the development key the image trusts.
// Cached in build/ota-test/<key>/ by the image's rootfs and version.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/paths.js';
import { makeRootfs } from './rauc-bundles.js';
import type { BuiltImage } from './qemu-box.js';

export interface ImageBundles {
  /** The version the image runs. */
  base: string;
  /** The next version: the same root filesystem, re-stamped. */
  next: string;
  nextBundle: string;
  /** A version after that whose supervisor exits at once (never ready). */
  bad: string;
  badBundle: string;
  /** Another board's bundle (compatible hushbox-rpi4). */
  piBundle: string;
  /** An older version. */
  old: string;
  oldBundle: string;
  /** A (small) next-version bundle with one bit of its payload flipped. */
  tamperedBundle: string;
}

/** MAJOR.MINOR.(PATCH+n) of a version, without its pre-release and build. */
export function bump(version: string, n: number): string {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`not a version: ${version}`);
  return `${m[1]}.${m[2]}.${Number(m[3]) + n}`;
}

/**
 * Runs a build script without holding the event loop: the bundles take minutes
 * to make, and a test worker held that long misses vitest's own calls (the run
 * then fails though every test passed).
 */
function sh(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${String(stderr).slice(-2000)}`));
      else resolve();
    });
  });
}

export async function imageBundles(image: BuiltImage): Promise<ImageBundles> {
  const rootfs = image.rootfs;
  if (!existsSync(rootfs)) throw new Error(`no ${rootfs}: build the image with npm run image`);
  const base = image.version;
  const st = statSync(rootfs);
  // what makes them: the scripts, and this file (which bundles, how each is spoiled)
  const scripts = ['restamp-rootfs.sh', 'build-bundle.sh', 'hooks/hook.sh'].map((f) => readFileSync(join(packageRoot, 'ota', f))).join('') + readFileSync(fileURLToPath(import.meta.url));
  const key = createHash('sha256').update(`${base}:${st.size}:${st.mtimeMs}:${scripts}`).digest('hex').slice(0, 16);
  const dir = join(packageRoot, 'build', 'ota-test', key);
  const next = bump(base, 1);
  const bad = bump(base, 2);
  const old = '0.0.1';
  const out: ImageBundles = {
    base,
    next,
    nextBundle: join(dir, `hushbox-${next}.raucb`),
    bad,
    badBundle: join(dir, `hushbox-${bad}-broken.raucb`),
    piBundle: join(dir, 'hushbox-rpi4.raucb'),
    old,
    oldBundle: join(dir, `hushbox-${old}.raucb`),
    tamperedBundle: join(dir, `hushbox-${next}-tampered.raucb`),
  };
  if (existsSync(join(dir, 'done'))) return out;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const work = join(dir, 'work');
  mkdirSync(work);
  const bundle = (image: string, version: string, file: string, compatible = 'hushbox-x86_64') =>
    sh(join(packageRoot, 'ota', 'build-bundle.sh'), ['--image', image, '--version', version, '--compatible', compatible, '--out', file, '--keyring', join(packageRoot, 'ota', 'dev-keys', 'keyring.pem')]);
  const nextFs = join(work, 'next.ext4');
  await sh(join(packageRoot, 'ota', 'restamp-rootfs.sh'), ['--rootfs', rootfs, '--version', next, '--out', nextFs]);
  await bundle(nextFs, next, out.nextBundle);
  rmSync(nextFs);
  const badFs = join(work, 'bad.ext4');
  await sh(join(packageRoot, 'ota', 'restamp-rootfs.sh'), ['--rootfs', rootfs, '--version', bad, '--out', badFs, '--broken']);
  await bundle(badFs, bad, out.badBundle);
  rmSync(badFs);
  // Refused before anything is written: a small root filesystem does.
  const small = makeRootfs(work);
  await bundle(small, next, out.piBundle, 'hushbox-rpi4');
  await bundle(small, old, out.oldBundle);
  // One bit early in the payload (the squashfs holding the image) of a small next-version bundle: refused the same
  // way as a full one, without the box downloading and reading 250 MB to find it.
  const smallNext = join(work, 'small-next.raucb');
  await bundle(small, next, smallNext);
  const b = readFileSync(smallNext);
  b[16_384] = b[16_384]! ^ 0x01;
  writeFileSync(`${out.tamperedBundle}.tmp`, b);
  renameSync(`${out.tamperedBundle}.tmp`, out.tamperedBundle);
  rmSync(work, { recursive: true, force: true });
  writeFileSync(join(dir, 'done'), `${new Date().toISOString()}\n`);
  return out;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

