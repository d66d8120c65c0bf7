import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { EngineService } from '../../src/engine/engine-service.js';
import { EventBus } from '../../src/events.js';
import { createLogger } from '../../src/log.js';
import { defaultEngineBinary } from '../../src/paths.js';

const dataDir = mkdtempSync(join(tmpdir(), 'hushbox-svc-alsa-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the engine service with an ALSA device that is not there', () => {
  it('reports waiting_for_device and keeps the engine running instead of failing it', async () => {
    const config = defaultConfig({});
    config.engine = { ...config.engine, binary: defaultEngineBinary(), backend: 'alsa', device: 'hw:HushboxNoSuchCard', priority: 0 };
    const bus = new EventBus(createLogger('silent'));
    const states: string[] = [];
    bus.on('engineStatus', 'test', (s) => {
      states.push(s.state);
    });
    const svc = new EngineService({ config, dataDir, log: createLogger('silent'), bus, version: 'test', startedAt: new Date() });
    try {
      await svc.start();
      for (let i = 0; i < 200 && svc.status().state !== 'waiting_for_device'; i++) await new Promise((r) => setTimeout(r, 10));
      expect(svc.status()).toMatchObject({ state: 'waiting_for_device', reason: null });
      // Still waiting a while later: not failed, not restarted.
      await new Promise((r) => setTimeout(r, 1500));
      expect(svc.status()).toMatchObject({ state: 'waiting_for_device', restarts: 0 });
      expect(svc.status().pid).toBeGreaterThan(0);
      expect(svc.telemetry()).toMatchObject({ state: 'waiting_for_device', deviceWaits: 1, periodsProcessed: 0 });
    } finally {
      await svc.stop();
    }
    expect(states).toContain('waiting_for_device');
    expect(states).not.toContain('failed');
  });
});
