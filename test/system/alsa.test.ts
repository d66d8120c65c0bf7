// The real engine on a real ALSA device: Debian's PREEMPT_RT kernel boots
// under QEMU (software emulation) from a small initramfs with snd-aloop, and
// test/system/qemu/init.sh runs every scenario once, printing the results on
// the serial console. Missing prerequisites fail the test: CI installs them.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultEngineBinary, packageRoot } from '../../src/paths.js';
import { boot, buildInitramfs, type Json } from './qemu/guest.js';

const outDir = join(packageRoot, 'build', 'qemu');
const BOOT_TIMEOUT_MS = 240_000;
interface Latency {
  found: boolean;
  frames: number;
  bit_exact: boolean;
  xruns: number;
  period: number;
}
interface Stats {
  periods_processed: number;
  xruns: number;
  latency_frames: number;
  device_waits: number;
  periods_after_last_xrun: number;
  state: string;
  frames: number;
  xrun_times_s: number[];
  realtime: { fifo: boolean };
  clock: { two_clocks: boolean; corrected: boolean; drift_ppm: number };
}
interface GuardThread {
  name: string;
  audio: boolean;
  counts: Record<string, number>;
  by_category: Record<string, number>;
}

describe('the engine on real ALSA (snd-aloop) under Debian\'s PREEMPT_RT kernel in QEMU', () => {
  const results = new Map<string, Json>();
  const get = <T>(name: string): T => {
    const v = results.get(name);
    if (!v) throw new Error(`the guest did not report "${name}" (console in ${join(outDir, 'console.log')})`);
    return v as T;
  };

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    if (!existsSync(defaultEngineBinary())) throw new Error(`${defaultEngineBinary()} is missing: run npm run build`);
    const kernel = buildInitramfs(outDir);
    for (const [k, v] of await boot(outDir, kernel, BOOT_TIMEOUT_MS)) results.set(k, v);
  }, BOOT_TIMEOUT_MS + 60_000);

  it('boots the PREEMPT_RT kernel', () => {
    expect(get<{ realtime: string; version: string }>('kernel')).toMatchObject({ realtime: '1' });
  });

  it('waits for a device that does not exist yet and processes once it appears', () => {
    const late = get<Stats>('late');
    expect(late.device_waits).toBeGreaterThanOrEqual(1);
    expect(late.state).toBe('running');
    // The module is loaded 3 s into an 8 s run: a few seconds of periods must follow.
    expect(late.periods_processed).toBeGreaterThan((2 * 48000) / late.frames);
    expect(get<{ text: string }>('late_log').text).toMatch(/waiting for it/);
  });

  it('passes a signal through the engine bit-exact on the real ALSA device', () => {
    const through = get<Latency>('through');
    expect(through).toMatchObject({ found: true, bit_exact: true, xruns: 0 });
    expect(get<Stats>('run').realtime.fifo).toBe(true);
    // One card, one clock: measured, nothing resampled (which is what keeps it bit-exact).
    expect(get<Stats>('run').clock).toMatchObject({ two_clocks: false, corrected: false });
  });

  it('adds the latency it reports, to within one period', () => {
    const base = get<Latency>('baseline');
    const through = get<Latency>('through');
    const run = get<Stats>('run');
    expect(base).toMatchObject({ found: true, bit_exact: true });
    const added = through.frames - base.frames;
    expect(Math.abs(added - run.latency_frames)).toBeLessThanOrEqual(run.frames);
  });

  it('counts the xrun of a process stopped for 100 ms and recovers from it', () => {
    const stop = get<{ at: number }>('stop');
    const run = get<Stats>('run');
    expect(run.xruns).toBeGreaterThanOrEqual(1);
    expect(run.xrun_times_s.some((t) => t >= stop.at - 0.05 && t <= stop.at + 1.5), JSON.stringify(run.xrun_times_s)).toBe(true);
    expect(run.state).toBe('running');
    expect(run.periods_after_last_xrun).toBeGreaterThan(0);
    // An xrun is recovered in place: the device is never taken for lost.
    expect(run.device_waits).toBe(0);
    expect(get<{ text: string }>('run_log').text).not.toMatch(/lost/);
    // After the xrun, the loop still passes the signal, bit-exact, with the same latency.
    const after = get<Latency>('after_xrun');
    expect(after).toMatchObject({ found: true, bit_exact: true });
    expect(Math.abs(after.frames - get<Latency>('through').frames)).toBeLessThanOrEqual(run.frames);
  });

  it('waits when the device vanishes under it (driver unbound, as a USB unplug) and resumes when it is back', () => {
    expect(get<{ cards: string }>('unplugged').cards).toMatch(/no soundcards/);
    const unplug = get<Stats>('unplug');
    // At least the one wait for the unplug (a slow emulated restart may add a second), and running at the end.
    expect(unplug.device_waits).toBeGreaterThanOrEqual(1);
    expect(unplug.state).toBe('running');
    expect(get<{ text: string }>('unplug_log').text).toMatch(/lost hw:Loopback,0,0 \([^)]*\); waiting for it to come back.*is here; starting/);
    // The engine that lost its device passes the signal again, bit-exact, with the same latency.
    const replugged = get<Latency>('replugged');
    expect(replugged).toMatchObject({ found: true, bit_exact: true });
    expect(Math.abs(replugged.frames - get<Latency>('through').frames)).toBeLessThanOrEqual(unplug.frames);
  });

  it('makes no allocation, lock or system call on the audio thread other than ALSA I/O and the clock', () => {
    const threads = get<{ threads: GuardThread[] }>('guard').threads;
    const audio = threads.find((t) => t.audio);
    expect(audio?.name).toBe('hb-audio');
    expect(audio!.by_category, JSON.stringify(audio!.counts)).toMatchObject({ alloc: 0, lock: 0, syscall: 0 });
    expect(audio!.counts.ioctl).toBeGreaterThan(100);
  });
});
