import type { EngineService } from '../engine/engine-service.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import { RootFs } from '../system/root-fs.js';
import { collectHealth, type Health } from './health.js';

export const HEALTH_INTERVAL_MS = 5000;

/** Samples the box's health every few seconds and puts it on the bus (`health`) for MQTT and the page. */
export class HealthService implements Service {
  readonly name = 'health';
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private last: Health | null = null;
  private sampling: Promise<Health> | undefined;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly engine: EngineService,
    private readonly intervalMs = HEALTH_INTERVAL_MS,
  ) {
    this.log = ctx.log.child({ service: this.name });
  }

  async start(): Promise<void> {
    if (this.timer) return;
    await this.sample();
    this.timer = setInterval(() => void this.sample().catch((err: unknown) => this.log.warn({ err }, 'health sample failed')), this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling?.catch(() => undefined);
  }

  /** The latest snapshot as it is (null before the first). */
  latest(): Health | null {
    return this.last;
  }

  /** The latest snapshot; a fresh one when there is none yet. */
  async current(): Promise<Health> {
    return this.last ?? this.sample();
  }

  /** Take a snapshot now (one at a time) and emit it. */
  sample(): Promise<Health> {
    if (this.sampling) return this.sampling;
    this.sampling = collectHealth({
      fs: new RootFs(this.ctx.config.system?.root ?? '/'),
      dataDir: this.ctx.dataDir,
      startedAt: this.ctx.startedAt,
      engine: this.engine,
    })
      .then((h) => {
        // The engine part is live; the system part is as sampled.
        this.last = h;
        this.ctx.bus.emit('health', h);
        return h;
      })
      .finally(() => {
        this.sampling = undefined;
      });
    return this.sampling;
  }
}
