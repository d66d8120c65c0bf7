import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadBundle, fetchManifest, manifestUrl } from '../../src/ota/channel.js';
import { startChannelServer, sha256Of, type ChannelServer } from '../fakes/update-channel.js';
import { tempDir } from '../fakes/temp-context.js';

const opts = { compatible: 'hushbox-x86_64', idleMs: 2000 };

describe('update channel and downloads (a real HTTP server)', () => {
  const tmp = tempDir('hushbox-channel-');
  let srv: ChannelServer;
  const blob = join(tmp.dir, 'bundle.raucb');

  beforeAll(async () => {
    writeFileSync(blob, randomBytes(300_000));
    writeFileSync(join(tmp.dir, 'manifest.json'), JSON.stringify({ version: '2.0.0', url: 'bundle.raucb', sha256: sha256Of(blob).toUpperCase(), notes: 'new gate' }));
    writeFileSync(join(tmp.dir, 'not-json.json'), '<html>captive portal</html>');
    writeFileSync(join(tmp.dir, 'no-hash.json'), JSON.stringify({ version: '2.0.0', url: 'bundle.raucb' }));
    writeFileSync(join(tmp.dir, 'bad-version.json'), JSON.stringify({ version: 'latest', url: 'bundle.raucb', sha256: 'a'.repeat(64) }));
    writeFileSync(join(tmp.dir, 'pi.json'), JSON.stringify({ version: '2.0.0', url: 'bundle.raucb', sha256: 'a'.repeat(64), compatible: 'hushbox-rpi4' }));
    writeFileSync(join(tmp.dir, 'huge.json'), `{"notes": "${'x'.repeat(70_000)}"}`);
    srv = await startChannelServer(tmp.dir);
    // sends half the bundle, then nothing
    srv.route('/stall.raucb', (_req, res) => {
      res.writeHead(200, { 'content-length': 300_000 });
      res.write(readFileSync(blob).subarray(0, 150_000));
    });
    // no content-length: the size cap bites while streaming
    srv.route('/chunked.raucb', (_req, res) => {
      res.writeHead(200);
      res.end(readFileSync(blob));
    });
  });
  afterAll(async () => {
    await srv.close();
    tmp.cleanup();
  });

  it('finds manifest.json in a channel directory, or takes a .json URL as the manifest', () => {
    expect(manifestUrl('https://updates.example/hushbox/stable')).toBe('https://updates.example/hushbox/stable/manifest.json');
    expect(manifestUrl('https://updates.example/hushbox/stable/')).toBe('https://updates.example/hushbox/stable/manifest.json');
    expect(manifestUrl('http://nas.local/beta.json')).toBe('http://nas.local/beta.json');
    expect(() => manifestUrl('ftp://nas.local/x')).toThrow(/http:\/\/ or https:\/\//);
    expect(() => manifestUrl('nas.local')).toThrow(/not a URL/);
  });

  it('reads a manifest: the bundle URL resolved against it, the hash in lower case', async () => {
    const m = await fetchManifest(srv.url, opts);
    expect(m).toMatchObject({ version: '2.0.0', url: `${srv.url}bundle.raucb`, sha256: sha256Of(blob), notes: 'new gate', manifestUrl: `${srv.url}manifest.json` });
  });

  const bad: [string, string, string, RegExp][] = [
    ['a manifest that is not JSON', 'not-json.json', 'bad_manifest', /not JSON/],
    ['a manifest without a sha256', 'no-hash.json', 'bad_manifest', /sha256/],
    ['a version that is not a version', 'bad-version.json', 'bad_manifest', /'latest' is not MAJOR.MINOR.PATCH/],
    ["another board's channel", 'pi.json', 'wrong_compatible', /for 'hushbox-rpi4', this box takes 'hushbox-x86_64'/],
    ['a manifest too large to be one', 'huge.json', 'bad_manifest', /larger than/],
    ['a manifest that is not there', 'missing.json', 'download_failed', /HTTP 404/],
  ];
  for (const [what, file, code, message] of bad) {
    it(`refuses ${what} with a named error`, async () => {
      await expect(fetchManifest(`${srv.url}${file}`, opts)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    });
  }

  it('names a channel that does not answer', async () => {
    const other = await startChannelServer(tmp.dir);
    await other.close();
    const gone = other.url;
    await expect(fetchManifest(gone, opts)).rejects.toMatchObject({ code: 'download_failed', message: expect.stringMatching(/cannot reach 127\.0\.0\.1/) });
  });

  it('downloads a bundle, checking its sha256', async () => {
    const out = join(tmp.dir, 'dl-good');
    const seen: number[] = [];
    const r = await downloadBundle(`${srv.url}bundle.raucb`, out, { ...opts, maxBytes: 1_000_000, sha256: sha256Of(blob), onProgress: (n) => seen.push(n) });
    expect(r).toEqual({ size: 300_000, sha256: sha256Of(blob) });
    expect(readFileSync(out).equals(readFileSync(blob))).toBe(true);
    expect(seen.at(-1)).toBe(300_000);
  });

  it('refuses a download whose sha256 is not the one expected', async () => {
    const out = join(tmp.dir, 'dl-hash');
    await expect(downloadBundle(`${srv.url}bundle.raucb`, out, { ...opts, maxBytes: 1_000_000, sha256: 'b'.repeat(64) })).rejects.toMatchObject({
      code: 'sha256_mismatch',
      message: expect.stringMatching(new RegExp(`has sha256 ${sha256Of(blob)}, the manifest says b{64}`)),
    });
  });

  it('refuses a bundle over the size cap, announced or streamed', async () => {
    await expect(downloadBundle(`${srv.url}bundle.raucb`, join(tmp.dir, 'dl-big1'), { ...opts, maxBytes: 100_000 })).rejects.toMatchObject({ code: 'too_large', message: expect.stringMatching(/300000 bytes; this box takes at most 100000/) });
    await expect(downloadBundle(`${srv.url}chunked.raucb`, join(tmp.dir, 'dl-big2'), { ...opts, maxBytes: 100_000 })).rejects.toMatchObject({ code: 'too_large', message: expect.stringMatching(/more than 100000 bytes/) });
  });

  it('gives up on a server that goes silent, after the idle timeout', async () => {
    const t0 = Date.now();
    await expect(downloadBundle(`${srv.url}stall.raucb`, join(tmp.dir, 'dl-stall'), { ...opts, idleMs: 700, maxBytes: 1_000_000 })).rejects.toMatchObject({ code: 'download_stalled', message: expect.stringMatching(/sent nothing for 1 s/) });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('refuses a URL that is not http(s)', async () => {
    await expect(downloadBundle('file:///etc/passwd', join(tmp.dir, 'dl-file'), { ...opts, maxBytes: 1000 })).rejects.toMatchObject({ code: 'bad_url' });
    expect(existsSync(join(tmp.dir, 'dl-file'))).toBe(false);
  });
});
