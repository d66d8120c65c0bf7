import { execFile } from 'node:child_process';
import { Type, type Static } from '@sinclair/typebox';
import type { Config } from '../config/schema.js';
import type { EngineStatus } from '../engine/telemetry.js';
import { cpuLayout } from '../system/cpu.js';
import { findIrqThreads } from '../system/irq.js';
import type { ControlAccess } from '../system/native-system.js';
import { RootFs } from '../system/root-fs.js';
import { detectScarlett, MSD_HOW_TO_LEAVE, readScarlettControls } from '../system/scarlett.js';
import { findDeviceCard } from '../system/sound-cards.js';
import { systemConfig } from '../system/system-service.js';
import { audioUsbDevice } from '../system/tuning.js';
import type { Health } from './health.js';

export const CheckStatusSchema = Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail'), Type.Literal('skip')]);

export const DoctorCheckSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  status: CheckStatusSchema,
  detail: Type.String(),
  fix: Type.Union([Type.String(), Type.Null()], { description: 'how to fix it, when it does not pass' }),
});
export type DoctorCheck = Static<typeof DoctorCheckSchema>;

export const DoctorReportSchema = Type.Object({
  overall: Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail')]),
  counts: Type.Object({ pass: Type.Integer(), warn: Type.Integer(), fail: Type.Integer(), skip: Type.Integer() }),
  checks: Type.Array(DoctorCheckSchema),
});
export type DoctorReport = Static<typeof DoctorReportSchema>;

export interface DoctorInputs {
  config: Config;
  /** The engine's state, when the supervisor runs (null from a shell without one). */
  engine: EngineStatus | null;
  health: Health | null;
  /** ALSA controls (the addon); omitted where they cannot be read. */
  controls?: ControlAccess;
  /** `/proc/self/limits` text; read under the root path by default. */
  limitsText?: string | null;
}

type Add = (id: string, title: string, status: DoctorCheck['status'], detail: string, fix?: string | null) => void;

