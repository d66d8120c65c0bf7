// Ranges older than what the supervisor holds in memory come from the session log files (gzipped
// parts included), downsampled per column, with the restart between two sessions marked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/history/history-store.js';
import { COLUMN_NAMES, type Row } from '../../src/history/schema.js';
import { SessionLog } from '../../src/history/session-log.js';

const dir = mkdtempSync(join(tmpdir(), 'hushbox-history-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const col = (name: string) => COLUMN_NAMES.indexOf(name as (typeof COLUMN_NAMES)[number]);
function row(t: number, i: number): Row {
  const v: Array<number | null> = COLUMN_NAMES.map(() => null);
  v[col('in1PeakDb')] = -50 + (i % 10);
  v[col('in1RmsDb')] = i % 2 ? -20 : -40;
  v[col('xruns')] = i % 5 === 0 ? 1 : 0;
  v[col('engineUp')] = 1;
  return { t, v };
}

async function session(startS: number, seconds: number): Promise<void> {
  const log = new SessionLog(
    { dir, sampleMs: 1000, rotateBytes: 16 * 1024, maxBytes: 64 * 1024 * 1024, reserveBytes: () => 0, log: pino({ level: 'silent' }), version: 'test' },
    new Date(startS * 1000),
  );
  await log.start();
  for (let i = 0; i < seconds; i++) {
    log.append(row(startS + i, i));
    if (i % 50 === 49) await log.flush();
  }
  await log.stop();
}

describe('history ranges from the files', () => {
  it('reads gzipped parts of two sessions, folds each step per column, and marks the restart between them', async () => {
    const t0 = 1_790_000_000; // aligned to 10 s
    await session(t0, 600);
    await session(t0 + 700, 600);
    const store = new HistoryStore(1, 7200, { dir, list: () => new SessionLog({ dir } as never, new Date()).list() });
    const r = await store.query({ from: String(t0), to: String(t0 + 1299), step: '10', columns: 'in1PeakDb,in1RmsDb,xruns' }, t0 + 1300);
    expect(r.columns).toEqual(['t', 'in1PeakDb', 'in1RmsDb', 'xruns']);
    expect(r.step).toBe(10);
    expect(r.sessions.map((s) => s.startedAt)).toEqual([t0, t0 + 700]);
    expect(r.gaps).toEqual([{ from: t0 + 599, to: t0 + 700, reason: 'restart' }]);
    const [t, peak, rms, xruns] = r.data as number[][];
    // 60 steps a session and one row of nulls between them.
    expect(t).toHaveLength(121);
    expect(t[60]).toBe(t0 + 595);
    expect([peak![60], rms![60], xruns![60]]).toEqual([null, null, null]);
    expect(t[61]).toBe(t0 + 700);
    // The loudest peak of each 10 s, the power mean of -20 and -40 dBFS (-22.96), xruns counted.
    expect(peak!.filter((x) => x !== null).every((x) => x === -41)).toBe(true);
    expect(rms![0]).toBe(-23);
    expect(xruns![0]).toBe(2);
    expect(xruns!.reduce((a, b) => a + (b ?? 0), 0)).toBe(240);
  });
});
