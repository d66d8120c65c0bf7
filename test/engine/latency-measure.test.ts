// The round-trip measurement from the API, through a real supervisor whose engine runs on the sim
// device with a simulated cable (`--input loopback`): what is played comes back periods x period later.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyMeasure } from '../../src/engine/latency-measure.js';
import { waitFor } from '../fakes/context.js';
import { ownerFetch, ownerHeaders } from '../fakes/owner-http.js';
import { startSupervisor } from '../fakes/supervisor.js';

type Box = Awaited<ReturnType<typeof startSupervisor>>;

const post = (url: string) => ownerFetch(url, { method: 'POST' });

describe('measuring the round trip from the API', () => {
  let box: Box;
  beforeAll(async () => {
    box = await startSupervisor();
    await waitFor('the engine to run', () => box.sup.engine.status().state === 'running', 10_000);
  }, 30_000);
  afterAll(() => box?.stop());

  it('stops the engine for the measurement, answers the round trip, keeps it, and runs the engine again with its parameters', async () => {
    expect((await ownerFetch(`${box.url}api/params/mic.trim.gain`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: -4 }) })).status).toBe(200);
    const pid = box.sup.engine.status().pid;
    const ws = new WebSocket(`${box.url.replace('http', 'ws')}ws/telemetry`, { headers: ownerHeaders(box.url) });
    const messages: Array<{ type: string; data: Record<string, unknown> }> = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as (typeof messages)[number]));
    await once(ws, 'open');

    const res = await post(`${box.url}api/audio/latency`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    // balanced: 64-frame periods, 2 of them.
    expect(body).toMatchObject({ found: true, roundTripFrames: 128, reportedFrames: 128, rate: 48000, period: 64, periods: 2, backend: 'sim', profile: 'balanced' });
    expect(body.roundTripMs).toBeCloseTo(2.667, 2);
    expect(body.correlation as number).toBeGreaterThan(0.99);

    // The engine was stopped and is back, with what it had.
    expect(messages.filter((m) => m.type === 'status').map((m) => m.data.state)).toEqual(expect.arrayContaining(['stopping', 'stopped', 'starting', 'running']));
    const st = box.sup.engine.status();
    expect(st.state).toBe('running');
    expect(st.pid).not.toBe(pid);
    expect(box.sup.engine.params().find((p) => p.id === 'mic.trim.gain')!.value).toBe(-4);

    // Kept on /data, with the last good one; in the whole state, on the socket, in the event list.
    const kept = JSON.parse(readFileSync(join(box.dataDir, 'latency.json'), 'utf8')) as { last: unknown; good: unknown };
    expect(kept.last).toEqual(body);
    expect(kept.good).toEqual(body);
    expect(new LatencyMeasure({ ctx: box.sup.ctx, engine: box.sup.engine }).settings()).toEqual(kept);
    expect(await (await ownerFetch(`${box.url}api/audio/latency`)).json()).toEqual(kept);
    await waitFor('the latency message', () => messages.some((m) => m.type === 'latency'));
    const events = (await (await ownerFetch(`${box.url}api/events`)).json()) as { events: Array<{ type: string; message: string }> };
    expect(events.events.find((e) => e.type === 'latency_measured')?.message).toBe('round trip 2.667 ms (128 frames at 48000 Hz; the engine reports 128)');
    ws.close();
  }, 30_000);

  it('measures the profile in use: streaming is 256 x 3', async () => {
    const put = await ownerFetch(`${box.url}api/audio`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'streaming' }) });
    expect(put.status).toBe(200);
    const res = await post(`${box.url}api/audio/latency`);
    expect(await res.json()).toMatchObject({ found: true, roundTripFrames: 768, reportedFrames: 768, period: 256, periods: 3, profile: 'streaming' });
    expect(box.sup.engine.status().state).toBe('running');
  }, 30_000);

  it('answers 422 when the signal does not come back, keeps that attempt and still the last good one', async () => {
    const good = box.sup.latency.settings().good;
    expect(good).not.toBeNull();
    // No cable: the sim device with silence on its input.
    const measure = new LatencyMeasure({ ctx: box.sup.ctx, engine: box.sup.engine, simInput: 'silence' });
    const err = await measure.measure().catch((e: unknown) => e as { code: string; statusCode: number; message: string });
    expect(err).toMatchObject({ code: 'latency_not_found', statusCode: 422 });
    expect((err as { message: string }).message).toMatch(/did not come back .*connect an output to an input with a cable/);
    const kept = JSON.parse(readFileSync(join(box.dataDir, 'latency.json'), 'utf8')) as { last: { found: boolean; roundTripFrames: null }; good: unknown };
    expect(kept.last).toMatchObject({ found: false, roundTripFrames: null });
    expect(kept.good).toEqual(good);
    expect(box.sup.engine.status().state).toBe('running');
  }, 30_000);
});
