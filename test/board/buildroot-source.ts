import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../src/paths.js';

/** Buildroot 2026.02.3 as released (`git archive` of the tag), the release board/buildroot is written for. */
export const BUILDROOT_TARBALL = 'buildroot-2026.02.3.tar.xz';
export const BUILDROOT_SHA256 = 'bec7bcdaa4f16cb117960ca40451f07a147f38d91318fed99bbd2e15244f161e';

export const externalTree = join(packageRoot, 'board', 'buildroot');

/** Where the vendored tarball is: $HUSHBOX_VENDOR_DIR, or shared/vendor beside the clone (or its worktree parent). */
export function vendorTarball(): string {
  const candidates = [
    process.env.HUSHBOX_VENDOR_DIR,
    resolve(packageRoot, '..', 'shared', 'vendor'),
    resolve(packageRoot, '..', '..', 'shared', 'vendor'),
  ].filter((d): d is string => !!d);
  for (const dir of candidates) {
    const file = join(dir, BUILDROOT_TARBALL);
    if (existsSync(file)) return file;
  }
  throw new Error(`${BUILDROOT_TARBALL} not found in ${candidates.join(', ')} (set HUSHBOX_VENDOR_DIR to the folder that holds it)`);
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A command run without blocking the test worker (make and check-package take seconds). */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (status) => res({ status, stdout, stderr }));
  });
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The unpacked Buildroot tree, cached outside the clone by the tarball's
 * sha256 ($HUSHBOX_BUILDROOT_CACHE, /var/cache/hushbox-buildroot, or the
 * temp folder): unpacked once per machine, checked against the hash first.
 */
export async function buildrootSource(): Promise<string> {
  const tarball = vendorTarball();
  const digest = await sha256(tarball);
  if (digest !== BUILDROOT_SHA256) throw new Error(`${tarball} has sha256 ${digest}, expected ${BUILDROOT_SHA256} (Buildroot 2026.02.3 as released)`);
  const cache = [process.env.HUSHBOX_BUILDROOT_CACHE, '/var/cache/hushbox-buildroot', join(tmpdir(), 'hushbox-buildroot-cache')]
    .filter((d): d is string => !!d)
    .find(writable);
  if (!cache) throw new Error('no writable cache folder for the unpacked Buildroot (set HUSHBOX_BUILDROOT_CACHE)');
  const dir = join(cache, digest);
  const top = join(dir, 'buildroot-2026.02.3');
  if (existsSync(join(top, 'Makefile'))) return top;
  // Unpacked beside, then renamed: a run that dies half-way leaves no half tree behind.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const r = await run('tar', ['-xJf', tarball, '-C', partial]);
  if (r.status !== 0) throw new Error(`unpacking ${tarball} failed: ${r.stderr}`);
  try {
    renameSync(partial, dir);
  } catch (err) {
    // Another run unpacked it first.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(top, 'Makefile'))) throw err;
  }
  return top;
}
