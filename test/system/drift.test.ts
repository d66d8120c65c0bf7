// Two clocks: the engine captures from one snd-aloop card and plays to
// another, under Debian's PREEMPT_RT kernel in QEMU. Card 0's capture is
// drifted with its "PCM Rate Shift 100000" control (100000 is nominal; 100100
// runs the stream at 100000/100100 of its rate). test/system/qemu/drift-init.sh
// runs the scenarios in one boot.
//
// The guest runs on virtual time (-icount, one vCPU, idle time skipped): its
// clocks, snd-aloop's timers included, advance with the instructions it runs,
// so a loaded host slows the test down but cannot stall the guest and cause
// xruns of its own (on real time, at a load of 15-20, the emulator alone gave
// 40-160 xruns a minute, one card or two, corrected or not). What remains is
// the engine against two drifting clocks.
//
// Why 40 s per shift: what a long run adds is clock offset, shift x time, that
// the correction must resample away; 40 s at 1000 ppm is 40 ms, the offset of
// 10 minutes at 67 ppm and twice what the two-period buffer absorbs (the
// uncorrected run underruns within it, after about 20 s). The controller's time
// constant is 4 s: by 10 s the fill is in steady state, and the last 30 s are
// many time constants of it. A real 10 minutes: HB_DRIFT_SECONDS=600.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadavg } from 'node:os';
import { defaultEngineBinary, nativeBuildDir, packageRoot } from '../../src/paths.js';
import { runGuest } from './qemu-guest.js';

const outDir = join(packageRoot, 'build', 'qemu-drift');
const SECONDS = Number(process.env.HB_DRIFT_SECONDS ?? 40);
// name: the shift control's value, whether the engine corrects, and whether it runs under the rt_guard.
const scenarios = [
  { name: 'slow', value: 100100, corrected: true, guard: true }, // capture -999.0 ppm
  { name: 'fast', value: 99970, corrected: true, guard: true }, // capture +300.1 ppm
  { name: 'raw', value: 100100, corrected: false, guard: false },
];
// Virtual time runs slower than real time while the guest is busy: up to ~5x on a loaded 2-core host.
const BOOT_TIMEOUT_MS = 180_000 + scenarios.length * SECONDS * 6000;
// The fill (frames in flight between the two cards, the latency the
// correction adds besides the resampler's own) stays within this of its
// target after the first 10 s: a quarter of a 1024-frame period, 5.3 ms.
const FILL_TOLERANCE = 256;
const PPM_TOLERANCE = 5;

interface GuardThread {
  name: string;
  audio: boolean;
  counts: Record<string, number>;
  by_category: Record<string, number>;
}
interface Clock {
  two_clocks: boolean;
  corrected: boolean;
  drift_ppm: number;
  capture_ppm: number;
  playback_ppm: number;
  fill_frames: number;
  target_frames: number;
  resample_ppm: number;
  fill_min: number;
  fill_max: number;
  drift_ppm_by_s: number[];
}
interface Stats {
  seconds: number;
  audio_page_faults: number;
  process_us: { p50: number; max: number };
  state: string;
  frames: number;
  rate: number;
  xruns: number;
  xrun_times_s: number[];
  periods_processed: number;
  clock: Clock;
}

// The capture stream runs at 100000/value of the nominal rate; playback is nominal.
const captureShiftPpm = (value: number) => (100000 / value - 1) * 1e6;
// Playback frames per capture frame, as the engine's drift_ppm counts it.
const driftPpm = (value: number) => (value / 100000 - 1) * 1e6;
// The first second from which the measured drift stays within the tolerance.
const settlingS = (byS: number[], expected: number) => {
  let s = byS.length;
  while (s > 0 && Math.abs(byS[s - 1]! - expected) <= PPM_TOLERANCE) s--;
  return s;
};

