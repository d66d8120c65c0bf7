// The stream through the real supervisor: settings over HTTP, the engine
// started with them, the reference Wyoming client on the socket the API
// names, and the counters in /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamStatus } from '../../src/stream/schema.js';
import type { Supervisor } from '../../src/supervisor.js';
import { freePort, waitFor } from '../fakes/net.js';
import { parseExposition } from '../fakes/prometheus.js';
import { startSupervisor } from '../fakes/supervisor.js';
import { ownerFetch } from '../fakes/owner-http.js';
import { WyomingReference, s16ToFloat, toneAmplitude } from '../fakes/wyoming.js';

let sup: Supervisor;
let stop: () => Promise<void>;
let url: string;
let wyoming: WyomingReference;

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await ownerFetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  wyoming = new WyomingReference();
  ({ sup, stop } = await startSupervisor((c) => {
    c.engine.input = 'tone:1000:-20';
    c.engine.priority = 0;
  }));
  url = `http://127.0.0.1:${sup.web.port()}`;
});

afterAll(async () => {
  await stop?.();
  wyoming?.cleanup();
});

describe('the audio stream through the supervisor', () => {
  it('names its socket in the data directory off the box, listens there, and a reference client gets audio', async () => {
    const { body } = await api<StreamStatus>('GET', '/api/stream');
    expect(body.socket).toMatch(/audio\.sock$/);
    expect(body.settings).toMatchObject({ source: 'mic', rate: 16000, format: 's16le', tcp: { enabled: false } });
    await waitFor('the stream listens', () => sup.stream.status().engine?.unix);
    const { summary, pcm } = await wyoming.read(`unix://${body.socket}`, 1.5);
    expect(summary.starts[0]).toMatchObject({ rate: 16000, width: 2, channels: 1 });
    expect(pcm.length / 2).toBeGreaterThan(16000);
  });

  it('switches the source without restarting the engine', async () => {
    const pid = sup.engine.status().pid;
    const { status, body } = await api<StreamStatus>('PUT', '/api/stream', { source: 'mic_raw' });
    expect(status).toBe(200);
    expect(body.settings.source).toBe('mic_raw');
    await waitFor('the engine says mic_raw', () => sup.engine.stream()?.source === 'mic_raw');
    expect(sup.engine.status().pid).toBe(pid);
    // The raw mic is the input tone, untouched by the chain.
    const { pcm } = await wyoming.read(`unix://${body.socket}`, 1.2);
    expect(20 * Math.log10(toneAmplitude(s16ToFloat(pcm).subarray(1600), 16000, 1000).amplitude)).toBeCloseTo(-20, 1);
  });

  it('counts each client in /metrics while it reads', async () => {
    const socket = sup.stream.socketPath();
    const before = parseExposition(await (await ownerFetch(`${url}/metrics`)).text()).value('hushbox_stream_clients_accepted_total') ?? 0;
    const reading = wyoming.read(`unix://${socket}`, 2.5);
    // /metrics reads the telemetry frame the engine service refreshes at 50 Hz: scrape until it shows this client
    // counted on top of whatever was accepted before it, with frames sent (a frame from before it came could still
    // list the previous test's client).
    const m = await waitFor('the client in /metrics', async () => {
      const x = parseExposition(await (await ownerFetch(`${url}/metrics`)).text());
      const accepted = x.value('hushbox_stream_clients_accepted_total') ?? 0;
      return accepted >= before + 1 && (x.all('hushbox_stream_client_sent_frames_total')[0]?.value ?? 0) > 0 ? x : null;
    });
    await reading;
    expect(m.value('hushbox_stream_clients')).toBe(1);
    expect(m.value('hushbox_stream_listening', { transport: 'unix' })).toBe(1);
    const sent = m.all('hushbox_stream_client_sent_frames_total');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.labels.transport).toBe('unix');
    expect(sent[0]!.value).toBeGreaterThan(0);
    expect(m.all('hushbox_stream_client_dropped_frames_total')[0]!.value).toBe(0);
  });

  it('turns TCP on behind a token: the engine restarts listening, a client with the token gets audio, a wrong one is refused', async () => {
    const port = await freePort();
    const { status, body } = await api<StreamStatus>('PUT', '/api/stream', { tcp: { enabled: true, host: '127.0.0.1', port } });
    expect(status).toBe(200);
    expect(body.tokenSet).toBe(true);
    await waitFor('TCP listens', () => sup.engine.stream()?.tcp);
    const token = (await api<{ token: string }>('POST', '/api/stream/token')).body.token;
    expect(token.length).toBeGreaterThanOrEqual(32);
    const good = await wyoming.read(`tcp://127.0.0.1:${port}`, 1.2, { token });
    expect(good.pcm.length / 2).toBeGreaterThan(8000);
    const bad = await wyoming.read(`tcp://127.0.0.1:${port}`, 1, { token: 'x'.repeat(32) });
    expect(bad.summary.closed).toBe(true);
    expect(bad.pcm.length).toBe(0);
    // A new token: the old one stops working for new connections.
    await api('POST', '/api/stream/token');
    const old = await wyoming.read(`tcp://127.0.0.1:${port}`, 1, { token });
    expect(old.summary.closed).toBe(true);
    await waitFor('two refusals counted', () => sup.engine.stream()?.clientsRefused === 2);
  });

  it('answers 400 naming the field for a bad setting, and changes nothing', async () => {
    const before = (await api<StreamStatus>('GET', '/api/stream')).body.settings;
    const r = await api<{ message: string }>('PUT', '/api/stream', { rate: 22050 });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/rate/);
    expect((await api<StreamStatus>('GET', '/api/stream')).body.settings).toEqual(before);
  });
});
