import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DataDirLock } from '../../src/config/data-dir.js';
import { packageRoot } from '../../src/paths.js';
import type { TelemetryFrame } from '../../src/engine/telemetry.js';
import type { Status } from '../../src/web/schemas.js';
import { waitFor } from '../fakes/net.js';
import { transparentParams } from '../fakes/transparent.js';
import { getJson, sendJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { ownerHeaders } from '../fakes/owner-http.js';
import { alive } from '../fakes/process.js';

function shmSegments(): string[] {
  return readdirSync('/dev/shm').filter((n) => n.startsWith('hushbox-'));
}

/** Collect telemetry frames from /ws/telemetry for `ms`. */
async function collectFrames(url: string, ms: number): Promise<TelemetryFrame[]> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/telemetry`, { headers: ownerHeaders(url) });
  const frames: TelemetryFrame[] = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { type: string; data: TelemetryFrame };
    if (msg.type === 'telemetry') frames.push(msg.data);
  });
  await once(ws, 'open');
  await new Promise((r) => setTimeout(r, ms));
  ws.close();
  return frames;
}

describe('the supervisor with the real engine', () => {
  let sup: RunningSupervisor;

  beforeAll(async () => {
    sup = await startSupervisor();
  });

  afterAll(async () => {
    await sup?.stop();
    sup?.cleanup();
  });

  it('reports the engine running with its stream settings and live heartbeats', async () => {
    const a = await getJson<Status>(`${sup.url}/api/status`);
    expect(a.engine.state).toBe('running');
    expect(a.engine.pid).toBeGreaterThan(0);
    expect(alive(a.engine.pid!)).toBe(true);
    expect(a.telemetry).toMatchObject({ state: 'running', rate: 48000, frames: 64, periods: 2, channels: 2 });
    await new Promise((r) => setTimeout(r, 200));
    const b = await getJson<Status>(`${sup.url}/api/status`);
    // 200 ms at 48 kHz / 64 frames is 150 periods; allow for a loaded machine.
    expect(b.telemetry!.periodsProcessed - a.telemetry!.periodsProcessed).toBeGreaterThan(50);
    expect(b.telemetry!.heartbeats.audio.count).toBeGreaterThan(a.telemetry!.heartbeats.audio.count);
    expect(b.telemetry!.heartbeats.housekeeping.count).toBeGreaterThan(a.telemetry!.heartbeats.housekeeping.count);
    expect(b.telemetry!.heartbeats.audio.ageMs).toBeLessThan(500);
  });

  it('names the I/O profile it runs with in the box state', async () => {
    const state = await getJson<{ profile: string | null; engine_state: string }>(`${sup.url}/api/state`);
    // The defaults (48 kHz, 64 x 2) are the engine's 'balanced' profile.
    expect(state).toMatchObject({ profile: 'balanced', engine_state: 'running' });
  });

  it('streams meters over /ws/telemetry at 30 Hz or more, and they move', async () => {
    const frames = await collectFrames(sup.url, 1500);
    expect(frames.length).toBeGreaterThanOrEqual(45);
    const peaks = frames.map((f) => f.meters.in[0]!.peakDb);
    expect(Math.max(...peaks)).toBeGreaterThan(-30);
    // The demo voice speaks in syllables: its meter rises and falls.
    expect(Math.max(...peaks) - Math.min(...peaks)).toBeGreaterThan(6);
  });

  it('reports what each stage takes off: noise suppression in the pauses, compression on the syllables', async () => {
    // The chain's defaults: the demo voice's room noise is suppressed and its syllables compressed. The suppressor
    // learns the noise in the voice's pauses: since the page answers as soon as the engine runs (its app is built
    // while udev settles), the first 1.5 s can come before it has; up to 6 s of frames.
    const frames: TelemetryFrame[] = [];
    for (let i = 0; i < 4; i++) {
      frames.push(...(await collectFrames(sup.url, 1500)));
      if (Math.max(...frames.map((f) => f.reduction[0]!.nsDb)) > 3 && Math.max(...frames.map((f) => f.reduction[0]!.compDb)) > 1) break;
    }
    const mic = frames.map((f) => f.reduction[0]!);
    expect(Math.max(...mic.map((m) => m.nsDb))).toBeGreaterThan(3);
    expect(Math.max(...mic.map((m) => m.compDb))).toBeGreaterThan(1);
    for (const m of mic) expect(m.limitDb).toBeGreaterThanOrEqual(0);
    // The instrument strip has noise suppression bypassed by default.
    expect(Math.max(...frames.map((f) => f.reduction[1]!.nsDb))).toBe(0);
  });

  it('reports the master limiter holding the outputs when the mix drives them over its ceiling', async () => {
    const loud = { 'mix.mic.gain': 12, 'mix.inst.gain': 12, 'mic.limit.bypass': 1, 'inst.limit.bypass': 1 };
    expect((await sendJson('PATCH', `${sup.url}/api/params`, { values: loud })).status).toBe(200);
    try {
      const frames = await collectFrames(sup.url, 1500);
      expect(Math.max(...frames.map((f) => f.masterReduction.limitDb))).toBeGreaterThan(1);
      // Held at the default ceiling of -1 dBFS (meters round to 0.1 dB).
      expect(Math.max(...frames.flatMap((f) => f.meters.out.map((m) => m.peakDb)))).toBeLessThanOrEqual(-1);
    } finally {
      const back = { 'mix.mic.gain': 0, 'mix.inst.gain': 0, 'mic.limit.bypass': 0, 'inst.limit.bypass': 0 };
      await sendJson('PATCH', `${sup.url}/api/params`, { values: back });
    }
  });

  it('applies an input gain set over HTTP in the engine, and the meters show it', async () => {
    // Only the trims between the meters: every stage bypassed, mic left, instrument right.
    const ids = (await getJson<Array<{ id: string }>>(`${sup.url}/api/params`)).map((p) => p.id);
    expect((await sendJson('PATCH', `${sup.url}/api/params`, { values: transparentParams(ids) })).status).toBe(200);
    const res = await sendJson('PUT', `${sup.url}/api/params/mic.trim.gain`, { value: -12 });
    expect(res).toEqual({ status: 200, body: { applied: { 'mic.trim.gain': -12 } } });
    const params = await getJson<Array<{ id: string; value: number }>>(`${sup.url}/api/params`);
    // The value read back comes from the engine's applied values on the link.
    expect(params.find((p) => p.id === 'mic.trim.gain')!.value).toBe(-12);
    // Past the 20 ms ramp, peaks in and out over the same window: out is 12 dB
    // under in on the mic, unchanged on the instrument.
    await new Promise((r) => setTimeout(r, 200));
    const frames = await collectFrames(sup.url, 300);
    expect(frames.length).toBeGreaterThan(5);
    // The median over frames of out minus in: the chain's 1 ms look-ahead can put a
    // syllable's edge in one meter's 1/30 s peak window and not the other's.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const gain = (ch: number) => median(frames.map((f) => f.meters.out[ch]!.peakDb - f.meters.in[ch]!.peakDb));
    expect(gain(0)).toBeCloseTo(-12, 0);
    expect(gain(1)).toBeCloseTo(0, 0);
    await sendJson('PUT', `${sup.url}/api/params/mic.trim.gain`, { value: 0 });
  });

  it('answers bad parameter changes with an error naming the problem, and changes nothing', async () => {
    const before = await getJson<Status>(`${sup.url}/api/status`);
    const outOfRange = await sendJson('PUT', `${sup.url}/api/params/mic.trim.gain`, { value: 99 });
    expect(outOfRange.status).toBe(400);
    expect((outOfRange.body as { message: string }).message).toMatch(/mic\.trim\.gain: 99 is outside -24\.\.24/);
    const unknown = await sendJson('PUT', `${sup.url}/api/params/no.such.param`, { value: 1 });
    expect(unknown.status).toBe(404);
    expect((unknown.body as { message: string }).message).toContain('no.such.param');
    const notNumber = await sendJson('PUT', `${sup.url}/api/params/mic.trim.gain`, { value: 'loud' });
    expect(notNumber.status).toBe(400);
    // A batch with one bad entry applies none of it.
    const batch = await sendJson('PATCH', `${sup.url}/api/params`, { values: { 'inst.trim.gain': 3, 'mic.trim.gain': -99 } });
    expect(batch.status).toBe(400);
    const after = await getJson<Status>(`${sup.url}/api/status`);
    expect(after.params).toEqual(before.params);
  });

  it('refuses a second supervisor on the same data directory with a clear message', async () => {
    const second = spawn(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'start'], {
      env: { ...process.env, HUSHBOX_DATA_DIR: sup.dataDir, HUSHBOX_HTTP_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    second.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(second, 'exit')) as [number];
    expect(code).not.toBe(0);
    expect(err).toContain(`another hushbox supervisor (pid ${sup.proc.pid}) is already using the data directory ${sup.dataDir}`);
    // The first one is unharmed.
    const status = await getJson<Status>(`${sup.url}/api/status`);
    expect(status.engine.state).toBe('running');
  });
});

describe('stopping the supervisor', () => {
  it('on SIGTERM stops the engine and leaves no process, shared-memory segment or lock behind', async () => {
    const sup = await startSupervisor();
    try {
      const status = await getJson<Status>(`${sup.url}/api/status`);
      const enginePid = status.engine.pid!;
      const segment = `hushbox-${status.deviceId}-${sup.proc.pid}`;
      expect(shmSegments()).toContain(segment);
      const code = await sup.stop();
      expect(code).toBe(0);
      expect(alive(enginePid)).toBe(false);
      expect(shmSegments()).not.toContain(segment);
      expect(existsSync(new DataDirLock(sup.dataDir).lockFile)).toBe(false);
    } finally {
      await sup.stop();
      sup.cleanup();
    }
  });

  it('when the supervisor is killed outright, the engine follows it and removes its segment', async () => {
    const sup = await startSupervisor();
    try {
      const status = await getJson<Status>(`${sup.url}/api/status`);
      const enginePid = status.engine.pid!;
      const segment = `hushbox-${status.deviceId}-${sup.proc.pid}`;
      sup.proc.kill('SIGKILL');
      await once(sup.proc, 'exit');
      await waitFor('the engine to exit', () => !alive(enginePid), 5000);
      expect(shmSegments()).not.toContain(segment);
      // A stale lock from a dead supervisor does not block the next start.
      const next = await startSupervisor({ dataDir: sup.dataDir });
      expect((await getJson<Status>(`${next.url}/api/status`)).engine.state).toBe('running');
      await next.stop();
    } finally {
      sup.cleanup();
    }
  });

  it('removes at start the segment of a supervisor and engine both SIGKILLed, and no segment of a live supervisor', async () => {
    const other = await startSupervisor();
    const sup = await startSupervisor();
    try {
      const status = await getJson<Status>(`${sup.url}/api/status`);
      const enginePid = status.engine.pid!;
      const segment = `hushbox-${status.deviceId}-${sup.proc.pid}`;
      const otherSegment = `hushbox-${status.deviceId}-${other.proc.pid}`;
      // Stopped first, the engine cannot clean up after its supervisor; then both die at once.
      process.kill(enginePid, 'SIGSTOP');
      sup.proc.kill('SIGKILL');
      await once(sup.proc, 'exit');
      process.kill(enginePid, 'SIGKILL');
      await waitFor('the engine to exit', () => !alive(enginePid), 5000);
      expect(shmSegments()).toContain(segment);
      const next = await startSupervisor({ dataDir: sup.dataDir });
      try {
        expect(shmSegments()).not.toContain(segment);
        expect(shmSegments()).toContain(otherSegment);
        expect((await getJson<Status>(`${other.url}/api/status`)).engine.state).toBe('running');
      } finally {
        await next.stop();
      }
    } finally {
      await other.stop();
      other.cleanup();
      sup.cleanup();
    }
  });
});
