import type { Config } from './config/schema.js';
import type { EventBus } from './events.js';
import type { Logger } from './log.js';

/** What every service is given: one object, not eight arguments. */
export interface ServiceContext {
  config: Config;
  dataDir: string;
  log: Logger;
  bus: EventBus;
  version: string;
  startedAt: Date;
}

/** A capability of the supervisor. Constructors only assign; stop() is idempotent. */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