describe('drift between two ALSA cards (snd-aloop, one drifted) under Debian\'s PREEMPT_RT kernel in QEMU', () => {
  let results = new Map<string, Record<string, unknown>>();
  const get = <T>(name: string): T => {
    const v = results.get(name);
    if (!v) throw new Error(`the guest did not report "${name}" (console in ${join(outDir, 'console.log')})`);
    return v as T;
  };

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    if (!existsSync(defaultEngineBinary())) throw new Error(`${defaultEngineBinary()} is missing: run npm run build`);
    results = await runGuest({
      outDir,
      engine: defaultEngineBinary(),
      guard: join(nativeBuildDir, 'Release', 'libhushbox_rt_guard.so'),
      modules: ['snd-aloop'],
      init: 'drift-init.sh',
      bins: ['/usr/bin/amixer'],
      append: `hbdrift=${scenarios.map((s) => `${s.name}:${s.value}:${SECONDS}${s.corrected ? '' : ':raw'}${s.guard ? ':guard' : ''}`).join(',')}`,
      timeoutMs: BOOT_TIMEOUT_MS,
      // -icount needs single-threaded TCG; with two vCPUs the secondary one never came up under it.
      accel: 'tcg,thread=single',
      qemuArgs: ['-icount', 'shift=0,sleep=off'],
      smp: 1,
    });
    console.log(`drift: host load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (const s of scenarios) {
      const st = get<Stats>(s.name);
      const c = st.clock;
      console.log(
        `drift ${s.name} (${s.value}, capture ${captureShiftPpm(s.value).toFixed(1)} ppm, corrected ${s.corrected}): ` +
          `drift ${c.drift_ppm.toFixed(2)} ppm (expected ${driftPpm(s.value).toFixed(1)}; settled within ${PPM_TOLERANCE} ppm ` +
          `at ${settlingS(c.drift_ppm_by_s, driftPpm(s.value))} s), capture ${c.capture_ppm.toFixed(2)} ppm, ` +
          `playback ${c.playback_ppm.toFixed(2)} ppm, fill ${c.fill_min}..${c.fill_max} (target ${c.target_frames}), ` +
          `resample ${c.resample_ppm.toFixed(1)} ppm, processing p50 ${st.process_us.p50} us, ` +
          `xruns ${st.xruns} at ${JSON.stringify(st.xrun_times_s)} (run ${st.seconds} s)`,
      );
    }
  }, BOOT_TIMEOUT_MS + 60_000);

  it('sets the shift on the capture side of card 0 and sees two cards', () => {
    expect(get<{ text: string }>('cards').text).toMatch(/Loopback_1/);
    for (const s of scenarios) expect(get<{ set: number }>(`${s.name}_shift`).set).toBe(s.value);
  });

  for (const s of scenarios.filter((x) => x.corrected)) {
    it(`measures a ${captureShiftPpm(s.value).toFixed(0)} ppm capture clock within ${PPM_TOLERANCE} ppm and corrects it: no xrun, the fill held within ${FILL_TOLERANCE} frames`, () => {
      const st = get<Stats>(s.name);
      const c = st.clock;
      expect(c).toMatchObject({ two_clocks: true, corrected: true });
      expect(st.state).toBe('running');
      expect(st.periods_processed).toBeGreaterThan(((SECONDS - 5) * st.rate) / st.frames);
      expect(Math.abs(c.drift_ppm - driftPpm(s.value))).toBeLessThanOrEqual(PPM_TOLERANCE);
      expect(Math.abs(c.capture_ppm - c.playback_ppm - captureShiftPpm(s.value))).toBeLessThanOrEqual(PPM_TOLERANCE);
      // The resampler follows the drift (plus the small nudge that holds the fill).
      expect(Math.abs(c.resample_ppm - driftPpm(s.value))).toBeLessThanOrEqual(50);
      expect(st.xruns, JSON.stringify(st.xrun_times_s)).toBe(0);
      expect(c.target_frames).toBeGreaterThan(0);
      expect(c.fill_min).toBeGreaterThanOrEqual(c.target_frames - FILL_TOLERANCE);
      expect(c.fill_max).toBeLessThanOrEqual(c.target_frames + FILL_TOLERANCE);
    });
  }

  it('makes no allocation, lock or system call on the audio thread while resampling, other than ALSA I/O and the clock, and takes no page fault', () => {
    for (const s of scenarios.filter((x) => x.guard)) {
      const threads = get<{ threads: GuardThread[] }>(`${s.name}_guard`).threads;
      const audio = threads.find((t) => t.audio);
      expect(audio?.name).toBe('hb-audio');
      expect(audio!.by_category, `${s.name}: ${JSON.stringify(audio!.counts)}`).toMatchObject({ alloc: 0, lock: 0, syscall: 0 });
      expect(audio!.counts.ioctl).toBeGreaterThan(100);
    }
    for (const s of scenarios) expect(get<Stats>(s.name).audio_page_faults, s.name).toBe(0);
  });

  it('without correction, the same drift underruns the playback within the run (the correction is what prevents it)', () => {
    const st = get<Stats>('raw');
    const c = st.clock;
    expect(c).toMatchObject({ two_clocks: true, corrected: false });
    expect(st.xruns).toBeGreaterThanOrEqual(1);
    // The measurement itself does not need the correction.
    expect(Math.abs(c.drift_ppm - driftPpm(100100))).toBeLessThanOrEqual(PPM_TOLERANCE);
    expect(get<{ text: string }>('raw_log').text).toMatch(/measured, not corrected/);
  });
});
