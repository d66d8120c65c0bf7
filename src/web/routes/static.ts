import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { webPublicDir } from '../../paths.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The front panel: a few static files, served from memory. */
export const staticRoutes: FastifyPluginAsync = async (app) => {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of ['index.html', 'app.js', 'updates.js', 'recordings.js', 'midi.js', 'account.js', 'style.css']) {
    const ext = name.slice(name.lastIndexOf('.'));
    files.set(name, { body: await readFile(join(webPublicDir, name)), type: TYPES[ext] ?? 'application/octet-stream' });
  }
  const serve = (name: string) => files.get(name)!;
  app.get('/', { schema: { hide: true } }, async (_req, reply) => {
    const f = serve('index.html');
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });
  app.get<{ Params: { file: string } }>('/assets/:file', { schema: { hide: true } }, async (request, reply) => {
    const f = files.get(request.params.file);
    if (!f) return reply.code(404).send({ error: 'not_found', message: `no asset ${request.params.file}` });
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });
};
