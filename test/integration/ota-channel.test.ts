// The update channel, Home Assistant's update entity and `hushbox update`
// against the compiled supervisor, a real Mosquitto, a real HTTP channel and
// real signed bundles. This machine has no RAUC system, so installs end in
// rauc_unavailable here; test/system/ota.test.ts installs for real in QEMU.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import { packageRoot, packageVersion } from '../../src/paths.js';
import { startBroker, TestClient } from '../fakes/broker.js';
import { buildBundle, makeKeys, makeRootfs } from '../fakes/rauc-bundles.js';
import { startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { tempDir } from '../fakes/temp-context.js';
import { ownerFetch } from '../fakes/owner-http.js';
import { startChannelServer, writeManifest, type ChannelServer } from '../fakes/update-channel.js';

const run = promisify(execFile);

describe('update channel, Home Assistant update entity and hushbox update (real supervisor, broker and HTTP channel)', () => {
  const tmp = tempDir('hushbox-otach-');
  const channelDir = join(tmp.dir, 'channel');
  let broker: MosquittoProcess;
  let brokerUrl: string;
  let srv: ChannelServer;
  let sup: RunningSupervisor;
  let client: TestClient;
  let bundle: string;
  let base: string;
  // On the box the command talks over the supervisor's Unix socket (<data>/api.sock): the owner, no token.
  const hushbox = (...args: string[]) =>
    run(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'update', ...args], { env: { ...process.env, HUSHBOX_DATA_DIR: sup.dataDir } });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await ownerFetch(`${sup.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  beforeAll(async () => {
    const keys = makeKeys(join(tmp.dir, 'keys'));
    mkdirSync(channelDir);
    bundle = buildBundle({ image: makeRootfs(tmp.dir), version: '9.1.0', out: join(channelDir, 'hushbox-9.1.0.raucb'), keys });
    writeManifest(channelDir, bundle, '9.1.0', { notes: 'a quieter gate' });
    srv = await startChannelServer(channelDir);
    ({ broker, url: brokerUrl } = await startBroker());
    client = await TestClient.connect(brokerUrl, ['hushbox/#', 'homeassistant/update/#']);
    sup = await startSupervisor({
      waitRunning: false,
      env: {
        HUSHBOX_MQTT_URL: brokerUrl,
        HUSHBOX_OTA_KEYRING: keys.keyring,
        HUSHBOX_OTA_COMPATIBLE: 'hushbox-x86_64',
        HUSHBOX_RAUC_CONF: join(tmp.dir, 'no-system.conf'),
      },
    });
    const online = await client.waitFor((m) => /^hushbox\/[^/]+\/availability$/.test(m.topic) && m.payload === 'online', 'the box online');
    base = online.topic.replace(/\/availability$/, '');
  }, 90_000);

  afterAll(async () => {
    await sup?.stop();
    sup?.cleanup();
    await client?.end();
    await broker?.dispose();
    await srv?.close();
    tmp.cleanup();
  });

  it('announces an update entity whose Install button sends request/install_update, and publishes its state', async () => {
    const config = await client.waitFor((m) => m.topic.startsWith('homeassistant/update/') && m.topic.endsWith('/firmware/config'), 'the update config');
    expect(JSON.parse(config.payload)).toMatchObject({ state_topic: `${base}/update`, command_topic: `${base}/request/install_update`, payload_install: '{"transaction": "homeassistant"}' });
    const state = await client.waitFor((m) => m.topic === `${base}/update`, 'the update state');
    expect(JSON.parse(state.payload)).toEqual({
      installed_version: packageVersion(),
      latest_version: packageVersion(),
      title: 'hushbox firmware',
      release_summary: null,
      in_progress: false,
      update_percentage: null,
    });
  });

  it('keeps the update settings on the data partition, refusing bad ones by name', async () => {
    const bad = await api('PUT', '/api/ota/settings', { checkIntervalMinutes: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/checkIntervalMinutes/);
    expect(existsSync(join(sup.dataDir, 'ota-settings.json'))).toBe(false);
    const badUrl = await api('PUT', '/api/ota/settings', { channelUrl: 'ftp://x/' });
    expect(badUrl.status).toBe(400);
    const ok = await api('PUT', '/api/ota/settings', { channelUrl: srv.url, reboot: 'manual' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ channelUrl: srv.url, checkIntervalMinutes: 1440, autoInstall: false, reboot: 'manual' });
    expect((await api('GET', '/api/ota/settings')).body).toEqual(ok.body);
  });

  it('checks the channel on demand; the update entity then shows its latest version and notes', async () => {
    const since = client.messages.length;
    const res = await api('POST', '/api/ota/channel/check');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ url: `${srv.url}manifest.json`, updateAvailable: true, latest: { version: '9.1.0', url: `${srv.url}hushbox-9.1.0.raucb`, notes: 'a quieter gate' }, error: null });
    const state = await client.waitFor((m) => m.topic === `${base}/update` && JSON.parse(m.payload).latest_version === '9.1.0', 'latest_version 9.1.0', 10_000, since);
    expect(JSON.parse(state.payload)).toMatchObject({ installed_version: packageVersion(), release_summary: 'a quieter gate', in_progress: false });
    expect((await api('GET', '/api/ota')).body.channel).toMatchObject({ updateAvailable: true, latest: { version: '9.1.0' } });
  });

  it('answers MQTT check_update, and install_update with the reason it cannot install here', async () => {
    const checked = await client.request(base, 'check_update', {});
    expect(checked).toMatchObject({ status: 'ok', data: { latest: { version: '9.1.0' } } });
    const install = await client.request(base, 'install_update', '{"transaction": "homeassistant"}');
    expect(install).toMatchObject({ status: 'error', transaction: 'homeassistant', error: { code: 'rauc_unavailable', message: expect.stringMatching(/no RAUC system here/) } });
    const bad = await client.request(base, 'install_update', { url: 'file:///etc/passwd' });
    expect(bad).toMatchObject({ status: 'error', error: { code: 'bad_url' } });
    expect(existsSync(join(sup.dataDir, 'ota.json'))).toBe(false);
  });

  it('names a broken manifest on the API and keeps the error for the page', async () => {
    writeFileSync(join(channelDir, 'manifest.json'), '{"version": "9.2.0", "url": "x.raucb"}');
    const res = await api('POST', '/api/ota/channel/check');
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ error: 'bad_manifest', message: expect.stringMatching(/sha256/) });
    expect((await api('GET', '/api/ota')).body.channel.error).toMatchObject({ code: 'bad_manifest' });
    writeManifest(channelDir, bundle, '9.1.0', { notes: 'a quieter gate' });
  });

  it('hushbox update: --check, --status, and an install this machine refuses, exiting non-zero with the reason', async () => {
    expect((await hushbox('--check')).stdout).toBe(`9.1.0 is available (${srv.url}hushbox-9.1.0.raucb)\n`);
    expect(JSON.parse((await hushbox('--status')).stdout)).toMatchObject({ version: packageVersion(), compatible: 'hushbox-x86_64' });
    await expect(hushbox(bundle)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot install on this machine: no RAUC system here/) });
    await expect(hushbox(`${srv.url}hushbox-9.1.0.raucb`)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot install on this machine/) });
    await expect(hushbox(join(tmp.dir, 'nope.raucb'))).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot read '.*nope\.raucb' \(ENOENT\)/) });
    await expect(hushbox('--reboot')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/not rebooting this machine/) });
    await expect(hushbox()).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/give a bundle file or URL/) });
  }, 120_000); // seven runs of the command, each a Node start
});
