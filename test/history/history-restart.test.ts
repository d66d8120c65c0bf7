// The box's past across a restart of the real supervisor (`hushbox start`, compiled, real engine):
// the history marks the gap between the sessions, the event list and the xrun total come back.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../fakes/net.js';
import { getJson, sendJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';

interface Range {
  columns: string[];
  data: Array<Array<number | null>>;
  gaps: Array<{ from: number; to: number; reason: string }>;
  sessions: Array<{ id: string; startedAt: number }>;
}
interface Counts {
  session: number;
  total: number;
}
interface Events {
  events: Array<{ id: number; type: string; message: string; count: number; data?: Record<string, unknown> }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the history across a restart of the supervisor', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hushbox-history-'));
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ history: { sampleMs: 250, flushMs: 250 } }));
  let box: RunningSupervisor | undefined;
  afterAll(async () => {
    await box?.stop();
    box?.cleanup();
  });

  it('marks the gap between the sessions, keeps the events and the xrun total', async () => {
    box = await startSupervisor({ dataDir });
    const first = box;
    await sleep(2000);
    // An xrun: the engine stopped for 150 ms.
    const status = await getJson<{ engine: { pid: number } }>(`${first.url}/api/status`);
    process.kill(status.engine.pid, 'SIGSTOP');
    await sleep(150);
    process.kill(status.engine.pid, 'SIGCONT');
    await waitFor('the xrun counted', async () => (await getJson<Counts>(`${first.url}/api/xruns`)).session >= 1, 5000);
    expect((await sendJson('POST', `${first.url}/api/presets/podcast/apply`, {})).status).toBe(200);
    await waitFor('the events saved', async () => (await getJson<Events>(`${first.url}/api/events`)).events.some((e) => e.type === 'preset_applied'), 5000);
    await sleep(600);
    const before = await getJson<Counts>(`${first.url}/api/xruns`);
    const eventsBefore = (await getJson<Events>(`${first.url}/api/events`)).events;
    const lastT = (await getJson<Range>(`${first.url}/api/history?from=-10&columns=engineUp`)).data[0]!.at(-1)!;
    expect(await first.stop()).toBe(0);
    // The session ended: its files are closed (gzipped), none left open.
    const files = readdirSync(join(dataDir, 'history'));
    expect(files.filter((f) => f.endsWith('.jsonl.gz')).length).toBeGreaterThanOrEqual(1);
    expect(files.filter((f) => f.endsWith('.jsonl'))).toEqual([]);

    await sleep(1500);
    box = await startSupervisor({ dataDir });
    const second = box;
    await sleep(1500);

    // The history spans both sessions, with the restart between them marked and the line broken.
    const range = await getJson<Range>(`${second.url}/api/history?from=-60&step=1`);
    expect(range.sessions).toHaveLength(2);
    const gap = range.gaps.find((g) => g.reason === 'restart');
    expect(gap, JSON.stringify(range.gaps)).toBeDefined();
    expect(gap!.from).toBeGreaterThanOrEqual(lastT - 1);
    expect(gap!.to - gap!.from).toBeGreaterThan(1.5);
    const t = range.data[0]!;
    const up = range.data[range.columns.indexOf('engineUp')]!;
    // A row of nulls between the last point before the gap and the first after it.
    const broken = up.findIndex((x, i) => x === null && i > 0 && t[i - 1]! <= gap!.from && t[i + 1]! >= Math.floor(gap!.to));
    expect(broken, JSON.stringify({ gap, t, up })).toBeGreaterThan(0);
    expect(t.some((x) => x! < gap!.from)).toBe(true);
    expect(t.some((x) => x! > gap!.to)).toBe(true);

    // The xrun total goes on; the session count starts again.
    const after = await getJson<Counts>(`${second.url}/api/xruns`);
    expect(after.total - after.session).toBe(before.total);
    expect(before.total).toBeGreaterThanOrEqual(1);

    // The events of the first session are still there, in order, with the new start after them.
    const events = (await getJson<Events>(`${second.url}/api/events`)).events;
    expect(events.slice(0, eventsBefore.length).map((e) => e.id)).toEqual(eventsBefore.map((e) => e.id));
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['xrun', 'preset_applied']));
    expect(events.filter((e) => e.type === 'supervisor_start')).toHaveLength(2);
    const sessions = await getJson<{ sessions: Array<{ current: boolean; files: Array<{ open: boolean }> }> }>(`${second.url}/api/history/sessions`);
    expect(sessions.sessions.map((s) => s.current)).toEqual([true, false]);
    expect(sessions.sessions[1]!.files.every((f) => !f.open)).toBe(true);
  }, 90_000);
});
