import { Value } from '@sinclair/typebox/value';
import { Type } from '@sinclair/typebox';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { KeptFile } from './kept-file.js';
import type { XrunCounts } from './schema.js';

const StoredSchema = Type.Object({ xrunsTotal: Type.Integer({ minimum: 0 }), lastXrunAt: Type.Union([Type.String(), Type.Null()]) });

/** Xruns since the supervisor started and since the box was set up (the total kept on /data). */
export class XrunCounter {
  private session = 0;
  private total = 0;
  private lastAt: string | null = null;
  private readonly file: KeptFile<unknown>;

  constructor(dataDir: string, opts: { reserveBytes: () => number; log: Logger }) {
    this.file = new KeptFile(join(dataDir, 'counters.json'), () => ({ xrunsTotal: this.total, lastXrunAt: this.lastAt }), { everyMs: 5000, ...opts });
  }

  async load(): Promise<void> {
    const stored = await this.file.load();
    if (stored !== undefined && Value.Check(StoredSchema, stored)) {
      this.total = stored.xrunsTotal;
      this.lastAt = stored.lastXrunAt;
    }
  }

  add(at = new Date()): void {
    this.session++;
    this.total++;
    this.lastAt = at.toISOString();
    this.file.touch();
  }

  counts(): XrunCounts {
    return { session: this.session, total: this.total, lastAt: this.lastAt };
  }

  stop(): Promise<void> {
    return this.file.flush();
  }
}
