import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HushboxError } from '../errors.js';

/**
 * Every read and write of /sys, /proc and /etc goes through one root path:
 * '/' on the box, a fake tree in tests.
 */
export class RootFs {
  constructor(readonly root: string) {}

  path(p: string): string {
    return join(this.root, p);
  }

  /** The file's text, or null when it does not exist or cannot be read. */
  read(p: string): string | null {
    try {
      return readFileSync(this.path(p), 'utf8');
    } catch {
      return null;
    }
  }

  /** The file's text without surrounding white space, or null. */
  value(p: string): string | null {
    const t = this.read(p);
    return t === null ? null : t.trim();
  }

  exists(p: string): boolean {
    return existsSync(this.path(p));
  }

  /** Entries of a directory, sorted; [] when it does not exist. */
  list(p: string): string[] {
    try {
      return readdirSync(this.path(p)).sort();
    } catch {
      return [];
    }
  }

  readlink(p: string): string | null {
    try {
      return readlinkSync(this.path(p));
    } catch {
      return null;
    }
  }

  /** Write a sysfs/procfs value; the error names the file. */
  write(p: string, value: string): void {
    try {
      writeFileSync(this.path(p), value);
    } catch (err) {
      throw new HushboxError('system_write_failed', `cannot write '${value}' to ${p}: ${(err as Error).message}`);
    }
  }
}
