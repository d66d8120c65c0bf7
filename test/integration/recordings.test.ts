// Recording takes through the real supervisor and engine: HTTP routes, MQTT
// commands against a real Mosquitto, files read back with sox.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import type { CurrentTake, Recordings } from '../../src/recording/schema.js';
import type { Supervisor } from '../../src/supervisor.js';
import { startBroker, TestClient } from '../fakes/broker.js';
import { startSupervisor } from '../fakes/supervisor.js';
import { ownerFetch } from '../fakes/owner-http.js';

const BASE = 'hushbox/testbox';
let broker: MosquittoProcess;
let box: Awaited<ReturnType<typeof startSupervisor>>;
let sup: Supervisor;
let client: TestClient;
let url: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await ownerFetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

beforeAll(async () => {
  let brokerUrl: string;
  ({ broker, url: brokerUrl } = await startBroker());
  box = await startSupervisor((c) => {
    c.mqtt.enabled = true;
    c.mqtt.url = brokerUrl;
    c.engine.priority = 0;
  });
  sup = box.sup;
  url = `http://127.0.0.1:${sup.web.port()}`;
  client = await TestClient.connect(brokerUrl, [`${BASE}/response/#`]);
});

afterAll(async () => {
  await client?.end();
  await box?.stop();
  await broker?.stop();
});

describe('recording takes through the supervisor', () => {
  it('starts and stops a take over HTTP, lists it with its length, serves it and deletes it', async () => {
    const started = await api<CurrentTake>('POST', '/api/recordings/start', { source: 'all', format: 'wav' });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ state: 'recording', source: 'all', format: 'wav', channels: 4, rate: 48000 });
    expect(started.body.name).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ_[A-Za-z0-9-]+\.wav$/);
    expect(started.body.ringSeconds).toBeGreaterThanOrEqual(10);
    // One at a time.
    const again = await api<{ error: string }>('POST', '/api/recordings/start', {});
    expect(again.status).toBe(409);
    await sleep(1500);
    const stopped = await api<CurrentTake>('POST', '/api/recordings/stop');
    expect(stopped.body).toMatchObject({ state: 'stopped', reason: 'requested', gaps: 0 });
    expect(stopped.body.seconds).toBeGreaterThan(0.5); // 1.5 s asked; a loaded machine's sim engine may skip periods

    const list = (await api<Recordings>('GET', '/api/recordings')).body;
    const take = list.takes.find((t) => t.name === started.body.name)!;
    expect(take).toMatchObject({ format: 'wav', rate: 48000, channels: 4, recording: false });
    expect(take.durationS).toBeCloseTo(stopped.body.seconds, 2);
    expect(list.disk.freeBytes).toBeGreaterThan(list.disk.marginBytes);

    const res = await ownerFetch(`${url}/api/recordings/${take.name}?download=1`);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('content-disposition')).toContain(take.name);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(take.bytes);
    expect(body.equals(readFileSync(join(sup.recordings.dir, take.name)))).toBe(true);
    expect(Number(execFileSync('soxi', ['-s', join(sup.recordings.dir, take.name)]).toString())).toBe(Math.round(stopped.body.seconds * 48000));

    expect((await api('DELETE', `/api/recordings/${take.name}`)).status).toBe(204);
    expect(readdirSync(sup.recordings.dir)).not.toContain(take.name);
    expect((await api('DELETE', `/api/recordings/${take.name}`)).status).toBe(404);
  });

  it('refuses names outside the recordings directory', async () => {
    for (const bad of ['..%2Fconfig.json', '.hidden.wav', 'x.txt']) {
      const r = await api<{ error: string }>('GET', `/api/recordings/${bad}`);
      expect(r.status, bad).toBe(400);
    }
    expect((await api('POST', '/api/recordings/start', { format: 'mp3' })).status).toBe(400);
    expect((await api('POST', '/api/recordings/stop')).status).toBe(409);
  });

  it('starts and stops a FLAC take over MQTT (request/record_start, request/record_stop)', async () => {
    const start = await client.request(BASE, 'record_start', { source: 'mic', format: 'flac' }, 'rec-1');
    expect(start).toMatchObject({ status: 'ok', transaction: 'rec-1', data: { state: 'recording', format: 'flac', channels: 1 } });
    await sleep(1000);
    const stop = await client.request(BASE, 'record_stop', {});
    expect(stop).toMatchObject({ status: 'ok', data: { state: 'stopped', reason: 'requested' } });
    const name = stop.data.name as string;
    expect(name).toMatch(/\.flac$/);
    const path = join(sup.recordings.dir, name);
    expect(Number(execFileSync('soxi', ['-s', path]).toString())).toBe(Math.round(stop.data.seconds * 48000));
    const bad = await client.request(BASE, 'record_start', { source: 'everything' });
    expect(bad.status).toBe('error');
    expect(bad.error!.message).toMatch(/source/);
    const none = await client.request(BASE, 'record_stop', {});
    expect(none).toMatchObject({ status: 'error', error: { code: 'conflict' } });
  });

  it('repairs at start a WAV take whose header a power cut left short, and keeps it', async () => {
    // A 24-bit mono WAV with 4800 frames of audio whose header says 0 (as written before the first rewrite).
    const frames = 4800;
    const header = Buffer.alloc(44);
    header.write('RIFF', 0);
    header.writeUInt32LE(36, 4);
    header.write('WAVEfmt ', 8);
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(1, 22);
    header.writeUInt32LE(48000, 24);
    header.writeUInt32LE(48000 * 3, 28);
    header.writeUInt16LE(3, 32);
    header.writeUInt16LE(24, 34);
    header.write('data', 36);
    header.writeUInt32LE(0, 40);
    const cut = join(sup.recordings.dir, '2026-01-01T00-00-00Z_cut.wav');
    writeFileSync(cut, Buffer.concat([header, Buffer.alloc(frames * 3 + 2, 1)])); // and a torn last frame
    await sup.recordings.start();
    expect(Number(execFileSync('soxi', ['-s', cut]).toString())).toBe(frames);
    const take = (await api<Recordings>('GET', '/api/recordings')).body.takes.find((t) => t.name.endsWith('_cut.wav'))!;
    expect(take.durationS).toBeCloseTo(0.1, 3);
  });
});
