import { Type, type Static } from '@sinclair/typebox';
import { cpuLayout, type CpuLayout } from './cpu.js';
import { findIrqThreads } from './irq.js';
import type { SystemCalls } from './native-system.js';
import type { RootFs } from './root-fs.js';
import { detectScarlett } from './scarlett.js';
import { findDeviceCard } from './sound-cards.js';
import { listUsbDevices, usbId, type UsbDevice } from './usb.js';

export const TuningStepSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  status: Type.Union([Type.Literal('done'), Type.Literal('skipped'), Type.Literal('failed'), Type.Literal('planned')]),
  detail: Type.String({ description: 'what was done, or why it was skipped or failed' }),
});
export type TuningStep = Static<typeof TuningStepSchema>;

export interface TuningOptions {
  enabled: boolean;
  audioCpu: number;
  irqPriority: number;
  engineDevice: string;
  swappiness: number;
  /** The supervisor's pid, whose threads move off the audio core. */
  selfPid: number;
}

type Undo = { what: string; run: () => void };

/** The USB device behind the engine's sound card, else the first Scarlett. */
export function audioUsbDevice(fs: RootFs, device: string): UsbDevice | null {
  const card = findDeviceCard(fs, device).found;
  const usb = listUsbDevices(fs);
  if (card?.usbId) {
    const d = usb.find((u) => usbId(u) === card.usbId);
    if (d) return d;
  }
  return detectScarlett(fs)?.usb ?? null;
}

/**
 * Real-time tuning, as rtirq and realtimeconfigquickscan would have it: each
 * step done, skipped (and why) or failed (and why); undone at stop.
 */
export class Tuner {
  private undos: Undo[] = [];
  private layout: CpuLayout | null = null;

  constructor(
    private readonly fs: RootFs,
    private readonly sys: SystemCalls,
    private readonly opts: TuningOptions,
  ) {}

  /** The CPU the engine's audio thread should use (null: leave it free). */
  audioCpu(): number | null {
    return (this.layout ?? cpuLayout(this.fs, this.opts.audioCpu)).audioCpu;
  }

  /** Apply every step (or, when tuning is off, say what each would do). */
  apply(): TuningStep[] {
    const steps = [
      this.step('cpu-layout', 'Audio core and CPU affinity', () => this.cpu()),
      this.step('irq-priorities', 'USB and sound IRQ thread priorities', () => this.irqs()),
      this.step('cpu-governor', 'CPU frequency governor', () => this.governor()),
      this.step('usb-autosuspend', 'USB autosuspend of the audio interface', () => this.autosuspend()),
      this.step('sched-rt-runtime', 'Real-time throttling (kernel.sched_rt_runtime_us)', () =>
        this.sysctl('proc/sys/kernel/sched_rt_runtime_us', '-1'),
      ),
      this.step('swappiness', 'Swappiness (vm.swappiness)', () => this.sysctl('proc/sys/vm/swappiness', String(this.opts.swappiness))),
    ];
    return steps;
  }

  /** Put back what apply() changed, newest first. Errors are collected, not thrown. */
  undo(): string[] {
    const problems: string[] = [];
    for (const u of this.undos.reverse()) {
      try {
        u.run();
      } catch (err) {
        problems.push(`${u.what}: ${(err as Error).message}`);
      }
    }
    this.undos = [];
    return problems;
  }

  private step(id: string, title: string, fn: () => { status: 'done' | 'skipped'; detail: string; plan?: string }): TuningStep {
    try {
      const r = fn();
      return { id, title, status: r.status, detail: r.detail };
    } catch (err) {
      return { id, title, status: 'failed', detail: (err as Error).message };
    }
  }

  private get off(): boolean {
    return !this.opts.enabled;
  }

  private skipOff(plan: string): { status: 'skipped'; detail: string } {
    return { status: 'skipped', detail: `tuning is off (would: ${plan}); HUSHBOX_TUNE=1 or system.tune turns it on` };
  }

  private cpu(): { status: 'done' | 'skipped'; detail: string } {
    const l = (this.layout = cpuLayout(this.fs, this.opts.audioCpu));
    if (l.audioCpu === null) return { status: 'skipped', detail: l.why };
    const plan = `audio thread on CPU ${l.audioCpu} (${l.why}); supervisor on CPU ${l.others.join(',')}`;
    if (this.off) return this.skipOff(plan);
    const tids = this.fs.list(`proc/${this.opts.selfPid}/task`).filter((t) => /^\d+$/.test(t)).map(Number);
    const targets = tids.length ? tids : [this.opts.selfPid];
    let moved = 0;
    for (const tid of targets) {
      let before: number[];
      try {
        before = this.sys.getAffinity(tid);
        this.sys.setAffinity(tid, l.others);
      } catch (err) {
        if ((err as { code?: string }).code === 'ESRCH') continue; // a thread that just ended
        throw err;
      }
      moved++;
      this.undos.push({ what: `affinity of ${tid}`, run: () => this.sys.setAffinity(tid, before) });
    }
    return { status: 'done', detail: `${plan}; ${moved} supervisor thread${moved === 1 ? '' : 's'} moved` };
  }

