// The box's own Mosquitto as the image configures it (rootfs/etc/mosquitto/conf.d), with the
// password file and ACL that `hushbox mqtt-credentials` makes: a real mosquitto, a real supervisor.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBrokerCredentials, type BrokerCredentials } from '../../src/mqtt/broker-credentials.js';
import { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import { packageRoot } from '../../src/paths.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { freePort, TestClient } from '../fakes/broker.js';
import { waitFor } from '../fakes/net.js';
import { defaultConfig } from '../../src/config/config.js';
import { Supervisor } from '../../src/supervisor.js';
import { FakeEngine } from '../fakes/fake-engine.js';
import { makeContext, silentLog, tempDir } from '../fakes/temp-context.js';

const CONF_D = join(packageRoot, 'rootfs', 'etc', 'mosquitto', 'conf.d');
const cleanups: Array<() => Promise<void> | void> = [];
let creds: BrokerCredentials;
let url: string;
let data: ReturnType<typeof tempDir>;

const mosquittoUser = (() => {
  const [, , uid, gid] = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('mosquitto:'))!.split(':');
  return { uid: Number(uid), gid: Number(gid) };
})();

/** The image's own broker config files, with /data where a test keeps its data, and Mosquitto's pid file there too. */
async function startBoxBroker(dataDir: string): Promise<{ url: string; pidFile: string; broker: MosquittoProcess }> {
  const port = await freePort();
  // Mosquitto writes its pid after dropping root: in a directory of its own user's, as /run/mosquitto on Debian.
  const run = join(dataDir, 'run-mosquitto');
  mkdirSync(run);
  chownSync(run, mosquittoUser.uid, mosquittoUser.gid);
  const pidFile = join(run, 'mosquitto.pid');
  const conf = readdirSync(CONF_D)
    .filter((f) => f.endsWith('.conf'))
    .flatMap((f) => readFileSync(join(CONF_D, f), 'utf8').split('\n'))
    .map((l) => l.replace(/\/data\//g, `${dataDir}/`))
    // the box's port 1883 on every address: the test's broker listens on its own port only (two run here)
    .filter((l) => !/^listener\s/.test(l));
  const broker = new MosquittoProcess({ port, extraConfig: [...conf, `pid_file ${pidFile}`] });
  await broker.start();
  cleanups.push(() => broker.dispose());
  return { url: `mqtt://127.0.0.1:${port}`, pidFile, broker };
}

beforeAll(async () => {
  data = tempDir('hushbox-broker-');
  cleanups.push(() => data.cleanup());
  // mosquitto, started as root, reads its files as the mosquitto user
  chmodSync(data.dir, 0o755);
  creds = ensureBrokerCredentials(data.dir).credentials;
  url = (await startBoxBroker(data.dir)).url;
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const login = (c: { username: string; password: string }) => ({ username: c.username, password: c.password, reconnectPeriod: 0, connectTimeout: 3000 });

describe("the box's own broker", () => {
  it('keeps the clear passwords for root only and the password file in mosquitto_passwd format', () => {
    expect(statSync(join(data.dir, 'mqtt', 'credentials.json')).mode & 0o777).toBe(0o600);
    // What Mosquitto 2.0.16+ wants of the files it reads (else "owner is not mosquitto ... future versions
    // will refuse to load this file"): its own user and group, nobody else may read them.
    for (const f of ['passwd', 'acl']) {
      const st = statSync(join(data.dir, 'mqtt', f));
      expect({ file: f, uid: st.uid, gid: st.gid, mode: (st.mode & 0o777).toString(8) }).toEqual({ file: f, ...mosquittoUser, mode: '600' });
    }
    const passwd = readFileSync(join(data.dir, 'mqtt', 'passwd'), 'utf8');
    expect(passwd).toMatch(/^hushbox:\$7\$101\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\nhomeassistant:\$7\$/);
    expect(passwd).not.toContain(creds.client.password);
    // a second run keeps the users
    expect(ensureBrokerCredentials(data.dir)).toMatchObject({ created: false, credentials: creds });
    const cli = spawnSync(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'mqtt-credentials', '--json', '--data', data.dir], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual({ created: false, username: 'homeassistant', password: creds.client.password });
  });

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(connectAsync(url, login({ username: 'homeassistant', password: 'guess' }))).rejects.toThrow(/Not authorized|Bad username/i);
  });

  it('lets the supervisor in with its own user, and a client send commands but never publish the box state or availability', async () => {
    const config = defaultConfig();
    config.deviceId = 'brokerbox';
    config.http = { host: '127.0.0.1', port: 0 };
    config.mqtt = { ...config.mqtt, enabled: true, url };
    // the same data directory as the broker's files: on the box both are /data
    const sup = new Supervisor({ dataDir: data.dir, log: silentLog(), config });
    await sup.start();
    cleanups.push(() => sup.stop());
    const base = 'hushbox/brokerbox';
    const until = async (cond: () => boolean, what: string) => {
      const end = Date.now() + 10_000;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out: ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await until(() => sup.mqtt.connected(), 'the supervisor logged in with its own user');
    expect(sup.settings.get().mqtt.ownBroker).toBe(true);

    const ha = await TestClient.connect(url, [`${base}/#`], login(creds.client));
    try {
      await ha.waitFor((m) => m.topic === `${base}/availability` && m.payload === 'online', 'availability online');
      // a command goes through
      const r = await ha.request(base, 'set_bypass', { bypass: true });
      expect(r.status).toBe('ok');
      expect(sup.presets.state().bypass).toBe(true);
      // the box's own topics do not: the broker drops the publish
      const since = ha.messages.length;
      await ha.client.publishAsync(`${base}/availability`, 'offline', { retain: true, qos: 1 });
      await ha.client.publishAsync(`${base}/state`, '{"preset":"forged"}', { retain: true, qos: 1 });
      await ha.client.publishAsync(`${base}/response/get_state`, '{"status":"ok","data":"forged"}', { qos: 1 });
      await new Promise((r) => setTimeout(r, 500));
      expect(ha.messages.slice(since).filter((m) => m.payload === 'offline' || m.payload.includes('forged'))).toEqual([]);
    } finally {
      await ha.end();
    }
    // what a client connecting now reads
    const late = await TestClient.connect(url, [`${base}/availability`, `${base}/state`], login(creds.client));
    try {
      expect((await late.waitFor((m) => m.topic === `${base}/availability` && m.retain, 'retained availability')).payload).toBe('online');
      expect(JSON.parse((await late.waitFor((m) => m.topic === `${base}/state` && m.retain, 'retained state')).payload).preset).not.toBe('forged');
    } finally {
      await late.end();
    }
  });

  it("logs in with the box broker's user once it is made, when the supervisor started before it (a first boot)", async () => {
    // The image runs hushbox-mqtt-credentials beside the supervisor's start, only before the broker: the broker
    // here already has its files (the test's first box), the supervisor's data directory has none yet.
    const box = tempDir('hushbox-broker-late-');
    cleanups.push(() => box.cleanup());
    const config = defaultConfig();
    config.deviceId = 'latebox';
    config.http = { host: '127.0.0.1', port: 0 };
    config.mqtt = { ...config.mqtt, enabled: true, url };
    const sup = new Supervisor({ dataDir: box.dir, log: silentLog(), config });
    await sup.start();
    cleanups.push(() => sup.stop());
    // Anonymous: refused, and retried.
    await new Promise((r) => setTimeout(r, 1500));
    expect(sup.mqtt.connected()).toBe(false);
    mkdirSync(join(box.dir, 'mqtt'));
    for (const f of ['credentials.json', 'passwd', 'acl']) writeFileSync(join(box.dir, 'mqtt', f), readFileSync(join(data.dir, 'mqtt', f)));
    await waitFor('the supervisor to log in with the user made after its start', () => sup.mqtt.connected(), 15_000, 50);
    const ha = await TestClient.connect(url, ['hushbox/latebox/availability'], login(creds.client));
    try {
      expect((await ha.waitFor((m) => m.topic === 'hushbox/latebox/availability' && m.retain, 'availability')).payload).toBe('online');
    } finally {
      await ha.end();
    }
  });

  it('writes the ACL at boot for the base topic and discovery prefix in config.json', () => {
    const box = tempDir('hushbox-broker-cli-');
    cleanups.push(() => box.cleanup());
    writeFileSync(join(box.dir, 'config.json'), JSON.stringify({ mqtt: { baseTopic: 'loft/box', discoveryPrefix: 'hass' } }));
    const cli = spawnSync(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'mqtt-credentials', '--data', box.dir], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('ACL for loft/box/ and hass/');
    const acl = readFileSync(join(box.dir, 'mqtt', 'acl'), 'utf8');
    for (const rule of ['topic read loft/box/#', 'topic write loft/box/set', 'topic write loft/box/request/#', 'topic read hass/#', 'topic write hass/status']) expect(acl).toContain(rule);
    expect(acl).not.toMatch(/hushbox\/|homeassistant\//);
  });

  it('follows a configured base topic and discovery prefix: the supervisor rewrites the ACL and reloads the broker', async () => {
    // A box whose broker files were written at boot for the default topics; then the owner set
    // mqtt.baseTopic and mqtt.discoveryPrefix in config.json and restarted the supervisor.
    const box = tempDir('hushbox-broker-topics-');
    cleanups.push(() => box.cleanup());
    chmodSync(box.dir, 0o755);
    const own = ensureBrokerCredentials(box.dir).credentials;
    expect(readFileSync(join(box.dir, 'mqtt', 'acl'), 'utf8')).toContain('topic write hushbox/+/set');
    const b = await startBoxBroker(box.dir);
    const config = defaultConfig();
    config.deviceId = 'topicbox';
    config.http = { host: '127.0.0.1', port: 0 };
    config.mqtt = { ...config.mqtt, enabled: true, url: b.url, baseTopic: 'studio/desk', discoveryPrefix: 'ha' };
    process.env.HUSHBOX_BROKER_PID_FILE = b.pidFile;
    const sup = new Supervisor({ dataDir: box.dir, log: silentLog(), config });
    try {
      await sup.start();
    } finally {
      delete process.env.HUSHBOX_BROKER_PID_FILE;
    }
    cleanups.push(() => sup.stop());
    const acl = readFileSync(join(box.dir, 'mqtt', 'acl'), 'utf8');
    expect(acl).toContain('topic write studio/desk/set');
    expect(acl).toContain('topic write ha/status');
    expect(acl).not.toContain('hushbox/+');
    expect(statSync(join(box.dir, 'mqtt', 'acl')).mode & 0o777).toBe(0o600);

    const base = 'studio/desk';
    const ha = await TestClient.connect(b.url, [`${base}/#`, 'ha/#'], login(own.client));
    try {
      await ha.waitFor((m) => m.topic === `${base}/availability` && m.payload === 'online', 'availability online');
      await ha.waitFor((m) => m.topic.startsWith('ha/') && m.topic.endsWith('/config'), 'a discovery config under ha/');
      // commands on the configured base go through (the default ACL dropped them)
      const r = await ha.request(base, 'set_bypass', { bypass: true });
      expect(r.status).toBe('ok');
      expect(sup.presets.state().bypass).toBe(true);
      // the box's own topics under the configured base stay the supervisor's
      const since = ha.messages.length;
      await ha.client.publishAsync(`${base}/availability`, 'offline', { retain: true, qos: 1 });
      await ha.client.publishAsync(`${base}/state`, '{"preset":"forged"}', { retain: true, qos: 1 });
      await new Promise((r) => setTimeout(r, 500));
      expect(ha.messages.slice(since).filter((m) => m.payload === 'offline' || m.payload.includes('forged'))).toEqual([]);
    } finally {
      await ha.end();
    }
  });

  it("never sends the box broker's password to a broker elsewhere (the owner's Home Assistant)", async () => {
    const addr = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!addr) throw new Error('this test needs an IPv4 address other than the loopback');
    // A stand-in for another machine's broker: it reads the CONNECT packet and hangs up.
    const connects: Buffer[] = [];
    const server = createServer((sock) => sock.once('data', (d: Buffer) => (connects.push(d), sock.destroy())));
    await new Promise<void>((r) => server.listen(0, addr, r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const box = tempDir('hushbox-broker-elsewhere-');
    cleanups.push(() => box.cleanup());
    const own = ensureBrokerCredentials(box.dir).credentials;
    const config = defaultConfig();
    config.deviceId = 'elsewherebox';
    config.http = { host: '127.0.0.1', port: 0 };
    config.mqtt = { ...config.mqtt, enabled: true, url: `mqtt://${addr}:${(server.address() as AddressInfo).port}` };
    const sup = new Supervisor({ dataDir: box.dir, log: silentLog(), config });
    await sup.start();
    cleanups.push(() => sup.stop());
    const end = Date.now() + 10_000;
    while (!connects.length && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    expect(connects.length).toBeGreaterThan(0);
    const packet = connects[0];
    expect(packet[0] >> 4).toBe(1); // CONNECT
    let i = 1;
    while (packet[i] & 0x80) i++; // remaining length
    i += 1 + 2 + packet.readUInt16BE(i + 1) + 1; // protocol name, then the level: the connect flags
    expect(packet[i] & 0xc0, 'username and password flags').toBe(0);
    expect(packet.toString('latin1')).not.toContain(own.supervisor.password);
    // and the page does not call it the box's own broker
    expect(sup.settings.get().mqtt.ownBroker).toBe(false);
  });

  it('answers the clients\' login to the owner on GET /api/mqtt/credentials, 404 where there is none', async () => {
    const empty = tempDir('hushbox-nobroker-');
    cleanups.push(() => empty.cleanup());
    for (const [dir, status] of [[data.dir, 200], [empty.dir, 404]] as const) {
      const app = await buildOwnerApp({ ctx: makeContext(dir), engine: new FakeEngine().asService() });
      try {
        const res = await app.inject({ method: 'GET', url: '/api/mqtt/credentials' });
        expect(res.statusCode).toBe(status);
        if (status === 200) expect(res.json()).toEqual({ username: 'homeassistant', password: creds.client.password, port: 1883 });
      } finally {
        await app.close();
      }
    }
  });
});