function systemChecks(fs: RootFs, config: Config, add: Add, controls?: ControlAccess): void {
  const sys = systemConfig(config);
  const engine = config.engine;

  const rt = fs.value('sys/kernel/realtime') === '1' || /PREEMPT_RT/.test(fs.value('proc/version') ?? '');
  add('kernel.preempt_rt', 'PREEMPT_RT kernel', rt ? 'pass' : 'warn', rt ? 'the kernel is fully preemptible (PREEMPT_RT)' : 'not a PREEMPT_RT kernel', rt ? null : 'boot the hushbox image (or Debian linux-image-rt-*) for reliable low latency');

  const scarlett = detectScarlett(fs);
  if (!scarlett) add('interface.present', 'Audio interface', engine.backend === 'alsa' ? 'fail' : 'warn', 'no Focusrite Scarlett on the USB bus', 'plug the Scarlett into a USB port (directly, not through a hub)');
  else if (scarlett.msd) add('interface.present', 'Audio interface', 'fail', `${scarlett.model} (${scarlett.id}) is in MSD mode: ${scarlett.msdEvidence}`, MSD_HOW_TO_LEAVE);
  else add('interface.present', 'Audio interface', 'pass', `${scarlett.model} (${scarlett.id}) on USB ${scarlett.usb.bus}`);

  if (engine.backend === 'alsa') {
    const d = findDeviceCard(fs, engine.device);
    add('interface.card', `Sound card for ${engine.device}`, d.present ? 'pass' : 'fail', d.present ? `card ${d.found?.index ?? '?'} (${d.found?.name || d.card})` : `no sound card '${d.card}' in /proc/asound`, d.present ? null : scarlett?.card ? `set the device to hw:${scarlett.card.id} (PUT /api/audio)` : 'plug in the interface; the engine starts by itself when it appears');
  } else {
    add('interface.card', 'Sound card', 'skip', `the engine uses the '${engine.backend}' backend, not ALSA`);
  }

  if (scarlett?.card && scarlett.scarlett2 && controls) {
    try {
      const c = readScarlettControls(controls.list(`hw:${scarlett.card.index}`));
      const n = c.inputs.length;
      add('interface.mixer', 'Scarlett hardware controls (scarlett2)', n ? 'pass' : 'warn', n ? `${n} input${n > 1 ? 's' : ''} with controls` : 'the card shows no scarlett2 controls', n ? null : 'use Linux 6.8 or later (4th Gen support), or options snd_usb_audio device_setup=1 on older kernels');
      if (c.msd && !scarlett.msd) add('interface.msd', 'MSD mode', 'fail', "the 'MSD Mode Switch' control is on", MSD_HOW_TO_LEAVE);
    } catch (err) {
      add('interface.mixer', 'Scarlett hardware controls (scarlett2)', 'warn', `cannot read the controls: ${(err as Error).message}`, 'check that snd_usb_audio loaded its scarlett2 mixer (dmesg | grep -i scarlett)');
    }
  }

  const l = cpuLayout(fs, sys.audioCpu >= 0 ? sys.audioCpu : engine.cpu);
  add('cpu.isolated', 'A CPU core reserved for audio', l.isolated.length ? 'pass' : 'warn', l.isolated.length ? `isolated: ${l.isolated.join(',')}; audio on CPU ${l.audioCpu}` : l.why, l.isolated.length ? null : `add isolcpus=${l.cpus.at(-1)} nohz_full=${l.cpus.at(-1)} rcu_nocbs=${l.cpus.at(-1)} to the kernel command line`);

  const irqs = findIrqThreads(fs);
  add('irq.threads', 'Threaded USB/sound IRQs', irqs.length ? 'pass' : 'warn', irqs.length ? irqs.map((t) => `irq/${t.irq}-${t.name}`).join(', ') : 'no threaded IRQ handlers for USB or sound', irqs.length ? null : 'use a PREEMPT_RT kernel (or boot with threadirqs) so the supervisor can raise the USB IRQ priority');

  const govs = fs
    .list('sys/devices/system/cpu')
    .filter((e) => /^cpu\d+$/.test(e))
    .map((c) => fs.value(`sys/devices/system/cpu/${c}/cpufreq/scaling_governor`))
    .filter((g): g is string => g !== null);
  const slow = govs.filter((g) => g !== 'performance');
  if (!govs.length) add('cpu.governor', 'CPU governor', 'skip', 'no cpufreq on this machine');
  else add('cpu.governor', 'CPU governor', slow.length ? 'warn' : 'pass', slow.length ? `governors: ${[...new Set(govs)].join(', ')}` : 'performance on every CPU', slow.length ? 'turn tuning on (HUSHBOX_TUNE=1 or system.tune: true) or set scaling_governor to performance' : null);

  const rtRuntime = fs.value('proc/sys/kernel/sched_rt_runtime_us');
  if (rtRuntime !== null) add('sched.rt_runtime', 'Real-time throttling off', rtRuntime === '-1' ? 'pass' : 'warn', `kernel.sched_rt_runtime_us = ${rtRuntime}`, rtRuntime === '-1' ? null : 'turn tuning on, or sysctl kernel.sched_rt_runtime_us=-1');
  const swap = fs.value('proc/sys/vm/swappiness');
  if (swap !== null) add('vm.swappiness', 'Swappiness', Number(swap) <= sys.swappiness ? 'pass' : 'warn', `vm.swappiness = ${swap}`, Number(swap) <= sys.swappiness ? null : `turn tuning on, or sysctl vm.swappiness=${sys.swappiness}`);

  const usb = audioUsbDevice(fs, engine.device);
  if (usb?.powerControl) add('usb.autosuspend', 'USB autosuspend off for the interface', usb.powerControl === 'on' ? 'pass' : 'warn', `power/control = ${usb.powerControl} on ${usb.bus}`, usb.powerControl === 'on' ? null : `turn tuning on, or echo on > /sys/bus/usb/devices/${usb.bus}/power/control`);
}

