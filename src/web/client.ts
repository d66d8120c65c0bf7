// The client side of the HTTP API: how the shell commands reach a running box.
import { loadConfig, resolveDataDir } from '../config/config.js';
import { HushboxError } from '../errors.js';

/** The box's base URL: --url, else http://127.0.0.1:<port> from the configuration. */
export function boxUrl(opts: { url?: string; data?: string; config?: string }): string {
  return opts.url ?? `http://127.0.0.1:${loadConfig({ file: opts.config, dataDir: resolveDataDir(opts.data) }).http.port}/`;
}

/** One API call; an error response or an unreachable box becomes a HushboxError naming it. */
export async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new HushboxError('unreachable', `no hushbox answers at ${base} (${String((err as Error).cause ?? (err as Error).message)}); is it running?`);
  }
  const text = await res.text();
  const data: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const e = data as { error?: string; message?: string } | null;
    throw new HushboxError(e?.error ?? 'http_error', `${method} ${path}: ${e?.message ?? res.statusText}`);
  }
  return data;
}
