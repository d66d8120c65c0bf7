// Health: the board's part on fixtures, the machine's part from systeminformation, the engine's from telemetry.
import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { HealthService } from '../../src/health/health-service.js';
import { collectHealth, cpuLoadPercent, decodeThrottled, engineHealth, HealthSchema, loadAverage, memoryInfo, readThrottling, thermalTemperature, type Health } from '../../src/health/health.js';
import { EngineService } from '../../src/engine/engine-service.js';
import { RootFs } from '../../src/system/root-fs.js';
import { fixturePath } from '../fakes/fixtures.js';
import { contextWith, waitFor } from '../fakes/context.js';

const fs = (n: Parameters<typeof fixturePath>[0]) => new RootFs(fixturePath(n));

describe('board health', () => {
  it('decodes the Pi firmware throttling bits', () => {
    expect(decodeThrottled('0x0')).toMatchObject({ raw: '0x0', underVoltageNow: false, underVoltageOccurred: false });
    expect(decodeThrottled('throttled=0x50005'.replace('throttled=', ''))).toMatchObject({
      underVoltageNow: true,
      throttledNow: true,
      frequencyCappedNow: false,
      underVoltageOccurred: true,
      throttledOccurred: true,
      softTempLimitOccurred: false,
    });
    expect(decodeThrottled('garbage!')).toBeNull();
  });

  it('reads throttling where the board reports it, and null where it does not', async () => {
    expect(await readThrottling(fs('pi4-scarlett-solo'))).toMatchObject({ raw: '0x50000', underVoltageOccurred: true, underVoltageNow: false });
    expect(await readThrottling(fs('x86-box'))).toBeNull();
  });

  it('reads the CPU temperature from the CPU thermal zone and the load average', () => {
    expect(thermalTemperature(fs('pi4-scarlett-solo'))).toBe(48.3);
    expect(thermalTemperature(fs('x86-box'))).toBe(52); // x86_pkg_temp, not the ACPI zone
    expect(thermalTemperature(fs('no-interface'))).toBeNull();
    expect(loadAverage(fs('pi4-scarlett-solo'))).toEqual({ load1: 0.52, load5: 0.41, load15: 0.3 });
  });

  it('has no engine figures while the engine does not run', () => {
    expect(engineHealth({ state: 'waiting_for_device', pid: null, backend: 'alsa', device: 'hw:Gen', reason: 'unplugged', restarts: 2 }, null)).toEqual({
      state: 'waiting_for_device',
      restarts: 2,
      reason: 'unplugged',
      dspLoad: null,
      dspLoadMax: null,
      xruns: null,
      jitterUs: null,
      jitterMaxUs: null,
      latencyMs: null,
    });
  });
});

describe('the machine part, read from /proc without child processes', () => {
  it('gives the CPU load between two samples, and memory from /proc/meminfo', () => {
    const fs = new RootFs('/');
    expect(cpuLoadPercent(fs)).toBeNull(); // nothing to compare the first sample with
    const end = Date.now() + 300;
    let x = 0;
    while (Date.now() < end) x += Math.sqrt(x + 1); // keep one core busy
    const load = cpuLoadPercent(fs);
    expect(x).toBeGreaterThan(0);
    expect(load).not.toBeNull();
    expect(load!).toBeGreaterThan(0);
    expect(load!).toBeLessThanOrEqual(100);
    const meminfo = /^MemTotal:\s+(\d+) kB/m.exec(fs.read('proc/meminfo')!)![1]!;
    const mem = memoryInfo(fs);
    expect(mem.total).toBe(Number(meminfo) * 1024);
    expect(mem.available).toBeGreaterThan(0);
    expect(mem.available).toBeLessThan(mem.total);
  });
});

describe('health snapshots', () => {
  it('collects a complete snapshot that matches its schema, with the real engine running', async () => {
    const ctx = contextWith({ engine: { priority: 0 }, system: { root: fixturePath('pi4-scarlett-solo') } });
    const engine = new EngineService(ctx);
    await engine.start();
    try {
      await waitFor('telemetry', () => (engine.telemetry()?.periodsProcessed ?? 0) > 10);
      const h = await collectHealth({ fs: new RootFs(fixturePath('pi4-scarlett-solo')), dataDir: ctx.dataDir, startedAt: ctx.startedAt, engine });
      expect(Value.Errors(HealthSchema, h).First()).toBeUndefined();
      expect(h.uptimeS).toBe(4162.07);
      expect(h.cpu.temperatureC).toBe(48.3);
      expect(h.cpu.frequencyMhz).toBe(600); // scaling_cur_freq 600000 kHz on every core
      expect(h.throttling?.underVoltageOccurred).toBe(true);
      expect(h.memory.totalBytes).toBeGreaterThan(0);
      expect(h.memory.usedPercent).toBeGreaterThan(0);
      expect(h.disk!.totalBytes).toBeGreaterThan(0);
      expect(h.engine.state).toBe('running');
      expect(h.engine.latencyMs).toBeGreaterThan(0);
      expect(h.engine.dspLoad).toBeGreaterThanOrEqual(0);
      expect(h.engine.xruns).toBeGreaterThanOrEqual(0);
    } finally {
      await engine.stop();
    }
  });

  it('puts a health event on the bus at start and then periodically', async () => {
    const ctx = contextWith({ engine: { priority: 0 }, system: { root: fixturePath('x86-box') } });
    const engine = new EngineService(ctx);
    const seen: Health[] = [];
    ctx.bus.on('health', 'test', (h) => void seen.push(h));
    const svc = new HealthService(ctx, engine, 300);
    await svc.start();
    try {
      expect(seen).toHaveLength(1);
      expect(seen[0]!.engine.state).toBe('stopped');
      await waitFor('two more samples', () => seen.length >= 3, 5000);
      expect(seen[2]!.cpu.temperatureC).toBe(52);
    } finally {
      await svc.stop();
      await svc.stop();
    }
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 700));
    expect(seen.length).toBe(n);
  });
});