function limitsChecks(limits: string | null | undefined, add: Add): void {
  if (!limits) return;
  const m = /^Max locked memory\s+(\S+)/m.exec(limits);
  const rt = /^Max realtime priority\s+(\S+)/m.exec(limits);
  if (rt) {
    const ok = rt[1] === 'unlimited' || Number(rt[1]) >= 90;
    add('limits.rtprio', 'Real-time priority limit', ok ? 'pass' : 'warn', `max realtime priority: ${rt[1]}`, ok ? null : 'run as root or set LimitRTPRIO=99 in the service unit');
  }
  if (!m) return;
  const ok = m[1] === 'unlimited' || Number(m[1]) >= 256 * 1024 * 1024;
  add('limits.memlock', 'Memory lock limit', ok ? 'pass' : 'warn', `max locked memory: ${m[1]}`, ok ? null : 'run as root or set LimitMEMLOCK=infinity in the service unit');
}

function healthChecks(h: Health, add: Add): void {
  const t = h.cpu.temperatureC;
  if (t !== null) add('health.temperature', 'CPU temperature', t >= 80 ? 'fail' : t >= 70 ? 'warn' : 'pass', `${t} °C`, t >= 70 ? 'improve cooling (heatsink, fan, case airflow)' : null);
  const th = h.throttling;
  if (th) {
    const now = th.underVoltageNow || th.throttledNow || th.frequencyCappedNow || th.softTempLimitNow;
    const past = th.underVoltageOccurred || th.throttledOccurred || th.frequencyCappedOccurred || th.softTempLimitOccurred;
    const what = [th.underVoltageNow || th.underVoltageOccurred ? 'under-voltage' : '', th.throttledNow || th.throttledOccurred ? 'throttling' : '', th.frequencyCappedNow || th.frequencyCappedOccurred ? 'frequency capping' : '', th.softTempLimitNow || th.softTempLimitOccurred ? 'soft temperature limit' : ''].filter(Boolean).join(', ');
    add('health.throttling', 'Power and throttling', now ? 'fail' : past ? 'warn' : 'pass', now ? `now: ${what} (${th.raw})` : past ? `since boot: ${what} (${th.raw})` : `none (${th.raw})`, now || past ? (th.underVoltageNow || th.underVoltageOccurred ? 'use the official 5.1 V / 3 A power supply and a short cable' : 'improve cooling') : null);
  }
  if (h.disk) {
    const level = h.disk.full || h.disk.usedPercent >= 95 ? 'fail' : h.disk.usedPercent >= 85 ? 'warn' : 'pass';
    const detail = `${h.disk.usedPercent}% used of ${(h.disk.totalBytes / 1e9).toFixed(1)} GB at ${h.disk.path}${h.disk.full ? `; only ${(h.disk.freeBytes / 2 ** 20).toFixed(1)} MiB free, below the reserve for settings: new presets, imports and uploads are refused` : ''}`;
    add('health.disk', 'Data partition', level, detail, level !== 'pass' ? 'delete old recordings or exported presets' : null);
  }
  add('health.memory', 'Memory', h.memory.usedPercent >= 90 ? 'warn' : 'pass', `${h.memory.usedPercent}% used`, h.memory.usedPercent >= 90 ? 'restart the box; report it if it keeps growing' : null);
}

