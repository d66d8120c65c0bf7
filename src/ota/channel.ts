// The update channel and bundle downloads: a plain HTTP(S) directory holding
// manifest.json ({version, url, sha256, size?, compatible?, notes?}) and the
// bundles it names. Node's own fetch (undici) does the HTTP; nothing here
// trusts the server: sizes are capped, a silent server times out, and the
// sha256 is checked before RAUC sees a byte of the file.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
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

/** GET `url`, the response's body a Node stream that errors when the server goes silent for idleMs. */
async function get(url: string, what: string, opts: FetchOptions): Promise<{ res: Response; body: Readable; idle: () => void; done: () => void; why: () => OtaError | undefined }> {
  const ctl = new AbortController();
  const abort = () => ctl.abort(new OtaError('download_stalled', `${what}: the server sent nothing for ${Math.round(opts.idleMs / 1000)} s`, 504));
  let timer = setTimeout(abort, opts.idleMs);
  const idle = () => {
    clearTimeout(timer);
    timer = setTimeout(abort, opts.idleMs);
  };
  const done = () => clearTimeout(timer);
  const onOuter = () => ctl.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  let res: Response;
  try {
    res = await fetch(url, { signal: ctl.signal, redirect: 'follow', headers: { accept: '*/*' } });
  } catch (err) {
    done();
    if (ctl.signal.reason instanceof OtaError) throw ctl.signal.reason;
    const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
    throw new OtaError('download_failed', `${what}: cannot reach ${new URL(url).host} (${cause?.code ?? cause?.message ?? (err as Error).message})`, 502);
  }
  if (!res.ok || !res.body) {
    done();
    await res.body?.cancel().catch(() => undefined);
    throw new OtaError('download_failed', `${what}: ${url} answered HTTP ${res.status} ${res.statusText}`.trim(), 502);
  }
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  body.on('close', () => opts.signal?.removeEventListener('abort', onOuter));
  // An abort surfaces as a generic AbortError from the stream; name why it was aborted.
  body.on('error', () => done());
  const why = () => (ctl.signal.reason instanceof OtaError ? ctl.signal.reason : undefined);
  return { res, body, idle, done, why };
}

/** Fetch and check a channel's manifest; the bundle URL comes back absolute. */
export async function fetchManifest(channelUrl: string, opts: FetchOptions & { compatible: string }): Promise<Manifest & { url: string; manifestUrl: string }> {
  const url = manifestUrl(channelUrl);
  const { body, idle, done, why } = await get(url, 'update channel', opts);
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
    bundle = new URL(json.url, url);
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
  const declared = Number(res.headers.get('content-length') ?? NaN);
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
      if (opts.onProgress && now - lastReport >= 200) {
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
