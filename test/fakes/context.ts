import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import type { Config } from '../../src/config/schema.js';
import { EventBus } from '../../src/events.js';
import type { ServiceContext } from '../../src/service.js';

/** A service context with the default config, a silent logger and a data directory of its own. */
export function testContext(overrides: Partial<ServiceContext> = {}): ServiceContext {
  const log = pino({ level: 'silent' });
  return {
    config: defaultConfig({}),
    dataDir: contextDataDir(),
    log,
    bus: new EventBus(log),
    version: '0.0.0-test',
    startedAt: new Date(),
    ...overrides,
  };
}

/** A fresh temporary directory and its remover. */
export function tempDir(prefix = 'hushbox-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

type DeepPartial<T> = { [K in keyof T]?: NonNullable<T[K]> extends object ? DeepPartial<NonNullable<T[K]>> : T[K] };

const contextDirs: string[] = [];
afterAll(() => {
  for (const d of contextDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data directory of its own for one test context, removed after the test file. */
function contextDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hushbox-ctx-'));
  contextDirs.push(dir);
  return dir;
}

/**
 * A service context over the default config with overrides; silent unless
 * HUSHBOX_TEST_LOG is set. Its data directory is a fresh one (services keep
 * state there: presets, the audio settings chosen).
 */
export function contextWith(overrides: DeepPartial<Config> = {}, dataDir = contextDataDir()): ServiceContext {
  const base = defaultConfig({ ...process.env, HUSHBOX_TUNE: undefined, HUSHBOX_ROOT: undefined });
  // A unique device id keeps link names apart between test files.
  base.deviceId = `test${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  const config = {
    ...base,
    ...overrides,
    http: { ...base.http, ...overrides.http },
    engine: { ...base.engine, ...overrides.engine },
    system: { ...base.system!, ...overrides.system },
  } as Config;
  const log = pino({ level: process.env.HUSHBOX_TEST_LOG ?? 'silent' });
  return { config, dataDir, log, bus: new EventBus(log), version: 'test', startedAt: new Date() };
}

/** Poll until the check returns a value (not undefined/false), or fail after the timeout naming what was awaited. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, stepMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