function engineChecks(e: EngineStatus | null, h: Health | null, add: Add): void {
  if (!e) {
    add('engine.running', 'Engine', 'skip', 'the supervisor is not running here (hushbox start runs it)');
    return;
  }
  const fixes: Record<string, string> = {
    waiting_for_device: 'plug in the audio interface; the engine starts by itself',
    failed: 'see the reason; hushbox-engine doctor and the log (journalctl -u hushbox) say more',
  };
  add('engine.running', 'Engine', e.state === 'running' ? 'pass' : e.state === 'starting' ? 'warn' : 'fail', `${e.state}${e.reason ? `: ${e.reason}` : ''}; ${e.restarts} restart${e.restarts === 1 ? '' : 's'}`, e.state === 'running' ? null : (fixes[e.state] ?? 'start the supervisor'));
  const x = h?.engine;
  if (x && x.dspLoadMax !== null) {
    const load = x.dspLoadMax;
    add('engine.dsp_load', 'DSP load', load >= 0.9 ? 'fail' : load >= 0.7 ? 'warn' : 'pass', `mean ${(100 * (x.dspLoad ?? 0)).toFixed(1)}%, max ${(100 * load).toFixed(1)}% of the period`, load >= 0.7 ? 'choose a profile with a longer period (balanced or streaming) or fewer processors' : null);
    add('engine.xruns', 'Xruns', (x.xruns ?? 0) > 0 ? 'warn' : 'pass', `${x.xruns} since the engine started`, (x.xruns ?? 0) > 0 ? 'turn tuning on, reserve a CPU (isolcpus), or choose a longer period' : null);
  }
}

interface EngineDoctorJson {
  checks?: Array<{ name?: string; status?: string; detail?: string; fix?: string | null }>;
}

/** `hushbox-engine doctor --json` when the binary has it; otherwise the check says it is not available. */
export async function engineDoctor(binary: string, root: string, priority: number, add: Add): Promise<void> {
  const args = ['doctor', '--json', '--root', root, ...(priority > 0 ? ['--priority', String(priority)] : [])];
  const out = await new Promise<{ stdout: string; stderr: string; error: (Error & { code?: string | number | null }) | null }>((resolve) =>
    execFile(binary, args, { timeout: 15_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => resolve({ stdout, stderr, error })),
  );
  let parsed: EngineDoctorJson | null = null;
  try {
    parsed = JSON.parse(out.stdout) as EngineDoctorJson;
  } catch {
    parsed = null;
  }
  if (!parsed || !Array.isArray(parsed.checks)) {
    const why = out.error?.code === 'ENOENT' ? `${binary} not found` : (out.stderr.trim().split('\n')[0] ?? '') || out.error?.message || 'no JSON answer';
    add('engine.doctor', "Engine's own doctor", 'skip', `not available: ${why}`);
    return;
  }
  for (const c of parsed.checks) {
    const s = c.status === 'pass' || c.status === 'warn' || c.status === 'fail' ? c.status : 'warn';
    add(`engine.doctor.${(c.name ?? 'check').toLowerCase().replace(/[^a-z0-9]+/g, '_')}`, `Engine: ${c.name ?? 'check'}`, s, c.detail ?? '', c.fix || null);
  }
}

/** Every check, with pass/warn/fail/skip and how to fix it. */
export async function runDoctor(inputs: DoctorInputs): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const add: Add = (id, title, status, detail, fix = null) => checks.push({ id, title, status, detail, fix: status === 'pass' ? null : fix });
  const sys = systemConfig(inputs.config);
  const fs = new RootFs(sys.root);
  systemChecks(fs, inputs.config, add, inputs.controls);
  limitsChecks(inputs.limitsText === undefined ? fs.read('proc/self/limits') : inputs.limitsText, add);
  if (inputs.health) healthChecks(inputs.health, add);
  engineChecks(inputs.engine, inputs.health, add);
  await engineDoctor(inputs.config.engine.binary, sys.root, inputs.config.engine.priority, add);
  const counts = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { overall: counts.fail ? 'fail' : counts.warn ? 'warn' : 'pass', counts, checks };
}

/** The report for people: one line per check, the fix under it. */
export function formatDoctor(r: DoctorReport): string {
  const mark = { pass: ' ok ', warn: 'WARN', fail: 'FAIL', skip: ' -- ' };
  const lines = r.checks.flatMap((c) => [`[${mark[c.status]}] ${c.title}: ${c.detail}`, ...(c.fix ? [`       fix: ${c.fix}`] : [])]);
  lines.push('', `overall: ${r.overall} (${r.counts.pass} pass, ${r.counts.warn} warn, ${r.counts.fail} fail, ${r.counts.skip} skipped)`);
  return `${lines.join('\n')}\n`;
}
