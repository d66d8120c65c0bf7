import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadBundle, fetchManifest, manifestUrl } from '../../src/ota/channel.js';
import { OtaError } from '../../src/ota/rauc.js';
import { startChannelServer, sha256Of, type ChannelServer } from '../fakes/update-channel.js';
import { tempDir } from '../fakes/temp-context.js';
import { packageRoot } from '../../src/paths.js';

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
    // announces more than it sends, then hangs up
    srv.route('/short.raucb', (_req, res) => {
      res.writeHead(200, { 'content-length': 300_000 });
      res.write(readFileSync(blob).subarray(0, 100_000), () => res.socket?.destroy());
    });
    // redirects: relative, absolute, a loop, and to a scheme the box does not follow
    srv.route('/moved.raucb', (_req, res) => res.writeHead(302, { location: 'bundle.raucb' }).end());
    srv.route('/moved-twice.raucb', (_req, res) => res.writeHead(301, { location: `${srv.url}moved.raucb` }).end());
    srv.route('/stable/manifest.json', (_req, res) => res.writeHead(307, { location: '/manifest.json' }).end());
    srv.route('/loop.raucb', (_req, res) => res.writeHead(302, { location: '/loop.raucb' }).end());
    srv.route('/to-file.raucb', (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
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

  it('follows redirects (relative and absolute) to the bundle and to a channel\'s manifest', async () => {
    const out = join(tmp.dir, 'dl-moved');
    expect(await downloadBundle(`${srv.url}moved-twice.raucb`, out, { ...opts, maxBytes: 1_000_000, sha256: sha256Of(blob) })).toEqual({ size: 300_000, sha256: sha256Of(blob) });
    expect(readFileSync(out).equals(readFileSync(blob))).toBe(true);
    // the bundle's relative URL is resolved against where the manifest was found, as a browser would
    expect(await fetchManifest(`${srv.url}stable/`, opts)).toMatchObject({ version: '2.0.0', url: `${srv.url}bundle.raucb`, manifestUrl: `${srv.url}stable/manifest.json` });
  });

  it('names a redirect loop, and a redirect to anything but http(s)', async () => {
    await expect(downloadBundle(`${srv.url}loop.raucb`, join(tmp.dir, 'dl-loop'), { ...opts, maxBytes: 1000 })).rejects.toMatchObject({ code: 'download_failed', message: expect.stringMatching(/more than 5 redirects/) });
    await expect(downloadBundle(`${srv.url}to-file.raucb`, join(tmp.dir, 'dl-to-file'), { ...opts, maxBytes: 1000 })).rejects.toMatchObject({ code: 'download_failed', message: expect.stringMatching(/redirects to file:.*http\(s\) only/) });
  });

  it('names a download that ends before the size the server announced', async () => {
    await expect(downloadBundle(`${srv.url}short.raucb`, join(tmp.dir, 'dl-short'), { ...opts, maxBytes: 1_000_000 })).rejects.toMatchObject({ code: 'download_failed', message: expect.stringMatching(/broke off after 100000 bytes|ended after 100000 of 300000 bytes/) });
  });

  it('stops a download when the caller aborts, with the caller\'s reason', async () => {
    const ctl = new AbortController();
    const seen: number[] = [];
    const p = downloadBundle(`${srv.url}stall.raucb`, join(tmp.dir, 'dl-abort'), { ...opts, idleMs: 60_000, maxBytes: 1_000_000, signal: ctl.signal, onProgress: (n) => seen.push(n) });
    for (const end = Date.now() + 5000; !seen.length && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
    const why = new OtaError('stopping', 'the supervisor is stopping', 503);
    ctl.abort(why);
    await expect(p).rejects.toBe(why);
    await expect(downloadBundle(`${srv.url}bundle.raucb`, join(tmp.dir, 'dl-abort2'), { ...opts, maxBytes: 1_000_000, signal: ctl.signal })).rejects.toBe(why);
  });

  describe('over HTTPS', () => {
    let https: HttpsServer;
    let httpsUrl: string;
    const f = (n: string) => join(tmp.dir, n);
    beforeAll(async () => {
      const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hushbox test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
      writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
      openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f('server.pem'));
      https = createHttpsServer({ key: readFileSync(f('server.key')), cert: readFileSync(f('server.pem')) }, (_req, res) => {
        res.writeHead(200, { 'content-length': 300_000 }).end(readFileSync(blob));
      });
      await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
      const a = https.address();
      httpsUrl = `https://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/bundle.raucb`;
      srv.route('/to-https.raucb', (_req, res) => res.writeHead(302, { location: httpsUrl }).end());
    });
    afterAll(() => new Promise<void>((r) => https.close(() => r())));

    it('refuses a server whose certificate the box does not trust, after a redirect to it too', async () => {
      await expect(downloadBundle(httpsUrl, join(tmp.dir, 'dl-tls'), { ...opts, maxBytes: 1_000_000 })).rejects.toMatchObject({ code: 'download_failed', message: expect.stringMatching(/cannot reach 127\.0\.0\.1:\d+ \(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/) });
      await expect(downloadBundle(`${srv.url}to-https.raucb`, join(tmp.dir, 'dl-tls2'), { ...opts, maxBytes: 1_000_000 })).rejects.toMatchObject({ code: 'download_failed', message: expect.stringMatching(/cannot reach 127\.0\.0\.1:\d+/) });
    });

    it('downloads from a server signed by a CA the box trusts (a process with NODE_EXTRA_CA_CERTS)', async () => {
      const out = f('dl-https');
      const script = f('dl-https.ts');
      writeFileSync(script, `import { downloadBundle } from ${JSON.stringify(join(packageRoot, 'src/ota/channel.ts'))};\nconsole.log(JSON.stringify(await downloadBundle(${JSON.stringify(`${srv.url}to-https.raucb`)}, ${JSON.stringify(out)}, { idleMs: 5000, maxBytes: 1_000_000 })));\n`);
      const { stdout } = await promisify(execFile)(join(packageRoot, 'node_modules/.bin/vite-node'), [script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: f('ca.pem') }, timeout: 60_000 });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ size: 300_000, sha256: sha256Of(blob) });
      expect(readFileSync(out).equals(readFileSync(blob))).toBe(true);
    }, 90_000);
  });

  it('refuses a URL that is not http(s)', async () => {
    await expect(downloadBundle('file:///etc/passwd', join(tmp.dir, 'dl-file'), { ...opts, maxBytes: 1000 })).rejects.toMatchObject({ code: 'bad_url' });
    expect(existsSync(join(tmp.dir, 'dl-file'))).toBe(false);
  });
});
