import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AlreadyRunningError, ConfigError } from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The data directory, held by one supervisor at a time through a pid lock file. */
export class DataDirLock {
  private held = false;
  readonly lockFile: string;

  constructor(readonly dir: string) {
    this.lockFile = join(dir, 'hushbox.pid');
  }

  /** Create the directory if needed and take the lock, or say who holds it. */
  acquire(): void {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new ConfigError(`data directory ${this.dir}: cannot create: ${(err as Error).message}`);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.lockFile, 'wx', 0o644);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new ConfigError(`data directory ${this.dir}: cannot write ${this.lockFile}: ${(err as Error).message}`);
        }
      }
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(this.lockFile, 'utf8').trim(), 10);
      } catch {
        // vanished between open and read: try again
      }
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new AlreadyRunningError(
          `another hushbox supervisor (pid ${pid}) is already using the data directory ${this.dir}; stop it first or use another --data directory`,
        );
      }
      // Stale lock from a supervisor that died: take it over.
      try {
        unlinkSync(this.lockFile);
      } catch {
        // somebody else removed it first
      }
    }
    throw new AlreadyRunningError(`could not take the lock ${this.lockFile}`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      unlinkSync(this.lockFile);
    } catch {
      // already gone
    }
  }
}
