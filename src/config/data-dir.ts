import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AlreadyRunningError, ConfigError } from '../errors.js';
import { flockExclusive } from '../system/native-system.js';
import { runtimeDir } from './runtime-dir.js';

/** The pid file older versions kept on the data partition; removed when found. */
const LEGACY_PID_FILE = 'hushbox.pid';

/**
 * The data directory, held by one supervisor at a time: an flock on a file in
 * the runtime directory, kept open while the supervisor runs. The kernel drops
 * it when the process dies however it dies, so it cannot go stale (a pid file
 * can: after a power cut its pid often belongs to another process), and it
 * needs no room on the data partition.
 */
export class DataDirLock {
  private fd: number | undefined;
  readonly lockFile: string;

  constructor(
    readonly dir: string,
    readonly runDir: string = runtimeDir(),
  ) {
    // One lock per data directory: two supervisors on two directories (tests, a developer's runs) do not meet.
    this.lockFile = join(runDir, `data-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16)}.lock`);
  }

  /** Create the directory if needed and take the lock, or say who holds it. */
  acquire(): void {
    if (this.fd !== undefined) return;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new ConfigError(`data directory ${this.dir}: cannot create: ${(err as Error).message}`);
    }
    try {
      mkdirSync(this.runDir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw new ConfigError(`runtime directory ${this.runDir}: cannot create: ${(err as Error).message}`);
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      let fd: number;
      try {
        fd = openSync(this.lockFile, constants.O_RDWR | constants.O_CREAT, 0o644);
      } catch (err) {
        throw new ConfigError(`cannot open the lock ${this.lockFile}: ${(err as Error).message}`);
      }
      let held: boolean;
      try {
        held = flockExclusive(fd);
      } catch (err) {
        closeSync(fd);
        throw new ConfigError(`cannot lock ${this.lockFile}: ${(err as Error).message}`);
      }
      if (!held) {
        closeSync(fd);
        throw new AlreadyRunningError(
          `another hushbox supervisor${this.holder()} is already using the data directory ${this.dir}; stop it first or use another --data directory`,
        );
      }
      // The holder before us may have removed the file between our open and our flock: then we hold a
      // file nobody else can see. Only the file at the path counts.
      if (!this.samePath(fd)) {
        closeSync(fd);
        continue;
      }
      ftruncateSync(fd, 0);
      writeSync(fd, `${process.pid}\n`, 0);
      this.fd = fd;
      this.removeLegacyPidFile();
      return;
    }
    throw new AlreadyRunningError(`could not take the lock ${this.lockFile}: it kept being replaced`);
  }

  private samePath(fd: number): boolean {
    try {
      const a = fstatSync(fd);
      const b = statSync(this.lockFile);
      return a.ino === b.ino && a.dev === b.dev;
    } catch {
      return false;
    }
  }

  /** " (pid N)" from the lock file, for the message; the lock itself never relies on it. */
  private holder(): string {
    try {
      const pid = Number.parseInt(readFileSync(this.lockFile, 'utf8').trim(), 10);
      return Number.isInteger(pid) && pid > 0 ? ` (pid ${pid})` : '';
    } catch {
      return '';
    }
  }

  private removeLegacyPidFile(): void {
    try {
      unlinkSync(join(this.dir, LEGACY_PID_FILE));
    } catch {
      // none, or a read-only data partition: it no longer means anything either way
    }
  }

  /** Whether this process holds the lock. */
  held(): boolean {
    return this.fd !== undefined;
  }

  release(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    // Remove while still holding it, so nobody takes a lock on a file that is about to vanish.
    try {
      unlinkSync(this.lockFile);
    } catch {
      // already gone
    }
    closeSync(fd);
  }
}
