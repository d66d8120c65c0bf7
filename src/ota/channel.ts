// The update channel and bundle downloads: a plain HTTP(S) directory holding
// manifest.json ({version, url, sha256, size?, compatible?, notes?}) and the
// bundles it names. node:http(s) does the HTTP (redirects followed); nothing here
// trusts the server: sizes are capped, a silent server times out, and the
// sha256 is checked before RAUC sees a byte of the file.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Value } from '@sinclair/typebox/value';
import { OtaError } from './rauc.js';
import { ManifestSchema, type ChannelStatus, type Manifest } from './schema.js';
import { isVersion } from './version.js';

const MAX_MANIFEST_BYTES = 64 * 1024;

/** The manifest's URL for a channel: the URL itself when it names a .json file, else manifest.json in that directory. */
export function manifestUrl(channelUrl: string): string {
  let u: URL;
  try {
    u = new URL(channelUrl);
  } catch {
    throw new OtaError('bad_channel_url', `the update channel '${channelUrl}' is not a URL`, 400);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OtaError('bad_channel_url', `the update channel must be http:// or https://, not ${u.protocol}`, 400);
  if (u.pathname.endsWith('.json')) return u.toString();
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return new URL('manifest.json', u).toString();
}

/** A URL the box may download from; anything else is a named error. */
export function checkDownloadUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OtaError('bad_url', `'${url}' is not a URL`, 400);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OtaError('bad_url', `the box downloads over http:// or https:// only, not ${u.protocol}`, 400);
  return u;
}

interface FetchOptions {
  /** No byte for this long: the download is abandoned. */
  idleMs: number;
  signal?: AbortSignal;
}

/** Redirects followed before a download is called a loop. */
const MAX_REDIRECTS = 5;

interface Got {
  res: IncomingMessage;
  /** Where the body came from, after redirects. */
  url: string;
  /** The body as a Node stream; it errors with the reason when the server goes silent or the caller aborts. */
  body: Readable;
  /** Restart the idle timer (a byte came). */
  idle: () => void;
  /** Stop the idle timer (finished, or failed another way). */
  done: () => void;
  /** The named reason the download was abandoned, if it was. */
  why: () => OtaError | undefined;
}

/** One GET without following redirects; rejects with the abort's reason once `signal` fires. */
function getOnce(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers: { accept: '*/*', 'accept-encoding': 'identity' } }, resolve);
    const onAbort = () => req.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal.removeEventListener('abort', onAbort));
    req.on('error', reject);
    req.end();
  });
}

/**
 * GET `url` over node:http(s), following up to MAX_REDIRECTS http(s) redirects; the response's body a Node stream
 * that errors when the server goes silent for idleMs or the caller's signal fires. node:http rather than fetch
 * (undici): in the box under QEMU it moved a 250 MB bundle, hashed, into a file in 44-50 s against 61-66 s (README).
 */
async function get(url: string, what: string, opts: FetchOptions): Promise<Got> {
  const ctl = new AbortController();
  const abort = () => ctl.abort(new OtaError('download_stalled', `${what}: the server sent nothing for ${Math.round(opts.idleMs / 1000)} s`, 504));
  let timer = setTimeout(abort, opts.idleMs);
  const idle = () => {
    clearTimeout(timer);
    timer = setTimeout(abort, opts.idleMs);
  };
  const done = () => clearTimeout(timer);
  const onOuter = () => ctl.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onOuter();
  else opts.signal?.addEventListener('abort', onOuter, { once: true });
  const fail = (err: unknown): never => {
    done();
    opts.signal?.removeEventListener('abort', onOuter);
    throw err;
  };
  let at = new URL(url);
  let res: IncomingMessage;
  for (let hops = 0; ; hops++) {
    try {
      res = await getOnce(at, ctl.signal);
    } catch (err) {
      if (ctl.signal.aborted) return fail(ctl.signal.reason instanceof Error ? ctl.signal.reason : new OtaError('download_failed', `${what}: aborted`, 502));
      const e = err as NodeJS.ErrnoException;
      return fail(new OtaError('download_failed', `${what}: cannot reach ${at.host} (${e.code ?? e.message})`, 502));
    }
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location) {
      res.resume();
      let next: URL;
      try {
        next = new URL(location, at);
      } catch {
        return fail(new OtaError('download_failed', `${what}: ${at} redirects to '${location}', which is not a URL`, 502));
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return fail(new OtaError('download_failed', `${what}: ${at} redirects to ${next.protocol} (${next}); the box follows http(s) only`, 502));
      if (hops >= MAX_REDIRECTS) return fail(new OtaError('download_failed', `${what}: more than ${MAX_REDIRECTS} redirects from ${url} (last to ${next})`, 502));
      idle();
      at = next;
      continue;
    }
    if (status < 200 || status > 299) {
      res.resume();
      return fail(new OtaError('download_failed', `${what}: ${at} answered HTTP ${status} ${res.statusMessage ?? ''}`.trim(), 502));
    }
    break;
  }
  const body = res;
  const onAbort = () => body.destroy(ctl.signal.reason as Error);
  ctl.signal.addEventListener('abort', onAbort, { once: true });
  body.on('close', () => {
    opts.signal?.removeEventListener('abort', onOuter);
    ctl.signal.removeEventListener('abort', onAbort);
  });
  body.on('error', () => done());
  const why = () => (ctl.signal.reason instanceof OtaError ? ctl.signal.reason : undefined);
  return { res, url: at.toString(), body, idle, done, why };
}

