import { pino } from 'pino';
import { defaultConfig } from '../../src/config/config.js';
import { EventBus } from '../../src/events.js';
import type { ServiceContext } from '../../src/service.js';

/** A service context with the default config and a silent logger. */
export function testContext(overrides: Partial<ServiceContext> = {}): ServiceContext {
  const log = pino({ level: 'silent' });
  return {
    config: defaultConfig({}),
    dataDir: '/nonexistent',
    log,
    bus: new EventBus(log),
    version: '0.0.0-test',
    startedAt: new Date(),
    ...overrides,
  };
}
