import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, freemem, totalmem, uptime as osUptime } from 'node:os';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { dataReserveBytes } from '../config/data-space.js';
import { Type, type Static } from '@sinclair/typebox';
import type { EngineStatus, TelemetryFrame } from '../engine/telemetry.js';
import type { RootFs } from '../system/root-fs.js';

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);

export const ThrottlingSchema = Type.Object(
  {
    raw: Type.String({ description: "the firmware's get_throttled bits, hex" }),
    underVoltageNow: Type.Boolean(),
    frequencyCappedNow: Type.Boolean(),
    throttledNow: Type.Boolean(),
    softTempLimitNow: Type.Boolean(),
    underVoltageOccurred: Type.Boolean(),
    frequencyCappedOccurred: Type.Boolean(),
    throttledOccurred: Type.Boolean(),
    softTempLimitOccurred: Type.Boolean(),
  },
  { description: 'Raspberry Pi firmware throttling flags; null where the board does not report them' },
);
export type Throttling = Static<typeof ThrottlingSchema>;

export const HealthSchema = Type.Object({
  time: Type.String({ description: 'ISO 8601, when the system part was sampled' }),
  uptimeS: Type.Number({ description: 'system uptime' }),
  supervisorUptimeS: Type.Number(),
  cpu: Type.Object({
    temperatureC: Nullable(Type.Number()),
    loadPercent: Nullable(Type.Number({ description: 'all cores, since the last sample' })),
    load1: Type.Number(),
    load5: Type.Number(),
    load15: Type.Number(),
    frequencyMhz: Nullable(Type.Number()),
    cores: Type.Integer(),
  }),
  throttling: Type.Union([ThrottlingSchema, Type.Null()]),
  memory: Type.Object({ totalBytes: Type.Number(), availableBytes: Type.Number(), usedPercent: Type.Number() }),
  disk: Type.Union([
    Type.Object({
      path: Type.String(),
      totalBytes: Type.Number(),
      freeBytes: Type.Number(),
      usedPercent: Type.Number(),
      full: Type.Boolean({ description: 'free space is below the reserve kept for settings: new presets, imports and uploads are refused (507)' }),
    }),
    Type.Null(),
  ]),
  engine: Type.Object({
    state: Type.String(),
    restarts: Type.Integer(),
    reason: Type.Union([Type.String(), Type.Null()]),
    dspLoad: Nullable(Type.Number()),
    dspLoadMax: Nullable(Type.Number()),
    xruns: Nullable(Type.Number()),
    jitterUs: Nullable(Type.Number()),
    jitterMaxUs: Nullable(Type.Number()),
    latencyMs: Nullable(Type.Number()),
  }),
});
export type Health = Static<typeof HealthSchema>;