/** Fetch and check a channel's manifest; the bundle URL comes back absolute, resolved against the manifest's final URL. */
export async function fetchManifest(channelUrl: string, opts: FetchOptions & { compatible: string }): Promise<Manifest & { url: string; manifestUrl: string }> {
  const url = manifestUrl(channelUrl);
  const { body, idle, done, why, url: from } = await get(url, 'update channel', opts);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      idle();
      size += (chunk as Buffer).length;
      if (size > MAX_MANIFEST_BYTES) {
        body.destroy();
        throw new OtaError('bad_manifest', `${url}: the manifest is larger than ${MAX_MANIFEST_BYTES} bytes; is this the right URL?`, 502);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof OtaError) throw err;
    const stalled = why();
    if (stalled) throw stalled;
    throw new OtaError('download_failed', `${url}: the manifest broke off (${(err as Error).message})`, 502);
  } finally {
    done();
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new OtaError('bad_manifest', `${url}: the manifest is not JSON (${(err as Error).message})`, 502);
  }
  if (!Value.Check(ManifestSchema, json)) {
    const problems = [...Value.Errors(ManifestSchema, json)].slice(0, 4).map((e) => `${e.path.slice(1) || '(manifest)'}: ${e.message}`);
    throw new OtaError('bad_manifest', `${url}: the manifest is not {version, url, sha256[, size, compatible, notes]}: ${problems.join('; ')}`, 502);
  }
  if (!isVersion(json.version)) throw new OtaError('bad_manifest', `${url}: version '${json.version}' is not MAJOR.MINOR.PATCH[-suffix]`, 502);
  if (json.compatible !== undefined && json.compatible !== opts.compatible) {
    throw new OtaError('wrong_compatible', `${url}: the channel is for '${json.compatible}', this box takes '${opts.compatible}'`, 502);
  }
  let bundle: URL;
  try {
    // relative to where the manifest came from (after redirects), as a browser would
    bundle = new URL(json.url, from);
  } catch {
    throw new OtaError('bad_manifest', `${url}: the bundle url '${json.url}' is not a URL`, 502);
  }
  if (bundle.protocol !== 'http:' && bundle.protocol !== 'https:') throw new OtaError('bad_manifest', `${url}: the bundle url must be http(s), not ${bundle.protocol}`, 502);
  return { ...json, sha256: json.sha256.toLowerCase(), url: bundle.toString(), manifestUrl: url };
}

export interface DownloadOptions extends FetchOptions {
  maxBytes: number;
  /** Expected sha256 (hex); the download fails on a mismatch. */
  sha256?: string;
  onProgress?: (received: number, total: number | null) => void;
}

/** Stream `url` to `file` within maxBytes, checking the sha256 when one is given. Leaves the file for the caller to remove on error. */
export async function downloadBundle(url: string, file: string, opts: DownloadOptions): Promise<{ size: number; sha256: string }> {
  checkDownloadUrl(url);
  const { res, body, idle, done, why } = await get(url, 'bundle download', opts);
  const declared = Number(res.headers['content-length'] ?? NaN);
  const total = Number.isSafeInteger(declared) && declared >= 0 ? declared : null;
  if (total !== null && total > opts.maxBytes) {
    done();
    body.destroy();
    throw new OtaError('too_large', `the bundle at ${url} is ${total} bytes; this box takes at most ${opts.maxBytes}`, 413);
  }
  const hash = createHash('sha256');
  let size = 0;
  let lastReport = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      idle();
      size += chunk.length;
      if (size > opts.maxBytes) return cb(new OtaError('too_large', `the bundle at ${url} is more than ${opts.maxBytes} bytes, the most this box takes`, 413));
      hash.update(chunk);
      const now = Date.now();
      if (opts.onProgress && now - lastReport >= 500) {
        lastReport = now;
        opts.onProgress(size, total);
      }
      cb(null, chunk);
    },
  });
  try {
    await pipeline(body, count, createWriteStream(file));
  } catch (err) {
    if (err instanceof OtaError) throw err;
    const stalled = why();
    if (stalled) throw stalled;
    throw new OtaError('download_failed', `the bundle download from ${url} broke off after ${size} bytes (${(err as Error).message})`, 502);
  } finally {
    done();
  }
  if (total !== null && size !== total) throw new OtaError('download_failed', `the bundle download from ${url} ended after ${size} of ${total} bytes`, 502);
  opts.onProgress?.(size, total);
  const digest = hash.digest('hex');
  if (opts.sha256 && digest !== opts.sha256.toLowerCase()) {
    throw new OtaError('sha256_mismatch', `the bundle from ${url} has sha256 ${digest}, the manifest says ${opts.sha256.toLowerCase()}: a damaged download or a wrong manifest`, 422);
  }
  return { size, sha256: digest };
}

export const NO_CHANNEL: ChannelStatus = { url: null, checkedAt: null, latest: null, updateAvailable: false, error: null };
