// MIDI control end to end through a real supervisor, a real engine (sim
// backend) and a real Mosquitto. The MIDI source is a test hook: the engine's
// `--midi file:PATH` reads raw MIDI bytes from a pipe through the same parser,
// MIDI thread, queue and audio-thread mapping as a raw MIDI device (the ALSA
// sequencer path itself runs in QEMU: test/system/midi.test.ts).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import type { Supervisor } from '../../src/supervisor.js';
import { startBroker, TestClient } from '../fakes/broker.js';
import { startSupervisor } from '../fakes/supervisor.js';
import { ownerFetch } from '../fakes/owner-http.js';
import { tempDir } from '../fakes/temp-context.js';

const BASE = 'hushbox/testbox';
let broker: MosquittoProcess;
let url: string;
let box: Awaited<ReturnType<typeof startSupervisor>>;
let sup: Supervisor;
let client: TestClient;
let pipe: number;
const tmp = tempDir('hushbox-midi-');

const param = (id: string) => sup.engine.params().find((p) => p.id === id)!.value;
const until = async (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const send = (...bytes: number[]) => writeSync(pipe, Buffer.from(bytes));
const api = async (method: string, path: string, body?: unknown) => {
  const res = await ownerFetch(`http://127.0.0.1:${sup.web.port()}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON, checked by the tests
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
};

beforeAll(async () => {
  ({ broker, url } = await startBroker());
  box = await startSupervisor((c) => {
    c.mqtt.enabled = true;
    c.mqtt.url = url;
  });
  sup = box.sup;
  client = await TestClient.connect(url, [`${BASE}/#`]);
  await client.waitFor((m) => m.topic === `${BASE}/availability` && m.payload === 'online', 'online');
  const fifo = join(tmp.dir, 'midi-in');
  execFileSync('mkfifo', [fifo]);
  // Read-write: opening a pipe this way never waits for the other end.
  pipe = openSync(fifo, constants.O_RDWR);
  await sup.engine.setMidiInput(`file:${fifo}`); // the test hook; the API takes seq, hw: or none
  await until(() => sup.engine.status().state === 'running' && (sup.engine.midiCounters()?.ports ?? 0) === 1, 'the engine reads the pipe');
}, 30_000);

afterAll(async () => {
  if (pipe !== undefined) closeSync(pipe);
  await client?.end();
  await box?.stop();
  await broker?.dispose();
  tmp.cleanup();
});

describe('MIDI control through the supervisor', () => {
  it('learns a knob from the HTTP API: the next CC is mapped to the parameter', async () => {
    const learning = api('POST', '/api/midi/learn', { action: 'param', param: 'master.gain' });
    await until(async () => (await api('GET', '/api/midi')).body.learning?.param === 'master.gain', 'learn is waiting');
    send(0x92, 10, 0); // a note off does not answer a parameter's learn
    send(0xb2, 21, 64); // CC 21 on channel 3
    const res = await learning;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'cc', channel: 3, number: 21, action: 'param', param: 'master.gain', mode: 'absolute' });
    const saved = JSON.parse(readFileSync(join(box.dataDir, 'midi.json'), 'utf8'));
    expect(saved.mappings).toEqual([res.body]);
    expect((await api('GET', '/api/midi')).body.learning).toBeNull();
  });

  it('moves the mapped parameter from the audio thread, and the change shows in state and on MQTT', async () => {
    const since = client.messages.length;
    send(0xb2, 21, 127); // to the top: 12 dB
    await until(() => param('master.gain') === 12, 'master.gain at 12 dB');
    const state = await client.waitFor(
      (m) => m.topic === `${BASE}/state` && JSON.parse(m.payload).params?.['master.gain'] === 12,
      'state with master.gain 12',
      10_000,
      since,
    );
    expect(JSON.parse(state.payload).params['master.gain']).toBe(12);
    // On another channel the mapping does not listen.
    send(0xb0, 21, 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(param('master.gain')).toBe(12);
    // Scaled by the table: CC 0 on channel 3 is the bottom, -60 dB.
    send(0xb2, 21, 0);
    await until(() => param('master.gain') === -60, 'master.gain at -60 dB');
    // A 14-bit pair (CC 5 the MSB, CC 37 the LSB, on channel 4): saved with the mapping, on the link, combined by the audio thread.
    const pair = await api('POST', '/api/midi/mappings', { source: 'cc', channel: 4, number: 5, action: 'param', param: 'master.gain', resolution: 14 });
    expect(pair.status).toBe(201);
    expect(JSON.parse(readFileSync(join(box.dataDir, 'midi.json'), 'utf8')).mappings.at(-1)).toMatchObject({ number: 5, resolution: 14 });
    send(0xb3, 5, 64, 37, 127); // 64 << 7 | 127 = 8319 of 16383
    await until(() => Math.abs(param('master.gain') - (-60 + (72 * 8319) / 16383)) < 1e-3, 'master.gain at the 14-bit value');
    expect((await api('DELETE', `/api/midi/mappings/${pair.body.id}`)).status).toBe(204);
    // The value is read off the link; the supervisor sees the same CCs a moment later. Learn must not take them.
    await until(() => sup.midi.status().activity.some((a) => a.channel === 4 && a.number === 37), 'the LSB in the activity');
    // Learned as a pair: the LSB (CC 38) names its MSB, CC 6.
    const learning = api('POST', '/api/midi/learn', { action: 'param', param: 'mic.eq.peak1.gain', resolution: 14 });
    await until(async () => (await api('GET', '/api/midi')).body.learning?.param === 'mic.eq.peak1.gain', 'learn is waiting');
    send(0xb4, 38, 0);
    const learned = await learning;
    expect(learned.body).toMatchObject({ source: 'cc', channel: 5, number: 6, resolution: 14, mode: 'absolute' });
    expect((await api('DELETE', `/api/midi/mappings/${learned.body.id}`)).status).toBe(204);
  });

  it('recalls a preset on a Program Change, through the program list', async () => {
    const presets = (await api('GET', '/api/presets')).body as Array<{ id: string; name: string }>;
    expect(presets.length).toBeGreaterThan(1);
    const target = presets[1]!;
    expect((await api('POST', '/api/midi/mappings', { source: 'program', channel: 'omni', action: 'preset' })).status).toBe(201);
    expect((await api('PATCH', '/api/midi', { programs: ['nothing-here', target.name] })).status).toBe(200);
    send(0xc0, 1); // program 1: the second entry
    await until(() => sup.presets.state().preset === target.name, `preset ${target.name} recalled`);
    expect(sup.presets.state().preset_modified).toBe(false);
    // Program 0 names no preset: logged, nothing changes, nothing breaks.
    send(0xc0, 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(sup.presets.state().preset).toBe(target.name);
  });

  it('learns a footswitch over MQTT: answered at once, then with the mapping; the switch toggles the bypass', async () => {
    const since = client.messages.length;
    const first = await client.request(BASE, 'midi_learn', { action: 'toggle', param: 'master.bypass' }, 'learn-1');
    expect(first.status).toBe('ok');
    expect(first.data.learning).toMatchObject({ action: 'toggle', param: 'master.bypass' });
    send(0x90, 61, 100); // note on 61, channel 1
    const second = await client.waitFor(
      (m) => m.topic === `${BASE}/response/midi_learn` && JSON.parse(m.payload).data?.mapping !== undefined,
      'the learned mapping',
      10_000,
      since,
    );
    expect(JSON.parse(second.payload)).toMatchObject({ status: 'ok', transaction: 'learn-1', data: { mapping: { source: 'note', number: 61, channel: 1, action: 'toggle' } } });
    const before = param('master.bypass');
    send(0x90, 61, 100, 0x80, 61, 0);
    await until(() => param('master.bypass') === 1 - before, 'the bypass toggled');
    await until(() => sup.presets.state().bypass === (1 - before === 1), 'state shows the bypass');
  });

  it('starts and stops a recording take with a footswitch', async () => {
    expect((await api('POST', '/api/midi/mappings', { source: 'note', channel: 'omni', number: 62, action: 'record' })).status).toBe(201);
    send(0x90, 62, 100);
    await until(() => sup.engine.recording()?.state === 'recording', 'a take recording');
    send(0x80, 62, 0, 0x90, 62, 100);
    await until(() => sup.engine.recording()?.state === 'stopped', 'the take stopped');
    const takes = (await api('GET', '/api/recordings')).body.takes as Array<{ name: string; recording: boolean }>;
    expect(takes.length).toBe(1);
    expect(takes[0]!.recording).toBe(false);
  });

  it('shows recent activity and the counters', async () => {
    const { body } = await api('GET', '/api/midi');
    expect(body.activity[0]).toMatchObject({ kind: 'note_on', channel: 1, number: 62 });
    expect(body.activity.some((a: { kind: string; number: number }) => a.kind === 'note_off' && a.number === 61)).toBe(true);
    expect(body.activity.some((a: { kind: string; number: number }) => a.kind === 'program' && a.number === 1)).toBe(true);
    expect(body.counters.received).toBeGreaterThanOrEqual(8);
    expect(body.counters.dropped).toBe(0);
  });

  it('refuses a mapping that cannot work, naming the field, and changes nothing', async () => {
    const before = (await api('GET', '/api/midi/settings')).body;
    const bad = [
      [{ source: 'cc', number: 7, action: 'param', param: 'no.such' }, /unknown parameter 'no.such'/],
      [{ source: 'cc', number: 7, action: 'toggle', param: 'master.gain' }, /on\/off/],
      [{ source: 'note', number: 7, action: 'preset' }, /Program Change/],
      [{ source: 'cc', number: 7, action: 'param', param: 'master.gain', min: -100 }, /min: -100 is outside/],
      [{ source: 'cc', action: 'param', param: 'master.gain' }, /number/],
      [{ source: 'cc', number: 40, action: 'param', param: 'master.gain', resolution: 14 }, /number: a 14-bit pair is named by its MSB/],
      [{ source: 'cc', number: 8, action: 'param', param: 'master.gain', mode: 'relative_twos', resolution: 14 }, /resolution/],
    ] as const;
    for (const [body, why] of bad) {
      const res = await api('POST', '/api/midi/mappings', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(why);
    }
    const imp = await api('PUT', '/api/midi/settings', { ...before, mappings: [{ id: 'x', source: 'cc' }] });
    expect(imp.status).toBe(400);
    expect(imp.body.message).toMatch(/mappings\.0/);
    expect((await api('GET', '/api/midi/settings')).body).toEqual(before);
  });

  it('exports and imports the MIDI settings whole; a learn that nobody answers times out', async () => {
    const exported = (await api('GET', '/api/midi/settings')).body;
    expect(exported.mappings.length).toBe(4);
    const trimmed = { ...exported, mappings: exported.mappings.slice(0, 1) };
    expect((await api('PUT', '/api/midi/settings', trimmed)).status).toBe(200);
    expect((await api('GET', '/api/midi/mappings')).body).toEqual(trimmed.mappings);
    expect(existsSync(join(box.dataDir, 'midi.json'))).toBe(true);
    const res = await api('POST', '/api/midi/learn', { action: 'preset', timeout_ms: 1000 });
    expect(res.status).toBe(408);
    expect(res.body.error).toBe('midi_learn_timeout');
  });
});
