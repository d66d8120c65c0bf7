import { ValidationError } from '../errors.js';
import { Folder } from './sampler.js';
import { COLUMNS, COLUMN_NAMES, type Gap, type HistoryQuery, type HistoryRange, type Row } from './schema.js';
import { readRows, type LogFile } from './session-log.js';

/** Points an answer holds at most (about one per pixel of a wide plot). */
export const MAX_POINTS = 4000;
/** Points an answer holds when the caller gives no step. */
const DEFAULT_POINTS = 1200;
/** The longest range one request may ask for. */
const MAX_RANGE_S = 31 * 86400;

type SessionRow = Row & { s: string };

export interface FileSource {
  dir: string;
  list(): Promise<LogFile[]>;
}

/**
 * The recent samples in memory (the page's last hour comes from here, without
 * touching /data), older ranges from the files; downsampled per request and
 * columnar, as uPlot takes it.
 */
export class HistoryStore {
  private rows: SessionRow[] = [];
  private head = 0;
  private readonly sessionStarts = new Map<string, number>();

  constructor(
    private readonly sampleS: number,
    private readonly memoryS: number,
    private readonly files: FileSource,
  ) {}

  /** Load the recent past from the files (the sessions before this one), before any new sample. */
  async preload(nowS: number): Promise<void> {
    const { rows, sessions } = await readRows(this.files.dir, await this.files.list(), nowS - this.memoryS, nowS);
    for (const s of sessions) this.sessionStarts.set(s.id, s.startedAt);
    for (const r of rows) this.sessionStarts.set(r.s, this.sessionStarts.get(r.s) ?? r.t);
    this.rows = rows;
    this.head = 0;
  }

  beginSession(id: string, startedAt: number): void {
    this.sessionStarts.set(id, startedAt);
  }

  add(row: Row, session: string): void {
    this.rows.push({ ...row, s: session });
    const oldest = row.t - this.memoryS;
    while (this.head < this.rows.length && this.rows[this.head]!.t < oldest) this.head++;
    if (this.head > 1024) {
      this.rows = this.rows.slice(this.head);
      this.head = 0;
    }
  }

  /** The latest sample, if any. */
  latest(): Row | null {
    return this.rows.at(-1) ?? null;
  }

  private memoryStart(): number {
    return this.rows[this.head]?.t ?? Infinity;
  }

  async query(q: HistoryQuery, nowS = Date.now() / 1000): Promise<HistoryRange> {
    const num = (x: string | undefined) => (x === undefined ? undefined : Number(x));
    let to = num(q.to) ?? nowS;
    if (to < 0) to = nowS + to;
    let from = num(q.from) ?? to - 3600;
    if (from < 0) from = nowS + from;
    const asked = num(q.step);
    if (!(from < to)) throw new ValidationError(`from (${from}) must be before to (${to})`);
    if (to - from > MAX_RANGE_S) throw new ValidationError(`the range is ${Math.round((to - from) / 86400)} days; at most 31 per request`);
    const wanted = q.columns ? q.columns.split(',').filter(Boolean) : COLUMN_NAMES;
    const unknown = wanted.filter((c) => !(COLUMN_NAMES as string[]).includes(c));
    if (unknown.length) throw new ValidationError(`unknown column(s) ${unknown.join(', ')} (known: ${COLUMN_NAMES.join(', ')})`);
    const minStep = Math.max(this.sampleS, (to - from) / MAX_POINTS);
    if (asked !== undefined && !(asked > 0)) throw new ValidationError(`step must be more than 0 (got ${asked})`);
    const step = Math.max(asked ?? Math.max(this.sampleS, Math.ceil((to - from) / DEFAULT_POINTS)), Math.ceil(minStep));

    const mem = this.memoryStart();
    let older: SessionRow[] = [];
    if (from < mem) {
      const read = await readRows(this.files.dir, await this.files.list(), from, Math.min(to, mem - 1e-6));
      older = read.rows.filter((r) => r.t < mem);
      for (const s of read.sessions) if (!this.sessionStarts.has(s.id)) this.sessionStarts.set(s.id, s.startedAt);
    }
    const recent: SessionRow[] = [];
    for (let i = this.head; i < this.rows.length; i++) {
      const r = this.rows[i]!;
      if (r.t >= from && r.t <= to) recent.push(r);
    }
    const rows = older.concat(recent);
    const gaps = this.gapsIn(rows);
    const cols = wanted.map((c) => (COLUMN_NAMES as string[]).indexOf(c));
    const data = downsample(rows, gaps, cols, step);
    const units = Object.fromEntries(COLUMNS.filter((c) => wanted.includes(c.name)).map((c) => [c.name, c.description]));
    const sessions = [...this.sessionStarts]
      .filter(([, at]) => at >= from && at <= to)
      .map(([id, startedAt]) => ({ id, startedAt }))
      .sort((a, b) => a.startedAt - b.startedAt);
    return { from, to, step, columns: ['t', ...wanted], units: { t: 'unix seconds', ...units }, data, gaps, sessions };
  }

  /**
   * Where samples are missing: a new session between two rows (the supervisor restarted), or a hole
   * longer than 2.5 samples and 2 s (a timer late by a few hundred ms on a busy event loop is not a gap).
   */
  private gapsIn(rows: SessionRow[]): Gap[] {
    const gaps: Gap[] = [];
    for (let i = 1; i < rows.length; i++) {
      const a = rows[i - 1]!;
      const b = rows[i]!;
      if (a.s !== b.s) gaps.push({ from: a.t, to: b.t, reason: 'restart' });
      else if (b.t - a.t > Math.max(2.5 * this.sampleS, 2)) gaps.push({ from: a.t, to: b.t, reason: 'no_samples' });
    }
    return gaps;
  }
}

/** Rows into steps aligned to multiples of `step`; a gap becomes a row of nulls right after its last sample's step. */
export function downsample(rows: SessionRow[], gaps: Gap[], cols: number[], step: number): Array<Array<number | null>> {
  const out: Array<Array<number | null>> = [[], ...cols.map(() => [])];
  const aggs = cols.map((c) => COLUMNS[c]!.agg);
  const folder = new Folder(aggs);
  let bucket: number | null = null;
  let g = 0;
  const emit = (t: number, values: Array<number | null>) => {
    out[0]!.push(t);
    values.forEach((v, i) => out[i + 1]!.push(v));
  };
  const close = () => {
    if (bucket === null) return;
    emit(bucket, folder.take());
    // A gap that starts in this step: break the line after it.
    while (g < gaps.length && gaps[g]!.from < bucket + step) {
      const gap = gaps[g++]!;
      if (gap.to >= bucket + step) emit(bucket + step / 2, cols.map(() => null));
    }
  };
  for (const r of rows) {
    const b = Math.floor(r.t / step) * step;
    if (b !== bucket) {
      close();
      bucket = b;
    }
    folder.addRow(cols.map((c) => r.v[c] ?? null));
  }
  close();
  return out;
}
