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
  /** The app being built ahead of start() (prepare()). */
  private building: Promise<FastifyInstance> | undefined;
  private readonly schemas: CompiledSchemas;
  private readonly log: Logger;

  constructor(private readonly deps: WebDeps) {
    this.log = deps.ctx.log.child({ service: this.name });
    this.schemas = deps.schemas ?? new CompiledSchemas(compiledSchemasDir);
  }

  /**
   * Builds the app ahead of start(), which then only listens: the supervisor does it while it waits for udev to
   * show the boot's sound cards (under QEMU the build took 7-10 s of a power-on). Needs the auth service started.
   */
  prepare(): void {
    if (this.app || this.building) return;
    const building = this.build();
    // start() awaits it and throws what it threw; stop() closes what it built.
    building.catch(() => undefined);
    this.building = building;
  }

  private async build(): Promise<FastifyInstance> {
    const t0 = performance.now();
    const app = await buildApp({ ...this.deps, schemas: this.schemas });
    await app.ready();
    this.log.info({ buildMs: Math.round(performance.now() - t0) }, 'web app built');
    return app;
  }

  async start(): Promise<void> {
    if (this.app) return;
    const building = this.building ?? this.build();
    this.building = undefined;
    const app = await building;
    const { host, port } = this.deps.ctx.config.http;
    try {
      await app.listen({ host, port });
    } catch (err) {
      await app.close();
      throw err;
    }
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
    if (this.schemas.present()) this.log.info({ ...this.schemas.counts }, 'API validators and serializers loaded from the image');
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
    const building = this.building;
    this.app = undefined;
    this.unix = undefined;
    this.building = undefined;
    if (unix) await closeUnix(unix.server, unix.path);
    await app?.close();
    // Built ahead, never started (the supervisor's start failed before the web's turn).
    if (building) await (await building.catch(() => undefined))?.close();
  }
}