/** The data directory, or its nearest existing parent (the partition it will be on). */
function existingDir(p: string): string {
  let d = p;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

/** Decode the Raspberry Pi firmware's get_throttled bits. */
export function decodeThrottled(hex: string): Throttling | null {
  const m = /(?:0x)?([0-9a-f]+)\s*$/i.exec(hex.trim());
  if (!m) return null;
  const v = parseInt(m[1]!, 16);
  const bit = (n: number) => (v & (1 << n)) !== 0;
  return {
    raw: `0x${v.toString(16)}`,
    underVoltageNow: bit(0),
    frequencyCappedNow: bit(1),
    throttledNow: bit(2),
    softTempLimitNow: bit(3),
    underVoltageOccurred: bit(16),
    frequencyCappedOccurred: bit(17),
    throttledOccurred: bit(18),
    softTempLimitOccurred: bit(19),
  };
}

/** Throttling from the firmware's sysfs file (through the root path), else `vcgencmd get_throttled` on the box itself. */
export async function readThrottling(fs: RootFs): Promise<Throttling | null> {
  const file = fs.value('sys/devices/platform/soc/soc:firmware/get_throttled');
  if (file !== null) return decodeThrottled(file);
  if (fs.root !== '/') return null;
  try {
    const { stdout } = await promisify(execFile)('vcgencmd', ['get_throttled'], { timeout: 2000 });
    return decodeThrottled(stdout.replace(/^throttled=/, ''));
  } catch {
    return null;
  }
}

/** The CPU temperature from the thermal zones (the CPU's zone first), in °C. */
export function thermalTemperature(fs: RootFs): number | null {
  const zones = fs
    .list('sys/class/thermal')
    .filter((z) => z.startsWith('thermal_zone'))
    .map((z) => ({ type: fs.value(`sys/class/thermal/${z}/type`) ?? '', temp: Number(fs.value(`sys/class/thermal/${z}/temp`)) }))
    .filter((z) => Number.isFinite(z.temp) && z.temp > 0);
  const cpu = zones.find((z) => /cpu|x86_pkg|soc|coretemp|k10temp/i.test(z.type)) ?? zones[0];
  return cpu ? round(cpu.temp / 1000) : null;
}

/** The mean current CPU frequency from cpufreq, in MHz, or null without cpufreq. */
export function cpufreqMhz(fs: RootFs): number | null {
  const khz = fs
    .list('sys/devices/system/cpu')
    .filter((e) => /^cpu\d+$/.test(e))
    .map((c) => Number(fs.value(`sys/devices/system/cpu/${c}/cpufreq/scaling_cur_freq`)))
    .filter((v) => Number.isFinite(v) && v > 0);
  return khz.length ? Math.round(khz.reduce((a, b) => a + b, 0) / khz.length / 1000) : null;
}

export function loadAverage(fs: RootFs): { load1: number; load5: number; load15: number } {
  const [a, b, c] = (fs.value('proc/loadavg') ?? '0 0 0').split(/\s+/).map(Number);
  return { load1: a ?? 0, load5: b ?? 0, load15: c ?? 0 };
}

export function engineHealth(status: EngineStatus, t: TelemetryFrame | null): Health['engine'] {
  const live = status.state === 'running' && t !== null;
  return {
    state: status.state,
    restarts: status.restarts,
    reason: status.reason,
    dspLoad: live ? round(t.dspLoadMean, 4) : null,
    dspLoadMax: live ? round(t.dspLoadMax, 4) : null,
    xruns: live ? t.xruns : null,
    jitterUs: live ? round(t.jitterUs) : null,
    jitterMaxUs: live ? round(t.jitterMaxUs) : null,
    latencyMs: live ? t.latencyMs : null,
  };
}

export interface HealthSources {
  fs: RootFs;
  dataDir: string;
  startedAt: Date;
  engine: { status(): EngineStatus; telemetry(): TelemetryFrame | null };
}

/** Busy and total jiffies of all CPUs from /proc/stat's first line. */
function cpuTimes(fs: RootFs): { busy: number; total: number } | null {
  const line = (fs.read('proc/stat') ?? '').split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

const lastCpuTimes = new Map<string, { busy: number; total: number }>();

/** CPU load of all cores in percent since the previous call for the same root (null on the first). */
export function cpuLoadPercent(fs: RootFs): number | null {
  const now = cpuTimes(fs);
  if (!now) return null;
  const prev = lastCpuTimes.get(fs.root);
  lastCpuTimes.set(fs.root, now);
  if (!prev || now.total <= prev.total) return null;
  return round((100 * (now.busy - prev.busy)) / (now.total - prev.total));
}

/** Total and available memory from /proc/meminfo (Node's own figures where the root has none). */
export function memoryInfo(fs: RootFs): { total: number; available: number } {
  const info = fs.read('proc/meminfo');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(info ?? '')?.[1]) * 1024;
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (Number.isFinite(total) && total > 0 && Number.isFinite(available)) return { total, available };
  return { total: totalmem(), available: freemem() };
}

/**
 * One health snapshot: the board and the machine read from /proc and /sys
 * through the root path (no child processes: every sample is a few small file
 * reads, which matters under emulation and on a Pi), the engine's telemetry.
 */
export async function collectHealth(src: HealthSources): Promise<Health> {
  const [disk, throttling] = await Promise.all([statfs(existingDir(src.dataDir)).catch(() => null), readThrottling(src.fs)]);
  const mem = memoryInfo(src.fs);
  const uptime = Number((src.fs.value('proc/uptime') ?? '').split(/\s+/)[0]);
  const totalDisk = disk ? disk.blocks * disk.bsize : 0;
  const cores = src.fs.list('sys/devices/system/cpu').filter((e) => /^cpu\d+$/.test(e)).length || cpus().length || 1;
  const cpuinfoMhz = (src.fs.read('proc/cpuinfo') ?? '').match(/^cpu MHz\s*:\s*([\d.]+)/gm)?.map((l) => Number(l.split(':')[1]));
  return {
    time: new Date().toISOString(),
    uptimeS: Number.isFinite(uptime) && uptime > 0 ? uptime : osUptime(),
    supervisorUptimeS: round((Date.now() - src.startedAt.getTime()) / 1000),
    cpu: {
      temperatureC: thermalTemperature(src.fs),
      loadPercent: cpuLoadPercent(src.fs),
      ...loadAverage(src.fs),
      frequencyMhz: cpufreqMhz(src.fs) ?? (cpuinfoMhz?.length ? Math.round(cpuinfoMhz.reduce((a, b) => a + b, 0) / cpuinfoMhz.length) : null),
      cores,
    },
    throttling,
    memory: { totalBytes: mem.total, availableBytes: mem.available, usedPercent: round(100 * (1 - mem.available / mem.total)) },
    disk:
      disk && totalDisk > 0
        ? {
            path: src.dataDir,
            totalBytes: totalDisk,
            freeBytes: disk.bavail * disk.bsize,
            usedPercent: round(100 * (1 - disk.bfree / disk.blocks)),
            full: disk.bavail * disk.bsize < dataReserveBytes(),
          }
        : null,
    engine: engineHealth(src.engine.status(), src.engine.telemetry()),
  };
}
