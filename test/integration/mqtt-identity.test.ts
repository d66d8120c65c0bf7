// Device ids from /etc/machine-id, and a box that keeps its availability `online` (real mosquitto, real supervisors).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, machineDeviceId } from '../../src/config/config.js';
import type { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import { Supervisor } from '../../src/supervisor.js';
import { startBroker, TestClient } from '../fakes/broker.js';
import { silentLog, tempDir } from '../fakes/temp-context.js';

let broker: MosquittoProcess;
let url: string;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  ({ broker, url } = await startBroker());
  cleanups.push(() => broker.dispose());
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A machine root with its own /etc/machine-id. */
function machine(id: string): string {
  const t = tempDir('hushbox-machine-');
  cleanups.push(() => t.cleanup());
  mkdirSync(join(t.dir, 'etc'));
  writeFileSync(join(t.dir, 'etc', 'machine-id'), `${id}\n`);
  return t.dir;
}

/** A real supervisor whose config is loaded as on a box, for a machine root. */
async function boxOn(root: string): Promise<Supervisor> {
  const data = tempDir('hushbox-id-');
  cleanups.push(() => data.cleanup());
  const config = loadConfig({ dataDir: data.dir, env: { HUSHBOX_ROOT: root, HUSHBOX_MQTT_URL: url } });
  config.system = { ...config.system!, root: '/' };
  config.http = { host: '127.0.0.1', port: 0 };
  const sup = new Supervisor({ dataDir: data.dir, log: silentLog(), config });
  await sup.start();
  cleanups.push(() => sup.stop());
  return sup;
}

const until = async (cond: () => boolean, what: string, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('device identity on MQTT', () => {
  it('derives a short id from /etc/machine-id, not the id itself, and keeps it in the data directory', () => {
    const root = machine('0123456789abcdef0123456789abcdef');
    const id = machineDeviceId({ HUSHBOX_ROOT: root });
    expect(id).toMatch(/^[0-9a-f]{10}$/);
    expect('0123456789abcdef0123456789abcdef').not.toContain(id);
    const data = tempDir('hushbox-id-');
    cleanups.push(() => data.cleanup());
    expect(loadConfig({ dataDir: data.dir, env: { HUSHBOX_ROOT: root } }).deviceId).toBe(id);
    expect(readFileSync(join(data.dir, 'device-id'), 'utf8').trim()).toBe(id);
    // a new machine-id at each boot (a read-only root) does not change the box's id
    const other = machine('ffffffffffffffffffffffffffffffff');
    expect(loadConfig({ dataDir: data.dir, env: { HUSHBOX_ROOT: other } }).deviceId).toBe(id);
  });

  it('gives two supervisors on two machines two ids, two base topics, both online', async () => {
    const a = await boxOn(machine('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'));
    const b = await boxOn(machine('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'));
    expect(a.ctx.config.deviceId).not.toBe(b.ctx.config.deviceId);
    await until(() => a.mqtt.connected() && b.mqtt.connected(), 'both connected');
    const c = await TestClient.connect(url, ['hushbox/+/availability']);
    try {
      for (const s of [a, b]) {
        const m = await c.waitFor((x) => x.topic === `hushbox/${s.ctx.config.deviceId}/availability` && x.retain, `availability of ${s.ctx.config.deviceId}`);
        expect(m.payload).toBe('online');
      }
    } finally {
      await c.end();
    }
  });

  it('publishes online again when another client overwrites its retained availability with offline', async () => {
    const s = await boxOn(machine('cccccccccccccccccccccccccccccccc'));
    await until(() => s.mqtt.connected(), 'connected');
    const topic = `hushbox/${s.ctx.config.deviceId}/availability`;
    const intruder = await TestClient.connect(url, []);
    try {
      await intruder.client.publishAsync(topic, 'offline', { retain: true, qos: 1 });
    } finally {
      await intruder.end();
    }
    // what a client connecting afterwards (Home Assistant after a restart) reads
    await new Promise((r) => setTimeout(r, 500));
    const late = await TestClient.connect(url, [topic]);
    try {
      const m = await late.waitFor((x) => x.topic === topic && x.retain, 'the retained availability');
      expect(m.payload).toBe('online');
    } finally {
      await late.end();
    }
  });
});
