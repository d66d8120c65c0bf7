import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename, join, normalize } from 'node:path';

export interface ChannelServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** Requests seen, by path. */
  hits: string[];
  /** Answer `path` with a handler of its own instead of a file. */
  route(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  close(): Promise<void>;
}

/** A real HTTP server for an update channel: the files of `dir` (manifest.json, bundles), plus routes a test adds. */
export async function startChannelServer(dir: string): Promise<ChannelServer> {
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.push(path);
    const handler = routes.get(path);
    if (handler) return handler(req, res);
    const file = join(dir, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size, 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    hits,
    route: (path, handler) => routes.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Write `dir`/manifest.json for `bundle` (relative url, its real sha256) and return the manifest. */
export function writeManifest(dir: string, bundle: string, version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const m = { version, url: basename(bundle), sha256: sha256Of(bundle), size: statSync(bundle).size, notes: `hushbox ${version}`, ...extra };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
  return m;
}
