import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { defaultConfig } from '../../src/config/config.js';
import type { Config } from '../../src/config/schema.js';
import { EventBus } from '../../src/events.js';
import type { ServiceContext } from '../../src/service.js';

export function tempDir(prefix = 'hushbox-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const silentLog = () => pino({ level: process.env.HUSHBOX_TEST_LOG ?? 'silent' });

/** A service context over a temporary data directory. */
export function makeContext(dataDir: string, patch: (c: Config) => void = () => {}): ServiceContext {
  const config = defaultConfig();
  config.deviceId = 'testbox';
  config.http.port = 0;
  config.http.host = '127.0.0.1';
  config.mqtt.enabled = false;
  patch(config);
  const log = silentLog();
  return { config, dataDir, log, bus: new EventBus(log), version: '0.1.0-test', startedAt: new Date() };
}
