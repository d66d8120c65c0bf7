// MIDI control on real ALSA: Debian's PREEMPT_RT kernel under QEMU, the engine
// on snd-aloop with its MIDI input on the ALSA sequencer, snd-virmidi as the
// controller (alsa-utils' amidi writes its raw MIDI device; the kernel turns the
// bytes into sequencer events) and snd-seq-dummy's Midi Through as a software
// port. test/system/qemu/midi-init.sh runs the scenarios in one boot. The engine
// alone runs in the guest (no Node there): the supervisor's side (learn,
// preset recall by Program Change, state, MQTT) is in test/midi/*.test.ts.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultEngineBinary, nativeBuildDir, packageRoot } from '../../src/paths.js';
import { runGuest } from './qemu-guest.js';

const outDir = join(packageRoot, 'build', 'qemu-midi');
const guardLibrary = join(nativeBuildDir, 'Release', 'libhushbox_rt_guard.so');
const BOOT_TIMEOUT_MS = 180_000;

interface MidiStats {
  source: string;
  ports: number;
  received: number;
  applied: number;
  dropped: number;
  overruns: number;
  ignored: number;
  programs: number;
  last_program: number;
  values: Record<string, number>;
}
interface Stats {
  state: string;
  frames: number;
  rate: number;
  xruns: number;
  xrun_times_s: number[];
  periods_processed: number;
  realtime: { fifo: boolean };
  midi: MidiStats;
}
interface GuardThread {
  name: string;
  audio: boolean;
  counts: Record<string, number>;
  by_category: Record<string, number>;
}

describe('MIDI control of the engine on the ALSA sequencer (snd-virmidi) under Debian\'s PREEMPT_RT kernel in QEMU', () => {
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
      guard: guardLibrary,
      modules: ['snd-aloop', 'snd-seq-dummy', 'snd-virmidi'],
      init: 'midi-init.sh',
      bins: ['/usr/bin/amidi'],
      timeoutMs: BOOT_TIMEOUT_MS,
    });
  }, BOOT_TIMEOUT_MS + 60_000);

  it('boots the PREEMPT_RT kernel and runs the engine SCHED_FIFO as the sequencer client "hushbox"', () => {
    expect(get<{ realtime: string }>('kernel')).toMatchObject({ realtime: '1' });
    const run = get<Stats>('midi');
    expect(run.realtime.fifo).toBe(true);
    expect(run.midi.source).toBe('seq');
    expect(get<{ clients: string }>('before_plug').clients).toMatch(/'hushbox'/);
  });

  it('picks up a controller plugged in after the engine started (announced by the sequencer)', () => {
    expect(get<{ clients: string }>('before_plug').clients).not.toMatch(/Virtual Raw MIDI/);
    expect(get<{ clients: string }>('after_plug').clients).toMatch(/Virtual Raw MIDI 1-0/);
    // Midi Through and the four virmidi ports; the last CC came through the re-plugged device.
    expect(get<Stats>('midi').midi.ports).toBeGreaterThanOrEqual(5);
  });

  it('moves the mapped parameters: absolute CC, relative encoder, note switch', () => {
    const { values } = get<Stats>('midi').midi;
    // CC 7 went to 127, 64, then 0 through the re-plugged device: the last one wins.
    expect(values['master.gain']).toBe(-60);
    // Two relative steps of 5 up from 300 Hz, on a log scale 20..20000 Hz: 300 * 1000^(10/127).
    expect(values['mic.eq.peak1.freq']).toBeCloseTo(300 * Math.pow(1000, 10 / 127), 0);
    // The note on toggled the mic's noise suppressor bypass on (its default is off); its note off did not.
    expect(values['mic.ns.bypass']).toBe(1);
  });

  it('hands a Program Change to the supervisor as a preset recall', () => {
    const { midi } = get<Stats>('midi');
    expect(midi.programs).toBe(1);
    expect(midi.last_program).toBe(3);
  });

  it('skips SysEx, clock, unknown messages and strays, and keeps running status', () => {
    const { midi } = get<Stats>('midi');
    expect(midi.ignored).toBeGreaterThan(0);
    expect(get<{ text: string }>('midi_log').text).toBe('');
  });

  it('takes a flood of 10 000 CCs: nothing blocks, the audio thread keeps its deadlines, losses are counted', () => {
    const run = get<Stats>('midi');
    const flood = get<{ start: number; end: number; sent: { sent: number } }>('flood');
    const quiet = get<{ start: number; end: number }>('quiet');
    expect(flood.sent.sent).toBe(10_000);
    // Every CC is received, or counted as dropped by our queue, or lost when the
    // kernel's queue for us overran: Linux then empties that queue without a
    // count for the receiver, so the engine counts the overruns themselves.
    expect(run.midi.received).toBeLessThanOrEqual(10_000 + 20);
    if (run.midi.received + run.midi.dropped < 10_000) expect(run.midi.overruns, JSON.stringify(run.midi)).toBeGreaterThan(0);
    expect(run.midi.values['mix.mic.pan']).toBeDefined();
    expect(run.state).toBe('running');
    // The emulator itself is descheduled now and then (xruns with no MIDI at all):
    // the flood may not add xruns to what an equally long quiet stretch had.
    const inWindow = (a: number, b: number) => run.xrun_times_s.filter((t) => t >= a && t <= b + 0.5).length;
    const duringFlood = inWindow(flood.start, flood.end);
    const duringQuiet = inWindow(quiet.start, quiet.end);
    expect(duringFlood, `xruns at ${JSON.stringify(run.xrun_times_s)}`).toBeLessThanOrEqual(Math.max(1, 2 * duringQuiet));
  });

  it('survives the device unplugged mid-message and takes it back', () => {
    expect(get<{ clients: string }>('unplugged').clients).not.toMatch(/Virtual Raw MIDI/);
    // The half-sent CC was lost with the device; the CC sent after re-plugging set -60 dB.
    expect(get<Stats>('midi').midi.values['master.gain']).toBe(-60);
  });

  it('makes no allocation, lock or system call on the audio thread with MIDI coming in', () => {
    const threads = get<{ threads: GuardThread[] }>('guard').threads;
    const audio = threads.find((t) => t.audio);
    expect(audio?.name).toBe('hb-audio');
    expect(audio!.by_category, JSON.stringify(audio!.counts)).toMatchObject({ alloc: 0, lock: 0, syscall: 0 });
    // The MIDI thread does the reading.
    const midi = threads.find((t) => t.name === 'hb-midi');
    expect(midi?.counts.poll).toBeGreaterThan(0);
  });
});
