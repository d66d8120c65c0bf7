import { EventEmitter } from 'node:events';
import { readFileSync, unlinkSync } from 'node:fs';
import type { Logger } from '../log.js';
import { setAside, writeFileAtomic } from '../presets/atomic-file.js';

/** What a session holds besides @fastify/session's cookie. */
export interface SessionData {
  cookie?: unknown;
  owner?: boolean;
  /** When the owner last entered the password (login, confirm): dangerous actions need it recent. */
  confirmedAt?: number;
  createdAt?: number;
  address?: string;
}

interface Stored {
  data: SessionData;
  expiresAt: number;
}

type Callback<T = void> = (err?: Error | null, value?: T) => void;

/**
 * The owner's sessions for @fastify/session: kept in memory, at most MAX (the oldest goes first),
 * and on the data partition (0600, atomic writes, only on login/logout/password change), so a
 * restart does not log the owner out and a logout or a password change ends a session for good.
 */
export class SessionStore extends EventEmitter {
  static readonly MAX = 32;
  private readonly sessions = new Map<string, Stored>();
  /** The last write failed (logged once until one succeeds). */
  private unsaved = false;

  constructor(
    private readonly file: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
    private readonly brokenDir: string,
  ) {
    super();
  }

  load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    try {
      const parsed = JSON.parse(text) as Record<string, Stored>;
      const now = Date.now();
      for (const [id, s] of Object.entries(parsed)) {
        if (typeof s?.expiresAt === 'number' && s.expiresAt > now && typeof s.data === 'object') this.sessions.set(id, s);
      }
    } catch (err) {
      // Sessions are not worth keeping a bad file for: the owner logs in again.
      const movedTo = setAside(this.file, this.brokenDir);
      this.log.error({ file: this.file, movedTo, err }, 'unreadable sessions file set aside; every session ends');
    }
  }

  /**
   * Write the sessions out. When that fails (a full /data) the sessions still hold in memory, so the
   * owner can log in and make room; one that was ended must not come back at the next start from
   * the old file, so the file goes (unlinking needs no room) and every session ends at that start.
   */
  private persist(ending = false): void {
    try {
      writeFileAtomic(this.file, `${JSON.stringify(Object.fromEntries(this.sessions))}\n`, 0o600);
      this.unsaved = false;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (ending) {
        try {
          unlinkSync(this.file);
        } catch {
          // no file: nothing could come back from it
        }
      }
      if (!this.unsaved) this.log.error({ file: this.file, err: code }, `cannot save the sessions (${code}): they hold until the supervisor stops${ending ? '; the file is removed so an ended session cannot come back' : ''}`);
      this.unsaved = true;
    }
  }

  get(id: string, cb: Callback<SessionData>): void {
    const s = this.sessions.get(id);
    if (s && s.expiresAt <= Date.now()) {
      this.sessions.delete(id);
      return cb(null, undefined);
    }
    cb(null, s?.data);
  }

  set(id: string, data: SessionData, cb: Callback): void {
    try {
      const plain = JSON.parse(JSON.stringify(data)) as SessionData;
      const old = this.sessions.get(id);
      this.sessions.delete(id);
      this.sessions.set(id, { data: plain, expiresAt: old?.expiresAt ?? Date.now() + this.ttlMs });
      while (this.sessions.size > SessionStore.MAX) this.sessions.delete(this.sessions.keys().next().value!);
      this.persist();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  destroy(id: string, cb: Callback): void {
    try {
      if (this.sessions.delete(id)) this.persist(true);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  /** End every session but `keep` (a password change, a reset). */
  destroyAll(keep?: string): number {
    let n = 0;
    for (const id of [...this.sessions.keys()]) {
      if (id !== keep) {
        this.sessions.delete(id);
        n++;
      }
    }
    this.persist(true);
    return n;
  }

  size(): number {
    return this.sessions.size;
  }
}
