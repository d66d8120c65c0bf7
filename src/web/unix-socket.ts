import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../errors.js';
import { localSockets } from './guard.js';

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * The same app on a Unix socket, for the `hushbox` command on the box: mode 0600 (root only on
 * the box), and every request on it is the owner's (guard.ts: localSockets). A socket file left by
 * a supervisor that was killed is replaced; one that answers belongs to a running box and is not.
 */
export async function listenUnix(app: FastifyInstance, path: string): Promise<Server> {
  try {
    const st = lstatSync(path);
    if (!st.isSocket()) throw new ConfigError(`${path} exists and is not a socket: remove it or set auth.socket`);
    if (await answers(path)) throw new ConfigError(`${path}: another hushbox answers there; stop it or use another --data directory`);
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const server = createServer((req, res) => app.routing(req, res));
  server.on('connection', (s) => localSockets.add(s));
  // bind() happens inside listen(): under this umask the socket is never reachable by others, not even for a moment.
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(old);
  }
  chmodSync(path, 0o600);
  return server;
}

export async function closeUnix(server: Server, path: string): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
