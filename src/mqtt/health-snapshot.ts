import { dataReserveBytes } from '../config/data-space.js';
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, uptime } from 'node:os';
import { join } from 'node:path';
import type { EngineService } from '../engine/engine-service.js';
import type { ServiceContext } from '../service.js';
import type { HealthPayload } from './topics.js';

/** Where `<base>/health` comes from; the health service can take this place later. */
export type HealthSource = () => HealthPayload;

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** CPU temperature in °C from the kernel's thermal zones, preferring a CPU/SoC zone; null if none. */
export function cpuTemperature(sysRoot = '/sys'): number | null {
  const base = join(sysRoot, 'class', 'thermal');
  let zones: string[];
  try {
    zones = readdirSync(base).filter((z) => z.startsWith('thermal_zone'));
  } catch {
    return null;
  }
  const read = (z: string) => {
    try {
      const type = readFileSync(join(base, z, 'type'), 'utf8').trim();
      const milli = Number(readFileSync(join(base, z, 'temp'), 'utf8').trim());
      return Number.isFinite(milli) ? { type, c: milli / 1000 } : undefined;
    } catch {
      return undefined;
    }
  };
  const all = zones.map(read).filter((x) => x !== undefined);
  const cpu = all.find((z) => /cpu|pkg|soc|core/i.test(z.type)) ?? all[0];
  return cpu ? round(cpu.c) : null;
}

/** Health from what the engine service and the OS give. */
export function engineHealthSource(ctx: ServiceContext, engine: EngineService): HealthSource {
  return () => {
    const t = engine.telemetry();
    const status = engine.status();
    let disk: HealthPayload['disk'] = null;
    try {
      const s = statfsSync(ctx.dataDir);
      disk = { data_total_mb: round((s.blocks * s.bsize) / 2 ** 20), data_free_mb: round((s.bavail * s.bsize) / 2 ** 20), data_full: s.bavail * s.bsize < dataReserveBytes() };
    } catch {
      disk = null;
    }
    return {
      time: new Date().toISOString(),
      engine_state: status.state,
      dsp_load: t ? round(t.dspLoadMean * 100, 2) : null,
      dsp_load_max: t ? round(t.dspLoadMax * 100, 2) : null,
      xruns: t ? t.xruns : null,
      missed_deadlines: t ? t.missedDeadlines : null,
      latency_ms: t ? t.latencyMs : null,
      cpu_temperature: cpuTemperature(),
      cpu_load: round((loadavg()[0]! / Math.max(1, cpus().length)) * 100),
      memory: { total_mb: round(totalmem() / 2 ** 20), available_mb: round(freemem() / 2 ** 20), supervisor_rss_mb: round(process.memoryUsage.rss() / 2 ** 20) },
      disk,
      uptime_s: round((Date.now() - ctx.startedAt.getTime()) / 1000),
      system_uptime_s: round(uptime()),
      engine_restarts: status.restarts,
    };
  };
}
