// The box and brokers that are missing at start or want a login (real mosquitto).
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import { freePort, TestClient } from '../fakes/broker.js';
import { tempDir } from '../fakes/temp-context.js';
import { startSupervisor } from '../fakes/supervisor.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const until = async (cond: () => boolean, what: string, timeoutMs = 20_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('MQTT broker availability and login', () => {
  it('runs without a broker and connects by itself once one appears', async () => {
    const port = await freePort();
    const box = await startSupervisor((c) => {
      c.mqtt.enabled = true;
      c.mqtt.url = `mqtt://127.0.0.1:${port}`;
    });
    cleanups.push(() => box.stop());
    expect(box.sup.engine.status().state).toBe('running');
    expect(box.sup.mqtt.connected()).toBe(false);
    await box.sup.presets.apply('Podcast', 'test'); // the box works without MQTT
    const broker = new MosquittoProcess({ port });
    cleanups.push(() => broker.dispose());
    await broker.start();
    await until(() => box.sup.mqtt.connected(), 'connected to the broker that appeared');
    const c = await TestClient.connect(`mqtt://127.0.0.1:${port}`, ['hushbox/testbox/state']);
    try {
      const st = JSON.parse((await c.waitFor((m) => m.retain, 'retained state')).payload);
      expect(st.preset).toBe('Podcast');
    } finally {
      await c.end();
    }
  });

  it('logs in with the user and password of HUSHBOX_MQTT_URL-style URLs and of the config', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const pw = join(tmp.dir, 'passwd');
    writeFileSync(pw, '');
    execFileSync('mosquitto_passwd', ['-b', pw, 'box', 's3cret']);
    // mosquitto started as root reads it after dropping to its own user
    chmodSync(tmp.dir, 0o755);
    chmodSync(pw, 0o644);
    const port = await freePort();
    const broker = new MosquittoProcess({ port, extraConfig: [`password_file ${pw}`] });
    // the listener-wide anonymous setting is the last one that counts
    broker.opts.extraConfig!.push('allow_anonymous false');
    cleanups.push(() => broker.dispose());
    await broker.start();

    const watcher = await TestClient.connect(`mqtt://box:s3cret@127.0.0.1:${port}`, ['hushbox/+/availability']);
    cleanups.push(() => watcher.end());

    const wrong = await startSupervisor((c) => {
      c.deviceId = 'wrongpw';
      c.mqtt.enabled = true;
      c.mqtt.url = `mqtt://box:nope@127.0.0.1:${port}`;
    });
    cleanups.push(() => wrong.stop());
    const inUrl = await startSupervisor((c) => {
      c.deviceId = 'inurl';
      c.mqtt.enabled = true;
      c.mqtt.url = `mqtt://box:s3cret@127.0.0.1:${port}`;
    });
    cleanups.push(() => inUrl.stop());
    const inConfig = await startSupervisor((c) => {
      c.deviceId = 'inconfig';
      c.mqtt.enabled = true;
      c.mqtt.url = `mqtt://127.0.0.1:${port}`;
      c.mqtt.username = 'box';
      c.mqtt.password = 's3cret';
    });
    cleanups.push(() => inConfig.stop());
    await watcher.waitFor((m) => m.topic === 'hushbox/inurl/availability' && m.payload === 'online', 'login from the URL');
    await watcher.waitFor((m) => m.topic === 'hushbox/inconfig/availability' && m.payload === 'online', 'login from the config');
    expect(wrong.sup.mqtt.connected()).toBe(false);
    expect(wrong.sup.engine.status().state).toBe('running');
    expect(watcher.messages.some((m) => m.topic === 'hushbox/wrongpw/availability')).toBe(false);
  });
});
