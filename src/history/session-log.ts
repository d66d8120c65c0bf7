import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, mkdir, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { Logger } from '../log.js';
import { COLUMN_NAMES, COLUMNS, type Row, type Session } from './schema.js';

/** `session-<id>_<first sample, unix s>.<jsonl|csv>[.gz]`: sessions and their parts sort by name in time order. */
const FILE_RE = /^session-([0-9TZ-]+)_([0-9]+)\.(jsonl|csv)(\.gz)?$/;

export interface LogFile {
  name: string;
  session: string;
  from: number;
  format: 'jsonl' | 'csv';
  compressed: boolean;
  bytes: number;
}

export function parseFileName(name: string): Omit<LogFile, 'bytes'> | null {
  const m = FILE_RE.exec(name);
  if (!m) return null;
  return { name, session: m[1]!, from: Number(m[2]), format: m[3] as 'jsonl' | 'csv', compressed: m[4] !== undefined };
}

/** The session id for a start time: 2026-12-07T02-13-38Z. */
export function sessionId(at: Date): string {
  return at.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** Unix seconds of a session id. */
export function sessionStart(id: string): number {
  const iso = id.replace(/T(\d\d)-(\d\d)-(\d\d)Z$/, 'T$1:$2:$3Z');
  return Date.parse(iso) / 1000;
}

export interface SessionLogOptions {
  dir: string;
  sampleMs: number;
  /** A part is closed and gzipped once its JSON lines reach this size. */
  rotateBytes: number;
  /** All the session logs together; the oldest parts go first. */
  maxBytes: number;
  /** Bytes the data partition keeps free for the box's settings: the log never writes into them. */
  reserveBytes: () => number;
  log: Logger;
  version: string;
  /** Told when writing stops or starts again (the partition at its reserve, a write error). */
  onWriting?: (writing: boolean, reason: string | null) => void;
}

/**
 * The session log on /data: one JSON-lines file and one CSV per part, written in
 * batches off the event loop (fs/promises, zlib in libuv's pool), rotated and
 * gzipped, capped in size, and stopped (not failed) when the data partition
 * reaches the reserve it keeps for settings.
 */
export class SessionLog {
  readonly id: string;
  readonly startedAt: number;
  private part: { from: number; jsonl: string; csv: string; bytes: number } | null = null;
  private jsonLines: string[] = [];
  private csvLines: string[] = [];
  private pendingBytes = 0;
  private busy: Promise<void> = Promise.resolve();
  private writing = true;
  private reason: string | null = null;
  private lastRowT: number | null = null;
  private stoppedAtT: number | null = null;
  private closed = false;
  /** Samples lost while the log was stopped. */
  dropped = 0;

  constructor(
    private readonly opts: SessionLogOptions,
    startedAt: Date,
  ) {
    this.id = sessionId(startedAt);
    this.startedAt = Math.floor(startedAt.getTime() / 1000);
  }

  /** Make the folder and close what an earlier run left open (gzip); enforce the cap. */
  async start(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    for (const f of await this.list()) {
      if (!f.compressed && f.session !== this.id) await this.compress(f.name).catch((err: unknown) => this.opts.log.warn({ err, file: f.name }, 'cannot gzip a session log left open'));
    }
    await this.enforceCap();
  }

  state(): { writing: boolean; reason: string | null } {
    return { writing: this.writing, reason: this.reason };
  }

  /** [control] One sample. */
  append(row: Row): void {
    if (this.closed) return;
    if (!this.writing) {
      this.dropped++;
      this.stoppedAtT ??= this.lastRowT ?? row.t;
      return;
    }
    if (this.stoppedAtT !== null) {
      // Written again after a stop: the gap, marked in both files.
      this.record({ type: 'gap', from: this.stoppedAtT, to: row.t, reason: 'no_samples' });
      this.csvLines.push(`${new Date(this.stoppedAtT * 1000).toISOString()},${this.stoppedAtT}${','.repeat(COLUMNS.length)}\n`);
      this.stoppedAtT = null;
    }
    this.lastRowT = row.t;
    this.ensurePart(row.t);
    const obj: Record<string, unknown> = { type: 'sample', t: row.t };
    row.v.forEach((x, i) => {
      if (x !== null) obj[COLUMN_NAMES[i]!] = x;
    });
    this.push(`${JSON.stringify(obj)}\n`, `${new Date(row.t * 1000).toISOString()},${row.t},${row.v.map((x) => (x === null ? '' : String(x))).join(',')}\n`);
  }

  /** [control] Something that happened (an xrun and its cause, a restart), in the JSON lines only. */
  record(obj: Record<string, unknown> & { type: string }): void {
    if (this.closed || !this.writing) return;
    this.ensurePart(typeof obj.t === 'number' ? obj.t : Date.now() / 1000);
    this.push(`${JSON.stringify(obj)}\n`, null);
  }

  private push(json: string, csv: string | null): void {
    this.jsonLines.push(json);
    this.pendingBytes += json.length;
    if (csv) {
      this.csvLines.push(csv);
      this.pendingBytes += csv.length;
    }
  }

  private ensurePart(t: number): void {
    if (this.part) return;
    const from = Math.floor(t);
    const base = `session-${this.id}_${from}`;
    this.part = { from, jsonl: `${base}.jsonl`, csv: `${base}.csv`, bytes: 0 };
    const header = { type: 'session', id: this.id, startedAt: this.startedAt, version: this.opts.version, sampleMs: this.opts.sampleMs, columns: COLUMNS.map(({ name, agg, description }) => ({ name, agg, description })) };
    this.jsonLines.unshift(`${JSON.stringify(header)}\n`);
    this.csvLines.unshift(`time,t,${COLUMN_NAMES.join(',')}\n`);
  }

  /** Write what is buffered (one at a time); rotate and cap. Never throws. */
  flush(): Promise<void> {
    const run = this.busy.then(() => this.doFlush());
    this.busy = run.catch(() => undefined);
    return this.busy;
  }

  private async doFlush(): Promise<void> {
    const reserve = this.opts.reserveBytes();
    const free = await statfs(this.opts.dir).then((s) => s.bavail * s.bsize, () => null);
    if (this.writing && free !== null && free - this.pendingBytes < reserve) {
      this.stopWriting(`the data partition has ${mib(free)} free and keeps ${mib(reserve)} for settings`);
    } else if (!this.writing && free !== null && free >= reserve + 2 * this.opts.rotateBytes && !this.closed) {
      this.writing = true;
      this.reason = null;
      this.opts.log.info({ freeBytes: free }, 'the session log writes again');
      this.opts.onWriting?.(true, null);
    }
    const part = this.part;
    if (!this.writing || !part || this.jsonLines.length === 0) return;
    const json = this.jsonLines.join('');
    const csv = this.csvLines.join('');
    this.jsonLines = [];
    this.csvLines = [];
    this.pendingBytes = 0;
    try {
      await appendFile(join(this.opts.dir, part.jsonl), json);
      if (csv) await appendFile(join(this.opts.dir, part.csv), csv);
      part.bytes += json.length;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.stopWriting(e.code === 'ENOSPC' ? 'the data partition is full' : `cannot write the session log: ${e.code ?? e.message}`);
      return;
    }
    if (part.bytes >= this.rotateBytes()) await this.rotate();
  }

  private rotateBytes(): number {
    return Math.max(4096, Math.min(this.opts.rotateBytes, Math.floor(this.opts.maxBytes / 4)));
  }

  private stopWriting(reason: string): void {
    this.writing = false;
    this.reason = reason;
    this.dropped += this.jsonLines.filter((l) => l.startsWith('{"type":"sample"')).length;
    this.jsonLines = [];
    this.csvLines = [];
    this.pendingBytes = 0;
    this.stoppedAtT ??= this.lastRowT;
    // The next write starts a new part with its own header.
    const part = this.part;
    this.part = null;
    if (part) void this.closePart(part);
    this.opts.log.warn({ reason }, 'the session log stops writing');
    this.opts.onWriting?.(false, reason);
  }

  /** Close the part being written: gzip both files, then keep the total under the cap. */
  private async rotate(): Promise<void> {
    const part = this.part;
    this.part = null;
    if (part) await this.closePart(part);
  }

  private async closePart(part: { jsonl: string; csv: string }): Promise<void> {
    for (const name of [part.jsonl, part.csv]) {
      await this.compress(name).catch((err: unknown) => {
        const e = err as NodeJS.ErrnoException;
        if (e.code !== 'ENOENT') this.opts.log.warn({ err: e.message, file: name }, 'cannot gzip a session log part; kept as it is');
      });
    }
    await this.enforceCap();
  }

  private async compress(name: string): Promise<void> {
    const src = join(this.opts.dir, name);
    const tmp = join(this.opts.dir, `.${name}.gz.tmp`);
    try {
      await pipeline(createReadStream(src), createGzip({ level: 6 }), createWriteStream(tmp));
      await rename(tmp, `${src}.gz`);
      await rm(src);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Delete the oldest closed parts until the logs fit under maxBytes. */
  private async enforceCap(): Promise<void> {
    const files = await this.list();
    let total = files.reduce((a, f) => a + f.bytes, 0);
    const open = new Set(this.part ? [this.part.jsonl, this.part.csv] : []);
    for (const f of files) {
      if (total <= this.opts.maxBytes) break;
      if (open.has(f.name)) continue;
      await rm(join(this.opts.dir, f.name), { force: true });
      total -= f.bytes;
      this.opts.log.info({ file: f.name, bytes: f.bytes }, 'session log part deleted (size cap)');
    }
  }

  /** Every log file, oldest first. */
  async list(): Promise<LogFile[]> {
    const names = await readdir(this.opts.dir).catch(() => [] as string[]);
    const out: LogFile[] = [];
    for (const name of names.sort()) {
      const p = parseFileName(name);
      if (!p) continue;
      const s = await stat(join(this.opts.dir, name)).catch(() => null);
      if (s) out.push({ ...p, bytes: s.size });
    }
    return out.sort((a, b) => a.from - b.from || a.name.localeCompare(b.name));
  }

  /** The files grouped by session, newest session first. */
  async sessions(): Promise<Session[]> {
    const files = await this.list();
    const open = new Set(this.part ? [this.part.jsonl, this.part.csv] : []);
    const by = new Map<string, Session>();
    for (const f of files) {
      let s = by.get(f.session);
      if (!s) {
        s = { id: f.session, startedAt: sessionStart(f.session), current: f.session === this.id, files: [] };
        by.set(f.session, s);
      }
      s.files.push({ name: f.name, format: f.format, compressed: f.compressed, bytes: f.bytes, from: f.from, open: open.has(f.name) });
    }
    return [...by.values()].sort((a, b) => b.startedAt - a.startedAt);
  }

  async totalBytes(): Promise<number> {
    return (await this.list()).reduce((a, f) => a + f.bytes, 0);
  }

  /** Final flush; the part being written is gzipped, so a session's files are closed when it ends. */
  async stop(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.busy;
    await this.rotate();
  }

  path(name: string): string {
    return join(this.opts.dir, name);
  }
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** The samples and session starts in the JSON-lines files from `from` to `to` (unix s), oldest first. */
export async function readRows(dir: string, files: LogFile[], from: number, to: number): Promise<{ rows: Array<Row & { s: string }>; sessions: Array<{ id: string; startedAt: number }> }> {
  const jsonl = files.filter((f) => f.format === 'jsonl');
  const rows: Array<Row & { s: string }> = [];
  const sessions = new Map<string, number>();
  for (let i = 0; i < jsonl.length; i++) {
    const f = jsonl[i]!;
    const next = jsonl[i + 1];
    // A part holds samples from its name's time until the next part begins.
    if (f.from > to || (next && next.from < from && next.session === f.session)) continue;
    const input = createReadStream(join(dir, f.name));
    const lines = createInterface({ input: f.compressed ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (!line.startsWith('{"type":"sample"')) {
          if (line.startsWith('{"type":"session"')) {
            const h = JSON.parse(line) as { id: string; startedAt: number };
            if (h.startedAt >= from && h.startedAt <= to) sessions.set(h.id, h.startedAt);
          }
          continue;
        }
        let obj: Record<string, number>;
        try {
          obj = JSON.parse(line) as Record<string, number>;
        } catch {
          continue; // a line cut by a power failure
        }
        const t = obj.t!;
        if (t < from || t > to) continue;
        rows.push({ t, s: f.session, v: COLUMN_NAMES.map((c) => (typeof obj[c] === 'number' ? obj[c] : null)) });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as { code?: string }).code !== 'Z_BUF_ERROR') throw err;
    }
  }
  rows.sort((a, b) => a.t - b.t);
  return { rows, sessions: [...sessions].map(([id, startedAt]) => ({ id, startedAt })) };
}
