import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { webPublicDir } from '../../paths.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The front panel: index.html, the bundle scripts/build-page.mjs made (app.js, app.css), the
 * manifest and the icon, read once and served from memory. Compressible files are kept gzipped
 * too: a phone on a weak Wi-Fi link gets about a third of the bytes.
 */
export const staticRoutes: FastifyPluginAsync = async (app) => {
  const files = new Map<string, { body: Buffer; gzip: Buffer | null; type: string }>();
  const { gzipSync } = await import('node:zlib');
  for (const name of await readdir(webPublicDir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = await readFile(join(webPublicDir, name));
    files.set(name, { body, type, gzip: /^(text|application)\//.test(type) && body.length > 1024 ? gzipSync(body, { level: 9 }) : null });
  }
  if (!existsSync(join(webPublicDir, 'app.js'))) app.log.error('the front panel is not built (src/web/public/app.js is missing): run npm run build');
  const send = (name: string, acceptEncoding: string | undefined, reply: import('fastify').FastifyReply) => {
    const f = files.get(name);
    if (!f) return reply.code(404).send({ error: 'not_found', message: `no asset ${name}` });
    reply.type(f.type).header('cache-control', 'no-cache').header('vary', 'accept-encoding');
    if (f.gzip && /\bgzip\b/.test(acceptEncoding ?? '')) return reply.header('content-encoding', 'gzip').send(f.gzip);
    return reply.send(f.body);
  };
  app.get('/', { schema: { hide: true } }, async (request, reply) => send('index.html', request.headers['accept-encoding'], reply));
  app.get<{ Params: { file: string } }>('/assets/:file', { schema: { hide: true } }, async (request, reply) =>
    send(request.params.file === 'index.html' ? '' : request.params.file, request.headers['accept-encoding'], reply),
  );
};
