import { request } from 'node:http';
import { connect } from 'node:net';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/paths.js';
import { startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { tempDir } from '../fakes/temp-context.js';
import { buildBundle, flipByte, makeKeys, makeRootfs, type Keys } from '../fakes/rauc-bundles.js';
import { ownerFetch, ownerHeaders } from '../fakes/owner-http.js';

const MAX_BYTES = 400_000;
const IDLE_S = 3;

async function post(url: string, file: string | Buffer): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = typeof file === 'string' ? readFileSync(file) : file;
  const res = await ownerFetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

// The compiled supervisor, real bundles built with the real rauc, real verification: no mocks.
describe('OTA through the real supervisor (/api/ota)', () => {
  const tmp = tempDir('hushbox-ota-');
  let keys: Keys;
  let other: Keys;
  let sup: RunningSupervisor;
  const b: Record<string, string> = {};

  beforeAll(async () => {
    keys = makeKeys(join(tmp.dir, 'keys'));
    other = makeKeys(join(tmp.dir, 'other-ca'));
    const image = makeRootfs(tmp.dir);
    b.good = buildBundle({ image, version: '9.1.0', out: join(tmp.dir, 'good.raucb'), keys });
    b.old = buildBundle({ image, version: '0.0.1', out: join(tmp.dir, 'old.raucb'), keys });
    b.otherCa = buildBundle({ image, version: '9.1.0', out: join(tmp.dir, 'other-ca.raucb'), keys: other });
    b.pi = buildBundle({ image, version: '9.1.0', out: join(tmp.dir, 'pi.raucb'), keys, compatible: 'hushbox-rpi4' });
    // one bit in the payload (the squashfs holding the image), well before the hash tree and signature
    b.tampered = flipByte(b.good, join(tmp.dir, 'tampered.raucb'), 10_000);
    const good = readFileSync(b.good);
    b.truncated = join(tmp.dir, 'truncated.raucb');
    writeFileSync(b.truncated, good.subarray(0, Math.floor(good.length / 2)));
    b.text = join(tmp.dir, 'text.raucb');
    writeFileSync(b.text, 'this is not a bundle\n');
    sup = await startSupervisor({
      waitRunning: false,
      env: {
        HUSHBOX_OTA_KEYRING: keys.keyring,
        HUSHBOX_OTA_COMPATIBLE: 'hushbox-x86_64',
        HUSHBOX_OTA_MAX_BYTES: String(MAX_BYTES),
        HUSHBOX_OTA_UPLOAD_IDLE_S: String(IDLE_S),
        // never a RAUC system, even on a machine that has one
        HUSHBOX_RAUC_CONF: join(tmp.dir, 'no-system.conf'),
      },
    });
  }, 60_000);

  afterAll(async () => {
    await sup?.stop();
    sup?.cleanup();
    tmp.cleanup();
  });

  /** The data directory holds no upload debris and no update state after a check. */
  function expectNothingLeft(before: string[]): void {
    // The box's own logs (the event list and counters of src/history, written on their own schedule) aside.
    const logs = new Set(['events.json', 'counters.json']);
    const now = readdirSync(sup.dataDir);
    expect(now.filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(now).not.toContain('ota.json');
    expect(now.filter((n) => !logs.has(n)).sort()).toEqual(before.filter((n) => !logs.has(n)).sort());
  }

  it('answers the running version and that this machine has no RAUC system', async () => {
    const res = await ownerFetch(`${sup.url}/api/ota`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.version).toBe(packageVersion());
    expect(body.compatible).toBe('hushbox-x86_64');
    expect(body.maxBundleBytes).toBe(MAX_BYTES);
    expect(body.rauc).toMatchObject({ available: false, reason: expect.stringMatching(/no RAUC system here/) });
    expect(body.lastAttempt).toBeNull();
    expect(body.install).toEqual({ running: false, phase: 'idle', percent: null, message: null, version: null });
    expect(body.outcome).toBeNull();
    expect(body.rebootRequired).toBe(false);
    expect(body.settings).toEqual({ channelUrl: null, checkIntervalMinutes: 1440, autoInstall: false, reboot: 'immediate' });
    expect(body.channel).toMatchObject({ url: null, latest: null, updateAvailable: false });
    expect(body.bootCheck).toMatchObject({ state: 'not_a_box' });
  });

  it('documents the OTA routes in OpenAPI', async () => {
    const doc = (await (await ownerFetch(`${sup.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/ota', '/api/ota/check', '/api/ota/install']));
    expect(Object.keys(doc.paths['/api/ota/check']!.post!.requestBody?.content ?? {})).toEqual(['application/octet-stream']);
  });

  it('verifies a good bundle and says what it would install, keeping nothing', async () => {
    const before = readdirSync(sup.dataDir);
    const { status, body } = await post(`${sup.url}/api/ota/check`, b.good!);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      compatible: 'hushbox-x86_64',
      version: '9.1.0',
      installedVersion: packageVersion(),
      action: 'upgrade',
      sizeBytes: statSync(b.good!).size,
      signer: expect.stringContaining('DEVELOPMENT ONLY'),
    });
    expect(body.images).toEqual([{ slotClass: 'rootfs', filename: 'rootfs.ext4', sizeBytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expectNothingLeft(before);
  });

  it('reports an older bundle as a downgrade', async () => {
    const { status, body } = await post(`${sup.url}/api/ota/check`, b.old!);
    expect(status).toBe(200);
    expect(body).toMatchObject({ version: '0.0.1', action: 'downgrade' });
  });

  const rejected: [string, string, number, string, RegExp][] = [
    ['a bundle with one flipped byte', 'tampered', 422, 'bundle_corrupted', /damaged or tampered/],
    ['a bundle signed under another CA', 'otherCa', 422, 'bad_signature', /signature does not verify/],
    ['a bundle for another board', 'pi', 422, 'wrong_compatible', /for 'hushbox-rpi4', this box takes 'hushbox-x86_64'/],
    ['a truncated bundle', 'truncated', 400, 'not_a_bundle', /not a RAUC bundle/],
    ['a file that is no bundle', 'text', 400, 'not_a_bundle', /not a RAUC bundle/],
  ];
  for (const [what, key, status, code, message] of rejected) {
    it(`rejects ${what}, naming what was wrong, and leaves nothing behind`, async () => {
      const before = readdirSync(sup.dataDir);
      const res = await post(`${sup.url}/api/ota/check`, b[key]!);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error).toBe(code);
      expect(res.body.message).toMatch(message);
      expectNothingLeft(before);
    });
  }

  it('rejects a bundle over the size limit, announced or not, and leaves nothing behind', async () => {
    const before = readdirSync(sup.dataDir);
    const big = Buffer.alloc(MAX_BYTES + 1);
    const announced = await post(`${sup.url}/api/ota/check`, big);
    expect(announced.status).toBe(413);
    expect(announced.body).toMatchObject({ error: 'too_large', message: expect.stringMatching(/at most 400000/) });
    // chunked, without a length: the limit bites while it streams
    const res = await ownerFetch(`${sup.url}/api/ota/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(MAX_BYTES / 4));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe('too_large');
    expectNothingLeft(before);
  });

  it('answers an empty body and a body of another type with an error', async () => {
    expect((await post(`${sup.url}/api/ota/check`, Buffer.alloc(0))).body.error).toBe('no_bundle');
    const res = await ownerFetch(`${sup.url}/api/ota/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: string }).error).toBe('unsupported_media_type');
  });

  it('cleans up after an upload that breaks off halfway', async () => {
    const before = readdirSync(sup.dataDir);
    const data = readFileSync(b.good!);
    await new Promise<void>((resolve) => {
      const req = request(`${sup.url}/api/ota/check`, { method: 'POST', headers: { ...ownerHeaders(sup.url), 'content-type': 'application/octet-stream', 'content-length': data.length } });
      req.on('error', () => resolve());
      req.write(data.subarray(0, 20_000), () => setTimeout(() => req.destroy(), 100));
      req.on('close', () => resolve());
    });
    // the supervisor sees the connection drop and removes the partial upload
    const deadline = Date.now() + 5000;
    while (readdirSync(sup.dataDir).some((n) => n.startsWith('.tmp-')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expectNothingLeft(before);
  });

  it('takes one bundle at a time', async () => {
    const data = readFileSync(b.good!);
    const req = request(`${sup.url}/api/ota/check`, { method: 'POST', headers: { ...ownerHeaders(sup.url), 'content-type': 'application/octet-stream', 'content-length': data.length } });
    const first = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
    });
    // half of it, then wait until the supervisor holds the upload
    req.write(data.subarray(0, 20_000));
    const deadline = Date.now() + 5000;
    while (!readdirSync(sup.dataDir).some((n) => n.startsWith('.tmp-ota-')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const second = await post(`${sup.url}/api/ota/check`, b.good!);
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('ota_busy');
    req.end(data.subarray(20_000));
    const done = await first;
    expect(done.status, done.body).toBe(200);
    expect((await post(`${sup.url}/api/ota/check`, b.good!)).status).toBe(200);
  });

  it('drops an upload that stalls (large Content-Length, a few bytes, silence) after the idle timeout, freeing ota_busy', async () => {
    const before = readdirSync(sup.dataDir);
    const sock = connect(sup.port, '127.0.0.1');
    let answer = '';
    sock.on('data', (d: Buffer) => (answer += d.toString()));
    const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(Date.now())));
    sock.on('error', () => undefined);
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    const owner = Object.entries(ownerHeaders(sup.url)).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.write(`POST /api/ota/check HTTP/1.1\r\nHost: 127.0.0.1\r\n${owner}Content-Type: application/octet-stream\r\nContent-Length: ${MAX_BYTES - 1}\r\n\r\n`);
    sock.write(Buffer.alloc(100, 7));
    const sentAt = Date.now();
    const deadline = Date.now() + 5000;
    while (!readdirSync(sup.dataDir).some((n) => n.startsWith('.tmp-ota-')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // held while the client is silent...
    expect((await post(`${sup.url}/api/ota/check`, b.good!)).body.error).toBe('ota_busy');
    // ...and no longer than the idle timeout: the connection is closed, the claim released, the file removed
    const closedAt = await closed;
    expect(closedAt - sentAt).toBeGreaterThanOrEqual(IDLE_S * 1000 - 200);
    expect(closedAt - sentAt).toBeLessThan(IDLE_S * 1000 + 5000);
    expect(answer === '' || answer.includes('upload_stalled')).toBe(true);
    const next = await post(`${sup.url}/api/ota/check`, b.good!);
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expectNothingLeft(before);
  });

  it('refuses to install where there is no RAUC system, without faking one', async () => {
    const before = readdirSync(sup.dataDir);
    const { status, body } = await post(`${sup.url}/api/ota/install`, b.good!);
    expect(status).toBe(409);
    expect(body).toMatchObject({ error: 'rauc_unavailable', message: expect.stringMatching(/cannot install on this machine: no RAUC system here/) });
    expectNothingLeft(before);
    const ota = (await (await ownerFetch(`${sup.url}/api/ota`)).json()) as Record<string, unknown>;
    expect(ota.lastAttempt).toBeNull();
  });
});
