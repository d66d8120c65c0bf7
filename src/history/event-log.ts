import { Value } from '@sinclair/typebox/value';
import { Type } from '@sinclair/typebox';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { KeptFile } from './kept-file.js';
import { BoxEventSchema, type BoxEvent, type EventType } from './schema.js';

/** Events kept (the oldest go first). */
export const MAX_EVENTS = 500;
/** Xruns closer than this to the last one are gathered into its event. */
export const XRUN_COALESCE_MS = 10_000;
/** An event that gathers more is sent again at most this often. */
const UPDATE_EVERY_MS = 1000;

const StoredSchema = Type.Object({ nextId: Type.Integer(), events: Type.Array(BoxEventSchema) });

export interface NewEvent {
  type: EventType;
  level: BoxEvent['level'];
  message: string;
  data?: Record<string, unknown>;
  /** Gather into the latest event of the same type when it is this recent (ms). */
  coalesceMs?: number;
  /** How to fold the new data into a gathered event's. */
  merge?: (into: Record<string, unknown>, add: Record<string, unknown>) => void;
}

/** What happened on the box, bounded, kept on /data across restarts. */
export class EventLog {
  private events: BoxEvent[] = [];
  private nextId = 1;
  private readonly file: KeptFile<unknown>;
  private pendingUpdate = new Set<BoxEvent>();
  private updateTimer: NodeJS.Timeout | undefined;

  constructor(
    dataDir: string,
    private readonly onEvent: (e: BoxEvent) => void,
    opts: { reserveBytes: () => number; log: Logger; max?: number },
  ) {
    this.max = opts.max ?? MAX_EVENTS;
    this.file = new KeptFile(join(dataDir, 'events.json'), () => ({ nextId: this.nextId, events: this.events }), { everyMs: 2000, ...opts });
  }

  readonly max: number;

  async load(): Promise<void> {
    const stored = await this.file.load();
    if (stored !== undefined && Value.Check(StoredSchema, stored)) {
      this.events = stored.events.slice(-this.max);
      this.nextId = Math.max(stored.nextId, (this.events.at(-1)?.id ?? 0) + 1);
    }
  }

  add(e: NewEvent, at = new Date()): BoxEvent {
    const last = this.events.at(-1);
    const iso = at.toISOString();
    if (e.coalesceMs && last && last.type === e.type && at.getTime() - Date.parse(last.lastTime) <= e.coalesceMs) {
      last.count++;
      last.lastTime = iso;
      last.message = e.message;
      if (e.data) {
        if (e.merge) e.merge((last.data ??= {}), e.data);
        else last.data = e.data;
      }
      this.file.touch();
      this.sendLater(last);
      return last;
    }
    const event: BoxEvent = { id: this.nextId++, time: iso, lastTime: iso, type: e.type, level: e.level, message: e.message, count: 1, ...(e.data ? { data: e.data } : {}) };
    this.events.push(event);
    if (this.events.length > this.max) this.events.splice(0, this.events.length - this.max);
    this.file.touch();
    this.onEvent(structuredClone(event));
    return event;
  }

  /** A gathered event goes out again at most once a second (a storm of xruns is one message a second). */
  private sendLater(e: BoxEvent): void {
    this.pendingUpdate.add(e);
    this.updateTimer ??= setTimeout(() => {
      this.updateTimer = undefined;
      for (const p of this.pendingUpdate) this.onEvent(structuredClone(p));
      this.pendingUpdate.clear();
    }, UPDATE_EVERY_MS);
  }

  /** Newest last; `since`: only those with a larger id. */
  list(since = 0, limit = this.max): BoxEvent[] {
    return structuredClone(this.events.filter((e) => e.id > since).slice(-limit));
  }

  latest(type: EventType): BoxEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.type === type) return this.events[i];
    return undefined;
  }

  async stop(): Promise<void> {
    if (this.updateTimer) clearTimeout(this.updateTimer);
    this.updateTimer = undefined;
    for (const p of this.pendingUpdate) this.onEvent(structuredClone(p));
    this.pendingUpdate.clear();
    await this.file.flush();
  }
}
