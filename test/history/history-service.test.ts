// The page's back end of history (issue 12) through a real supervisor (real engine on the sim
// backend): the whole state on every (re)connect of the telemetry socket, failed changes answered
// with what the box has, the session log served as ranges, rotated, capped and downloadable.
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../fakes/context.js';
import { ownerFetch, ownerHeaders } from '../fakes/owner-http.js';
import { startSupervisor } from '../fakes/supervisor.js';

type Box = Awaited<ReturnType<typeof startSupervisor>>;
interface Msg {
  type: string;
  data: Record<string, unknown>;
}

/** Open /ws/telemetry as the owner; collects every message. */
async function socket(url: string): Promise<{ ws: WebSocket; messages: Msg[]; close: () => Promise<void> }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}ws/telemetry`, { headers: ownerHeaders(url) });
  const messages: Msg[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Msg));
  await once(ws, 'open');
  return {
    ws,
    messages,
    close: async () => {
      if (ws.readyState === ws.CLOSED) return;
      const closed = once(ws, 'close');
      ws.close();
      await closed;
    },
  };
}

async function json<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await ownerFetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}

interface Range {
  from: number;
  to: number;
  step: number;
  columns: string[];
  data: Array<Array<number | null>>;
  gaps: Array<{ from: number; to: number; reason: string }>;
  sessions: Array<{ id: string; startedAt: number }>;
}

describe('the whole state and failed changes', () => {
  let box: Box;
  beforeAll(async () => {
    box = await startSupervisor((c) => {
      c.history = { sampleMs: 200, flushMs: 300 };
    });
    await waitFor('the engine to run', () => box.sup.engine.status().state === 'running', 10_000);
  }, 30_000);
  afterAll(() => box?.stop());

  it('sends the whole state first on every connect, and a reconnecting page gets what changed while it was away', async () => {
    const first = await socket(box.url);
    await waitFor('the snapshot', () => first.messages.length > 0);
    expect(first.messages[0]!.type).toBe('snapshot');
    const snap = first.messages[0]!.data;
    expect(Object.keys(snap).sort()).toEqual(
      ['ab', 'deviceId', 'doctor', 'events', 'health', 'latency', 'log', 'midi', 'name', 'ota', 'params', 'presets', 'state', 'status', 'telemetry', 'version', 'xruns'].sort(),
    );
    expect(snap.status).toMatchObject({ state: 'running' });
    expect((snap.params as Record<string, number>)['mic.ns.strength']).toBe(70);
    expect((snap.presets as Array<{ name: string; factory: boolean }>).some((p) => p.factory)).toBe(true);
    expect(snap.ab).toMatchObject({ active: null, diff: expect.any(Object) });
    expect(snap.xruns).toMatchObject({ session: expect.any(Number), total: expect.any(Number) });
    expect((snap.events as Array<{ type: string }>).map((e) => e.type)).toContain('supervisor_start');
    await first.close();

    // Changed while no page listens: a preset applied, then a parameter moved.
    expect((await json(`${box.url}api/presets/podcast/apply`, { method: 'POST' })).status).toBe(200);
    expect((await json(`${box.url}api/params/mic.ns.strength`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 10 }) })).status).toBe(200);

    const again = await socket(box.url);
    await waitFor('the snapshot', () => again.messages.length > 0);
    const snap2 = again.messages[0]!.data as { params: Record<string, number>; state: { preset: string; preset_modified: boolean }; events: Array<{ type: string; message: string }> };
    expect(again.messages[0]!.type).toBe('snapshot');
    expect(snap2.params['mic.ns.strength']).toBe(10);
    expect(snap2.state).toMatchObject({ preset: 'Podcast', preset_modified: true });
    expect(snap2.events.filter((e) => e.type === 'preset_applied').map((e) => e.message)).toContain('preset "Podcast" applied');
    await again.close();
  });

  it('answers a refused change with its error and the value the box still has, so the page can put the control back', async () => {
    const value = (id: string) => box.sup.engine.params().find((p) => p.id === id)!.value;
    const before = value('mic.comp.threshold');
    const strength = value('mic.ns.strength');
    const one = await json<{ error: string; message: string; current: Record<string, number> }>(`${box.url}api/params/mic.comp.threshold`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 1000 }),
    });
    expect(one.status).toBe(400);
    expect(one.body.error).toBe('invalid_input');
    expect(one.body.message).toMatch(/mic\.comp\.threshold/);
    expect(one.body.current).toEqual({ 'mic.comp.threshold': before });

    const batch = await json<{ current: Record<string, number> }>(`${box.url}api/params`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ values: { 'mic.ns.strength': 50, 'mic.comp.threshold': 1000, 'no.such.param': 1 } }),
    });
    expect(batch.status).toBeGreaterThanOrEqual(400);
    // Nothing of the batch was applied, and the answer says so with the values as they are.
    expect(batch.body.current).toEqual({ 'mic.ns.strength': strength, 'mic.comp.threshold': before });
    expect(value('mic.ns.strength')).toBe(strength);
  });

  it('puts events and the doctor on the socket as they happen', async () => {
    const s = await socket(box.url);
    await waitFor('the snapshot', () => s.messages.length > 0);
    expect((await json(`${box.url}api/presets/podcast/apply`, { method: 'POST' })).status).toBe(200);
    const ev = await waitFor('a preset_applied event on the socket', () => s.messages.find((m) => m.type === 'event' && m.data.type === 'preset_applied'));
    expect(ev.data).toMatchObject({ level: 'info', message: 'preset "Podcast" applied', count: 1 });
    const list = await json<{ events: Array<{ id: number }>; max: number }>(`${box.url}api/events?since=${Number(ev.data.id) - 1}`);
    expect(list.body.events.map((e) => e.id)).toEqual([ev.data.id]);
    expect(list.body.max).toBe(500);

    const summary = await json<{ overall: string; problems: Array<{ status: string; fix: string | null }> }>(`${box.url}api/doctor/summary`);
    expect(summary.status).toBe(200);
    expect(['pass', 'warn', 'fail']).toContain(summary.body.overall);
    for (const p of summary.body.problems) {
      expect(['warn', 'fail']).toContain(p.status);
    }
    // A developer's machine is not a tuned box: something warns, and says how to fix it.
    expect(summary.body.problems.some((p) => p.fix)).toBe(true);
    await s.close();
  });
  it('lists an engine crash with its reason, and a restart asked for, and counts them in the history', async () => {
    const s = await socket(box.url);
    await waitFor('the snapshot', () => s.messages.length > 0);
    process.kill(box.sup.engine.status().pid!, 'SIGKILL');
    const crash = await waitFor('an engine_crash event', () => s.messages.find((m) => m.type === 'event' && m.data.type === 'engine_crash'), 5000);
    expect(crash.data).toMatchObject({ level: 'error', message: 'engine crashed and is restarted: the engine exited unexpectedly (signal SIGKILL)' });
    await waitFor('the engine to run again', () => box.sup.engine.status().state === 'running', 10_000);
    await box.sup.engine.restart('asked by the test');
    const restart = await waitFor('an engine_restart event', () => s.messages.find((m) => m.type === 'event' && m.data.type === 'engine_restart'), 5000);
    expect(restart.data).toMatchObject({ level: 'info', message: 'engine restarted (asked by the test)' });
    await new Promise((r) => setTimeout(r, 1200)); // the sample that holds them
    const range = await json<Range>(`${box.url}api/history?from=-30&columns=restarts`);
    expect((range.body.data[1] as Array<number | null>).reduce<number>((a, b) => a + (b ?? 0), 0)).toBe(2);
    await s.close();
  }, 30_000);
});

describe('history of sim audio', () => {
  let box: Box;
  beforeAll(async () => {
    box = await startSupervisor((c) => {
      c.engine.input = 'tone:440:-12';
      c.history = { sampleMs: 200, flushMs: 250, rotateBytes: 4096, maxBytes: 16384 };
    });
    await waitFor('the engine to run', () => box.sup.engine.status().state === 'running', 10_000);
  }, 30_000);
  afterAll(() => box?.stop());

  it('serves the last seconds as columnar data with the levels, DSP load and latency of the running engine', async () => {
    await new Promise((r) => setTimeout(r, 3000));
    const { status, body } = await json<Range>(`${box.url}api/history?from=-10`);
    expect(status).toBe(200);
    expect(body.step).toBe(1);
    expect(body.columns[0]).toBe('t');
    const col = (name: string) => body.data[body.columns.indexOf(name)]!;
    const t = col('t') as number[];
    expect(t.length).toBeGreaterThanOrEqual(2);
    expect([...t].sort((a, b) => a - b)).toEqual(t);
    // A -12 dBFS tone: its peak in the samples, at its level.
    const peaks = col('in1PeakDb').filter((x): x is number => x !== null);
    expect(Math.max(...peaks)).toBeGreaterThan(-13);
    expect(Math.max(...peaks)).toBeLessThan(-11);
    expect(col('dspLoad').some((x) => x !== null && x > 0 && x < 1)).toBe(true);
    expect(col('latencyMs').at(-1)).toBe(box.sup.engine.telemetry()!.latencyMs);
    expect(col('engineUp').at(-1)).toBe(1);
    // Each step folds five 200 ms samples; at step=0.2 (the sample rate) each is its own point.
    const fine = await json<Range>(`${box.url}api/history?from=-2&step=1&columns=in1PeakDb,xruns`);
    expect(fine.body.columns).toEqual(['t', 'in1PeakDb', 'xruns']);
    const bad = await json<{ error: string; message: string }>(`${box.url}api/history?columns=nope`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/unknown column\(s\) nope/);
  });

  it('rotates the log into gzipped parts, keeps them under the size cap, lists and serves them', async () => {
    const dir = join(box.dataDir, 'history');
    // About 600 bytes of JSON lines a sample, 5 a second: a 4 KiB part lasts under 2 s.
    await waitFor('gzipped parts', () => readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz')).length >= 2, 15_000, 100);
    const first = readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz')).sort()[0]!;
    const lines = gunzipSync(readFileSync(join(dir, first))).toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'session', sampleMs: 200 });
    expect(lines.filter((l) => l.type === 'sample').length).toBeGreaterThan(0);
    expect(lines.find((l) => l.type === 'sample')).toMatchObject({ t: expect.any(Number), in1PeakDb: expect.any(Number), engineUp: 1 });

    // Until the cap bites: the oldest parts go.
    await waitFor('the first part to be deleted by the cap', () => !readdirSync(dir).includes(first), 40_000, 200);
    const total = () => readdirSync(dir).filter((f) => f.startsWith('session-')).reduce((a, f) => a + readFileSync(join(dir, f)).length, 0);
    expect(total()).toBeLessThanOrEqual(16384 + 2 * 4096);

    const list = await json<{ log: { writing: boolean; maxBytes: number }; sessions: Array<{ id: string; current: boolean; files: Array<{ name: string; open: boolean; compressed: boolean }> }> }>(`${box.url}api/history/sessions`);
    expect(list.body.log).toMatchObject({ writing: true, maxBytes: 16384 });
    expect(list.body.sessions).toHaveLength(1);
    expect(list.body.sessions[0]!.current).toBe(true);
    const gz = list.body.sessions[0]!.files.find((f) => f.compressed && f.name.endsWith('.csv.gz'))!;
    const dl = await ownerFetch(`${box.url}api/history/sessions/${gz.name}`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-disposition')).toBe(`attachment; filename="${gz.name}"`);
    const csv = gunzipSync(Buffer.from(await dl.arrayBuffer())).toString().split('\n');
    expect(csv[0]).toMatch(/^time,t,in1PeakDb,in1RmsDb,/);
    expect(csv[1]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z,\d+(\.\d)?,-1[12](\.\d)?,/);
    expect((await ownerFetch(`${box.url}api/history/sessions/session-2026-01-01T00-00-00Z_1.csv`)).status).toBe(404);
    expect((await ownerFetch(`${box.url}api/history/sessions/..%2Fauth.json`)).status).toBe(400);
  }, 70_000);

  it('counts an xrun with its cause, pushes it, and keeps the session and total counts', async () => {
    const s = await socket(box.url);
    await waitFor('the snapshot', () => s.messages.length > 0);
    const before = (await json<{ session: number; total: number }>(`${box.url}api/xruns`)).body;
    // The engine stopped for 150 ms: the sim device overruns, as a real one would.
    const pid = box.sup.engine.status().pid!;
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 150));
    process.kill(pid, 'SIGCONT');
    // (A loaded machine has xruns of its own: they are gathered into the same event, sent again at most
    // once a second with the latest one's words.)
    const xrunEvents = () => s.messages.filter((m) => m.type === 'event' && m.data.type === 'xrun');
    const ev = await waitFor('an xrun event with a late wake-up', () =>
      xrunEvents().find((m) => ((m.data.data as { causes: Record<string, number> }).causes.late_wakeup ?? 0) >= 1), 5000);
    expect(ev.data).toMatchObject({ level: 'warn', data: { lostFrames: expect.any(Number) } });
    // The sim device notices on its capture side, as ALSA would.
    expect(xrunEvents().map((m) => String(m.data.message))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^xrun \(capture overrun\): the audio thread woke at least \d+ us late/)]),
    );
    // The first counts on the socket may be from an xrun of the machine's own before this one: wait for one that has it.
    const counts = await waitFor('the counts on the socket, with this xrun', () =>
      s.messages.find((m) => m.type === 'xruns' && Number(m.data.session) >= before.session + 1), 5000);
    expect(counts.data.session).toBeGreaterThanOrEqual(before.session + 1);
    expect(Number(counts.data.total) - Number(counts.data.session)).toBe(before.total - before.session);
    const range = await json<Range>(`${box.url}api/history?from=-5&columns=xruns`);
    expect((range.body.data[1] as number[]).reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThanOrEqual(1);
    // The cause is in the session log too.
    await box.sup.history.sessionLog.flush();
    const dir = join(box.dataDir, 'history');
    const open = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    const gz = readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz'));
    const text = [...open.map((f) => readFileSync(join(dir, f)).toString()), ...gz.map((f) => gunzipSync(readFileSync(join(dir, f))).toString())].join('');
    expect(text).toMatch(/"type":"xrun","t":[\d.]+,"lostFrames":\d+,"stream":"capture","cause":"late_wakeup"/);
    await s.close();
  });
});
