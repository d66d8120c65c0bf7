import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Prefix of temporary files; anything starting with it is debris of a write that never finished. */
export const TEMP_PREFIX = '.tmp-';

/** fsync a directory so that a rename in it survives a power cut. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace `path` with `data` so that a crash or power cut at any moment leaves
 * either the old or the new content: temporary file, fsync, rename, fsync of
 * the directory. `mode` is the new file's (0o600 for secrets).
 */
export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const dir = dirname(path);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`);
  const fd = openSync(tmp, 'w', mode);
  try {
    const buf = Buffer.from(data, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    throw err;
  }
  fsyncDir(dir);
}

/**
 * Move a file that does not read into `brokenDir` (created if need be), as
 * `<name>.<timestamp>`, durably; nothing in it is lost. Returns where it went.
 */
export function setAside(path: string, brokenDir: string, at = new Date()): string {
  mkdirSync(brokenDir, { recursive: true });
  const movedTo = join(brokenDir, `${basename(path)}.${at.toISOString().replace(/[:.]/g, '-')}`);
  renameSync(path, movedTo);
  fsyncDir(dirname(path));
  return movedTo;
}

/** Remove `path` durably. */
export function removeFileDurably(path: string): void {
  unlinkSync(path);
  fsyncDir(dirname(path));
}
