import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { packageRoot } from '../../src/paths.js';

export const otaDir = join(packageRoot, 'ota');

export interface Keys {
  dir: string;
  cert: string;
  key: string;
  keyring: string;
}

/** Throwaway DEVELOPMENT keys (a CA and a signing certificate) made by ota/make-keys.sh. */
export function makeKeys(dir: string): Keys {
  execFileSync(join(otaDir, 'make-keys.sh'), [dir], { stdio: 'pipe' });
  return { dir, cert: join(dir, 'dev-signing.cert.pem'), key: join(dir, 'dev-signing.key.pem'), keyring: join(dir, 'keyring.pem') };
}

/** A small ext4 root filesystem image; random content so that squashfs cannot squeeze it under RAUC's minimum. */
export function makeRootfs(dir: string): string {
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'os-release'), 'NAME=hushbox\nID=hushbox\n');
  writeFileSync(join(root, 'noise'), randomBytes(64 * 1024));
  const image = join(dir, 'rootfs.ext4');
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', root, image, '2M'], { stdio: 'pipe' });
  return image;
}

export interface BuildOptions {
  image: string;
  version: string;
  out: string;
  compatible?: string;
  keys?: Keys;
  keyring?: string;
  /** A boot partition image (--boot), for hushbox-rpi5. */
  boot?: string;
}

/** ota/build-bundle.sh; throws with its stderr when it fails. */
export function buildBundle(o: BuildOptions): string {
  const args = ['--image', o.image, '--version', o.version, '--out', o.out];
  if (o.compatible) args.push('--compatible', o.compatible);
  if (o.keys) args.push('--cert', o.keys.cert, '--key', o.keys.key);
  if (o.keyring) args.push('--keyring', o.keyring);
  if (o.boot) args.push('--boot', o.boot);
  execFileSync(join(otaDir, 'build-bundle.sh'), args, { stdio: 'pipe' });
  return o.out;
}

/** A copy of `bundle` with one bit flipped at `offset`. */
export function flipByte(bundle: string, out: string, offset: number): string {
  const b = readFileSync(bundle);
  b[offset] = b[offset]! ^ 0x01;
  writeFileSync(out, b);
  return out;
}