  private irqs(): { status: 'done' | 'skipped'; detail: string } {
    const threads = findIrqThreads(this.fs);
    if (!threads.length) {
      return { status: 'skipped', detail: 'no threaded USB or sound IRQ handlers (not a PREEMPT_RT kernel, or booted without threadirqs)' };
    }
    // As rtirq: the sound card highest, the USB host controllers just below; both above the audio thread.
    const prio = (k: 'usb' | 'sound') => (k === 'sound' ? this.opts.irqPriority : Math.max(1, this.opts.irqPriority - 5));
    const plan = threads.map((t) => `irq/${t.irq}-${t.name} (pid ${t.pid}) FIFO ${prio(t.kind)}`).join(', ');
    if (this.off) return this.skipOff(plan);
    for (const t of threads) {
      const before = this.sys.getScheduler(t.pid);
      this.sys.setScheduler(t.pid, 'fifo', prio(t.kind));
      const policy = before.policy === 'fifo' || before.policy === 'rr' ? before.policy : 'other';
      this.undos.push({ what: `priority of irq/${t.irq}`, run: () => this.sys.setScheduler(t.pid, policy, policy === 'other' ? 0 : before.priority) });
    }
    return { status: 'done', detail: plan };
  }

  private governor(): { status: 'done' | 'skipped'; detail: string } {
    const cpus = this.fs
      .list('sys/devices/system/cpu')
      .filter((e) => /^cpu\d+$/.test(e) && this.fs.exists(`sys/devices/system/cpu/${e}/cpufreq/scaling_governor`));
    if (!cpus.length) return { status: 'skipped', detail: 'no cpufreq on this machine (no scaling_governor)' };
    const first = `sys/devices/system/cpu/${cpus[0]}/cpufreq`;
    const available = (this.fs.value(`${first}/scaling_available_governors`) ?? 'performance').split(/\s+/);
    if (!available.includes('performance')) return { status: 'skipped', detail: `no 'performance' governor (offered: ${available.join(', ')})` };
    const plan = `performance on ${cpus.join(', ')}`;
    if (this.off) return this.skipOff(plan);
    const changed: string[] = [];
    for (const c of cpus) {
      const p = `sys/devices/system/cpu/${c}/cpufreq/scaling_governor`;
      const before = this.fs.value(p);
      if (before === 'performance') continue;
      this.fs.write(p, 'performance');
      changed.push(`${c} (was ${before})`);
      if (before) this.undos.push({ what: p, run: () => this.fs.write(p, before) });
    }
    return { status: 'done', detail: changed.length ? `performance on ${changed.join(', ')}` : 'already performance on every CPU' };
  }

  private autosuspend(): { status: 'done' | 'skipped'; detail: string } {
    const dev = audioUsbDevice(this.fs, this.opts.engineDevice);
    if (!dev) return { status: 'skipped', detail: 'no USB audio interface found' };
    const dir = `sys/bus/usb/devices/${dev.bus}/power`;
    if (dev.powerControl === null) return { status: 'skipped', detail: `${dev.product || usbId(dev)} has no power/control` };
    const plan = `power/control=on, autosuspend_delay_ms=-1 for ${dev.product || usbId(dev)} (${dev.bus})`;
    if (this.off) return this.skipOff(plan);
    this.setFile(`${dir}/control`, 'on');
    if (dev.autosuspendDelayMs !== null) this.setFile(`${dir}/autosuspend_delay_ms`, '-1');
    return { status: 'done', detail: `${plan} (was ${dev.powerControl}, ${dev.autosuspendDelayMs ?? '?'} ms)` };
  }

  private sysctl(path: string, value: string): { status: 'done' | 'skipped'; detail: string } {
    const before = this.fs.value(path);
    const name = path.replace(/^proc\/sys\//, '').replace(/\//g, '.');
    if (before === null) return { status: 'skipped', detail: `${name} is not offered by this kernel` };
    if (this.off) return this.skipOff(`${name}=${value} (now ${before})`);
    if (before === value) return { status: 'done', detail: `${name} is already ${value}` };
    this.setFile(path, value);
    return { status: 'done', detail: `${name}=${value} (was ${before})` };
  }

  private setFile(path: string, value: string): void {
    const before = this.fs.value(path);
    this.fs.write(path, value);
    if (before !== null && before !== value) this.undos.push({ what: path, run: () => this.fs.write(path, before) });
  }
}
