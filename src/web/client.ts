// The client side of the HTTP API: how the shell commands reach a running box. On the box itself
// that is the root-only Unix socket (its requests are the owner's); elsewhere a URL and a token.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { apiSocketPath, loadConfig, resolveDataDir } from '../config/config.js';
import { HushboxError } from '../errors.js';

export interface BoxTarget {
  /** The box's base URL (also the label in messages). */
  url: string;
  /** The Unix socket to use instead of the URL. */
  socket?: string;
  /** Bearer token for the URL. */
  token?: string;
}

export interface TargetOptions {
  url?: string;
  token?: string;
  data?: string;
  config?: string;
}

/** Options every command that talks to a box takes (for parseArgs). */
export const TARGET_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  data: { type: 'string' },
  config: { type: 'string' },
} as const;

/**
 * --url (with --token or $HUSHBOX_TOKEN) when given; else the box's Unix socket when it exists;
 * else http://127.0.0.1:<port> from the configuration, with the token.
 */
export function boxTarget(opts: TargetOptions, env: Record<string, string | undefined> = process.env): BoxTarget {
  const token = opts.token ?? env.HUSHBOX_TOKEN;
  if (opts.url) return { url: opts.url, token };
  const dataDir = resolveDataDir(opts.data, env);
  const config = loadConfig({ file: opts.config, dataDir, env });
  const url = `http://127.0.0.1:${config.http.port}/`;
  const socket = apiSocketPath(config, dataDir);
  if (socket && existsSync(socket)) return { url, socket };
  return { url, token };
}

interface Answer {
  status: number;
  statusText: string;
  text: string;
}

function overSocket(socket: string, method: string, path: string, headers: Record<string, string>, body?: string | Readable): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { ...headers, host: 'localhost' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body instanceof Readable) body.on('error', (err) => req.destroy(err)).pipe(req);
    else req.end(body);
  });
}

/** The headers every request of the shell carries: the request header, and the token over a URL. */
function baseHeaders(target: BoxTarget): Record<string, string> {
  const headers: Record<string, string> = { 'x-hushbox-request': '1' };
  if (!target.socket && target.token) headers.authorization = `Bearer ${target.token}`;
  return headers;
}

async function send(target: BoxTarget, method: string, path: string, headers: Record<string, string>, body?: string | Readable): Promise<unknown> {
  let res: Answer;
  try {
    if (target.socket) {
      res = await overSocket(target.socket, method, path, headers, body);
    } else {
      const stream = body instanceof Readable;
      const r = await fetch(new URL(path, target.url), {
        method,
        headers,
        body: stream ? (Readable.toWeb(body) as ReadableStream<Uint8Array>) : body,
        ...(stream ? { duplex: 'half' } : {}),
      } as RequestInit);
      res = { status: r.status, statusText: r.statusText, text: await r.text() };
    }
  } catch (err) {
    const where = target.socket ?? target.url;
    throw new HushboxError('unreachable', `no hushbox answers at ${where} (${String((err as Error).cause ?? (err as Error).message)}); is it running?`);
  }
  let data: unknown = null;
  try {
    data = res.text ? JSON.parse(res.text) : null;
  } catch {
    data = { message: res.text.slice(0, 200) };
  }
  if (res.status < 200 || res.status >= 300) {
    const e = data as { error?: string; message?: string } | null;
    if (res.status === 401 && !target.socket) {
      throw new HushboxError(e?.error ?? 'unauthorized', `${method} ${path}: ${e?.message ?? res.statusText} (give a token with --token or HUSHBOX_TOKEN: make one on the front panel)`);
    }
    throw new HushboxError(e?.error ?? 'http_error', `${method} ${path}: ${e?.message ?? res.statusText}`);
  }
  return data;
}

/** One API call; an error response or an unreachable box becomes a HushboxError naming it. */
export async function call(target: BoxTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const headers = baseHeaders(target);
  if (body !== undefined) headers['content-type'] = 'application/json';
  return send(target, method, path, headers, body === undefined ? undefined : JSON.stringify(body));
}

/** A streamed upload (an update bundle) as the body of one call. */
export async function callStream(target: BoxTarget, path: string, body: Readable, size: number, contentType: string): Promise<unknown> {
  return send(target, 'POST', path, { ...baseHeaders(target), 'content-type': contentType, 'content-length': String(size) }, body);
}
