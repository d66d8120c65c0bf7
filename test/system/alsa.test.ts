// The real engine on a real ALSA device: Debian's PREEMPT_RT kernel boots
// under QEMU (software emulation) from a small initramfs with snd-aloop, and
// test/system/qemu/init.sh runs every scenario once, printing the results on
// the serial console. Missing prerequisites fail the test: CI installs them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultEngineBinary, nativeBuildDir, packageRoot } from '../../src/paths.js';

const outDir = join(packageRoot, 'build', 'qemu');
const guardLibrary = join(nativeBuildDir, 'Release', 'libhushbox_rt_guard.so');
const BOOT_TIMEOUT_MS = 240_000;

type Json = Record<string, unknown>;
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
}
interface GuardThread {
  name: string;
  audio: boolean;
  counts: Record<string, number>;
  by_category: Record<string, number>;
}

function buildInitramfs(): string {
  const r = spawnSync('sh', [join(packageRoot, 'test/system/qemu/build-initramfs.sh'), outDir, defaultEngineBinary(), guardLibrary], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cannot build the QEMU initramfs: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout.trim().split('\n').pop()!;
}

async function boot(kernel: string): Promise<string> {
  const qemu = spawn(
    'qemu-system-x86_64',
    ['-accel', 'tcg', '-m', '512', '-smp', '2', '-nographic', '-no-reboot', '-kernel', kernel,
      '-initrd', join(outDir, 'initramfs.cpio.gz'), '-append', 'console=ttyS0 quiet panic=-1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  qemu.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  qemu.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const timer = setTimeout(() => qemu.kill('SIGKILL'), BOOT_TIMEOUT_MS);
  await new Promise<void>((resolve, reject) => {
    qemu.once('error', (e) => reject(new Error(`cannot start qemu-system-x86_64: ${e.message}`)));
    qemu.once('exit', () => resolve());
  });
  clearTimeout(timer);
  writeFileSync(join(outDir, 'console.log'), out);
  return out;
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
    const kernel = buildInitramfs();
    const console = await boot(kernel);
    for (const line of console.split(/\r?\n/)) {
      const m = /@@HB (\w+) (\{.*\})\s*$/.exec(line);
      if (m) results.set(m[1]!, JSON.parse(m[2]!) as Json);
    }
    if (!results.has('done')) {
      throw new Error(`the guest did not finish; console tail:\n${console.slice(-3000)}`);
    }
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
