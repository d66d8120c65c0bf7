import { readFile, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log.js';

/**
 * A small JSON file the history keeps on /data (events, counters): written
 * asynchronously at most every `everyMs`, replaced whole (temporary file and
 * rename, so a power cut leaves the old or the new one), and not written at
 * all while the partition is at the reserve kept for settings.
 */
export class KeptFile<T> {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private refused = false;

  constructor(
    private readonly path: string,
    private readonly content: () => T,
    private readonly opts: { everyMs: number; reserveBytes: () => number; log: Logger },
  ) {}

  async load(): Promise<unknown> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as unknown;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT') this.opts.log.warn({ file: this.path, err: e.message }, 'cannot read; starting afresh');
      return undefined;
    }
  }

  /** Something changed: written within everyMs. */
  touch(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.opts.everyMs);
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.writing.then(() => this.write());
    this.writing = run.catch(() => undefined);
    return this.writing;
  }

  private async write(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const text = `${JSON.stringify(this.content())}\n`;
    const dir = dirname(this.path);
    const free = await statfs(dir).then((s) => s.bavail * s.bsize, () => null);
    if (free !== null && free - text.length < this.opts.reserveBytes()) {
      if (!this.refused) this.opts.log.warn({ file: this.path, freeBytes: free }, 'the data partition is at its reserve; not saved until there is room');
      this.refused = true;
      this.dirty = true;
      return;
    }
    this.refused = false;
    const tmp = join(dir, `.tmp-${basename(this.path)}.${process.pid}`);
    try {
      await writeFile(tmp, text);
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true });
      this.dirty = true;
      this.opts.log.warn({ file: this.path, err: (err as Error).message }, 'cannot save');
    }
  }
}
