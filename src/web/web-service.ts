import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { apiSocketPath } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Service } from '../service.js';
import { buildApp, type WebDeps } from './app.js';
import { CompiledSchemas, compiledSchemasDir } from './compiled-schemas.js';
import { closeUnix, listenUnix } from './unix-socket.js';

/** Serves the front panel and the HTTP API. */
export class WebService implements Service {
  readonly name = 'web';
  private app: FastifyInstance | undefined;
  private unix: { server: Server; path: string } | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: WebDeps) {
    this.log = deps.ctx.log.child({ service: this.name });
  }

  async start(): Promise<void> {
    if (this.app) return;
    const schemas = this.deps.schemas ?? new CompiledSchemas(compiledSchemasDir);
    const app = await buildApp({ ...this.deps, schemas });
    const { host, port } = this.deps.ctx.config.http;
    await app.listen({ host, port });
    this.app = app;
    const path = apiSocketPath(this.deps.ctx.config, this.deps.ctx.dataDir);
    if (path) {
      try {
        this.unix = { server: await listenUnix(app, path), path };
        this.log.info({ path }, 'shell socket listening');
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
    this.log.info({ url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${this.port()}` }, 'front panel listening');
    if (schemas.present()) this.log.info({ ...schemas.counts }, 'API validators and serializers loaded from the image');
  }

  /** Builds the app (not listening) and writes its routes' compiled validators and serializers into `dir`: `hushbox compile-schemas`. */
  async compileSchemas(dir: string): Promise<number> {
    const writer = new CompiledSchemas(dir, 'write');
    const app = await buildApp({ ...this.deps, schemas: writer });
    await app.ready();
    await app.close();
    return writer.counts.written;
  }

  /** The port actually bound (useful when configured as 0). */
  port(): number {
    const addr = this.app?.server.address();
    return addr && typeof addr === 'object' ? addr.port : this.deps.ctx.config.http.port;
  }

  async stop(): Promise<void> {
    const app = this.app;
    const unix = this.unix;
    this.app = undefined;
    this.unix = undefined;
    if (unix) await closeUnix(unix.server, unix.path);
    await app?.close();
  }
}
