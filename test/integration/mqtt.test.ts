// Against a real mosquitto and a real supervisor (real engine, sim backend).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import type { Supervisor } from '../../src/supervisor.js';
import { startBroker, TestClient } from '../fakes/broker.js';
import { startSupervisor } from '../fakes/supervisor.js';

const BASE = 'hushbox/testbox';
let broker: MosquittoProcess;
let url: string;
let box: Awaited<ReturnType<typeof startSupervisor>>;
let sup: Supervisor;
let client: TestClient;

const param = (id: string) => sup.engine.params().find((p) => p.id === id)!.value;
const retainedState = async () => {
  const c = await TestClient.connect(url, [`${BASE}/state`]);
  try {
    return JSON.parse((await c.waitFor((m) => m.topic === `${BASE}/state` && m.retain, 'retained state')).payload);
  } finally {
    await c.end();
  }
};
const until = async (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

beforeAll(async () => {
  ({ broker, url } = await startBroker());
  box = await startSupervisor((c) => {
    c.mqtt.enabled = true;
    c.mqtt.url = url;
    c.mqtt.panelUrl = 'http://testbox.local/';
  });
  sup = box.sup;
  client = await TestClient.connect(url, [`${BASE}/#`]);
  await client.waitFor((m) => m.topic === `${BASE}/availability` && m.payload === 'online', 'online');
});

afterAll(async () => {
  await client?.end();
  await box?.stop();
  await broker?.dispose();
});

describe('MQTT against a real broker', () => {
  it('announces every entity to a client subscribing like Home Assistant, with valid fields', async () => {
    const ha = await TestClient.connect(url, ['homeassistant/#']);
    try {
      await ha.waitFor((m) => m.topic === 'homeassistant/update/testbox/firmware/config', 'the last config');
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- discovery JSON, checked field by field below
      const configs = new Map(ha.messages.filter((m) => m.payload).map((m) => [m.topic, JSON.parse(m.payload) as Record<string, any>]));
      const components = [...configs.keys()].map((t) => t.split('/')[1]);
      for (const c of ['select', 'number', 'sensor', 'button', 'update']) expect(components).toContain(c);
      expect([...configs.keys()]).toContain('homeassistant/number/testbox/mic_trim_gain/config');
      const ids = new Set<string>();
      for (const [topic, cfg] of configs) {
        expect(topic).toMatch(/^homeassistant\/(select|switch|number|sensor|button|update)\/testbox\/[a-z0-9_]+\/config$/);
        expect(ha.messages.find((m) => m.topic === topic)!.retain).toBe(true);
        expect(cfg.unique_id).toMatch(/^hushbox_testbox_/);
        ids.add(cfg.unique_id);
        expect(cfg.availability_topic).toBe(`${BASE}/availability`);
        expect(cfg.device).toMatchObject({ identifiers: ['hushbox_testbox'], sw_version: sup.ctx.version, configuration_url: 'http://testbox.local/' });
        expect(cfg.origin).toMatchObject({ name: 'hushbox', sw_version: sup.ctx.version });
        for (const k of ['command_topic', 'state_topic']) if (cfg[k]) expect(cfg[k]).toMatch(new RegExp(`^${BASE}/`));
      }
      expect(ids.size).toBe(configs.size);
      expect(configs.get('homeassistant/select/testbox/preset/config')!.options).toEqual(expect.arrayContaining(['Podcast', 'Streaming', 'Studio voice', 'Bypass']));

      // Home Assistant restarts: everything is announced again.
      const since = ha.messages.length;
      await ha.client.publishAsync('homeassistant/status', 'online');
      await ha.waitFor((m) => m.topic === 'homeassistant/select/testbox/preset/config' && !m.retain, 're-announced select', 10_000, since);
    } finally {
      await ha.end();
    }
  });

  it('applies a preset selected over MQTT in the engine and reflects it in the retained state', async () => {
    expect(param('mic.trim.gain')).toBe(0);
    await client.client.publishAsync(`${BASE}/set`, JSON.stringify({ preset: 'Podcast' }));
    await until(() => param('mic.trim.gain') === 6, 'mic.trim.gain applied by the engine');
    await until(async () => (await retainedState()).preset === 'Podcast', 'retained state shows Podcast');
    const state = await retainedState();
    expect(state).toMatchObject({ preset: 'Podcast', preset_id: 'podcast', params: { 'mic.trim.gain': 6 }, engine_state: 'running' });

    const r = await client.request(BASE, 'apply_preset', { preset: 'studio-voice' }, 'tx-42');
    expect(r).toMatchObject({ status: 'ok', transaction: 'tx-42', data: { preset: { id: 'studio-voice' }, applied: { 'mic.trim.gain': 2 } } });
    // The engine has the DSP chain's parameters now: the whole preset applies (noise suppression aside).
    expect(r.data.applied).toMatchObject({ 'mic.comp.threshold': -24, 'mic.hpf.slope': 12 });
    expect(r.data.unknown).not.toContain('mic.comp.threshold');
    expect(param('mic.trim.gain')).toBe(2);
  });

  it('answers malformed JSON, unknown presets and out-of-range values with an error and changes nothing', async () => {
    await client.request(BASE, 'set_params', { params: { 'mic.trim.gain': -4, 'inst.trim.gain': 1 } });
    const before = { params: sup.engine.params().map((p) => p.value), state: await retainedState() };

    const bad = await client.request(BASE, 'apply_preset', '{"preset": "Pod');
    expect(bad).toMatchObject({ status: 'error', error: { code: 'invalid_input' } });
    expect(bad.error!.message).toMatch(/not valid JSON/);

    const unknown = await client.request(BASE, 'apply_preset', { preset: 'Karaoke' }, 't1');
    expect(unknown).toMatchObject({ status: 'error', transaction: 't1', error: { code: 'not_found' } });
    expect(unknown.error!.message).toMatch(/Karaoke/);

    const range = await client.request(BASE, 'set_params', { params: { 'inst.trim.gain': 3, 'mic.trim.gain': 99 } }, 't2');
    expect(range).toMatchObject({ status: 'error', transaction: 't2' });
    expect(range.error!.message).toMatch(/mic\.trim\.gain: 99 is outside -24\.\.24/);

    const shape = await client.request(BASE, 'set_bypass', { bypass: 'yes' }, 't3');
    expect(shape.error!.message).toMatch(/bypass/);

    const unknownCommand = await client.request(BASE, 'self_destruct', {}, 't4');
    expect(unknownCommand).toMatchObject({ status: 'error', transaction: 't4', error: { message: expect.stringMatching(/unknown command 'self_destruct'/) } });

    const since = client.messages.length;
    await client.client.publishAsync(`${BASE}/set`, '{"preset": 12}');
    const setErr = await client.waitFor((m) => m.topic === `${BASE}/response/set`, 'set error', 10_000, since);
    expect(JSON.parse(setErr.payload)).toMatchObject({ status: 'error', error: { message: expect.stringMatching(/preset/) } });

    expect(sup.engine.params().map((p) => p.value)).toEqual(before.params);
    expect(await retainedState()).toEqual(before.state);
  });

  it('toggles A/B, saves the current state as a preset and answers health over requests', async () => {
    await client.request(BASE, 'set_params', { params: { 'mic.trim.gain': 1 } });
    expect((await client.request(BASE, 'ab_store', { slot: 'A' })).status).toBe('ok');
    await client.request(BASE, 'set_params', { params: { 'mic.trim.gain': -1 } });
    expect((await client.request(BASE, 'ab_store', { slot: 'B' })).status).toBe('ok');
    const t = await client.request(BASE, 'ab_toggle', {});
    expect(t).toMatchObject({ status: 'ok', data: { active: 'A' } });
    expect(param('mic.trim.gain')).toBe(1);

    const saved = await client.request(BASE, 'save_preset', { name: 'From MQTT', tags: ['mqtt'] });
    expect(saved).toMatchObject({ status: 'ok', data: { preset: { id: 'from-mqtt', params: { 'mic.trim.gain': 1 } } } });
    expect(sup.presets.get('from-mqtt').tags).toEqual(['mqtt']);
    // the preset select offers it at once
    const ha = await TestClient.connect(url, ['homeassistant/select/testbox/preset/config']);
    try {
      const cfg = await ha.waitFor((m) => m.retain, 'retained select config');
      expect(JSON.parse(cfg.payload).options).toContain('From MQTT');
    } finally {
      await ha.end();
    }

    const health = await client.request(BASE, 'get_health', {});
    expect(health.data).toMatchObject({ engine_state: 'running', xruns: expect.any(Number), latency_ms: expect.any(Number), dsp_load: expect.any(Number) });
    const periodic = await client.waitFor((m) => m.topic === `${BASE}/health`, 'a health message');
    expect(JSON.parse(periodic.payload)).toHaveProperty('memory.total_mb');
  });

  it('restarts the engine on request and keeps the parameters', async () => {
    const before = sup.engine.status().pid;
    const r = await client.request(BASE, 'restart_engine', {}, 'rs');
    expect(r).toMatchObject({ status: 'ok', transaction: 'rs', data: { state: 'running', restarts: 1 } });
    expect(sup.engine.status().pid).not.toBe(before);
    await until(() => param('mic.trim.gain') === 1, 'parameters restored into the new engine');
  });

  it('comes back online by itself after the broker restarts', async () => {
    await broker.stop();
    await until(() => !sup.mqtt.connected(), 'client noticed the broker went away');
    // While away, changes are not queued: they are coalesced into the state sent on reconnect.
    for (let i = 0; i < 50; i++) await sup.presets.applyPatch({ params: { 'inst.trim.gain': (i % 10) - 5 } }, 'test');
    await broker.start();
    await until(() => sup.mqtt.connected(), 'client reconnected', 20_000);
    const c = await TestClient.connect(url, [`${BASE}/#`]);
    try {
      await c.waitFor((m) => m.topic === `${BASE}/availability` && m.payload === 'online' && m.retain, 'retained online after restart');
      // The state can reach the broker after this client subscribed (then it arrives live, not flagged retained):
      // wait for it, then a fresh subscriber must be handed it as the retained state.
      await c.waitFor((m) => m.topic === `${BASE}/state`, 'state after restart');
      const fresh = await TestClient.connect(url, [`${BASE}/state`]);
      try {
        const st = JSON.parse((await fresh.waitFor((m) => m.topic === `${BASE}/state` && m.retain, 'retained state after restart')).payload);
        expect(st.params['inst.trim.gain']).toBe(4);
      } finally {
        await fresh.end();
      }
      // and it still takes commands
      expect((await c.request(BASE, 'get_state', {})).data.params['inst.trim.gain']).toBe(4);
    } finally {
      await c.end();
    }
  });
});
