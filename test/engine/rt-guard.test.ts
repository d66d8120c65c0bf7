import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon, type EngineLinkHandle } from '../../src/engine/native.js';
import { defaultEngineBinary, nativeBuildDir } from '../../src/paths.js';
import { encodeWav } from '../fakes/wav.js';
import { WyomingReference } from '../fakes/wyoming.js';

// The LD_PRELOAD interposer from native/test/rt_guard, built with the engine.
const guardLibrary = join(nativeBuildDir, 'Release', 'libhushbox_rt_guard.so');

interface GuardThread {
  name: string;
  audio: boolean;
  counts: Record<string, number>;
  by_category: { alloc: number; lock: number; syscall: number; clock: number; alsa: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the audio thread under the rt_guard interposer (sim backend, parameters changing, a stream client reading, a take recording, the spectrum analysed, MIDI coming in)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hushbox-rtguard-'));
  const linkName = `hushbox-rtguard-${process.pid}`;
  const addon = loadAddon();
  let threads: GuardThread[] = [];
  let applied = 0;
  let midiApplied = 0;
  let streamed = 0;
  let recorded = 0;
  let spectra = 0;
  const wyoming = new WyomingReference();

  afterAll(() => {
    wyoming.cleanup();
    addon.unlinkSegment(linkName);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the engine for three seconds under the guard while parameters change, a client reads the stream, a take records, the spectrum is analysed and MIDI comes in', async () => {
    expect(existsSync(guardLibrary), `${guardLibrary} is missing: run npm run build`).toBe(true);
    const out = join(dir, 'guard.json');
    const socket = join(dir, 'audio.sock');
    // MIDI through a pipe (the engine's test hook): the same parser, thread, queue and mapping as a device.
    const fifo = join(dir, 'midi');
    execFileSync('mkfifo', [fifo]);
    const pipe = openSync(fifo, constants.O_RDWR);
    const child = spawn(
      defaultEngineBinary(),
      ['run', '--backend', 'sim', '--input', 'noise', '--priority', '0', '--link', linkName, '--stats', join(dir, 'stats.json'),
        '--tap-socket', socket,
        '--midi', `file:${fifo}`, '--midi-map', 'cc:7=master.gain', '--midi-map', 'cc:8=mic.eq.peak1.freq,rel-twos',
        '--midi-map', 'note:60=toggle:master.bypass', '--midi-map', 'pc=preset', '--midi-map', 'cc:9=mic.eq.peak1.gain,14bit'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LD_PRELOAD: guardLibrary, RT_GUARD_OUT: out } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      let link: EngineLinkHandle | undefined;
      for (let i = 0; i < 500 && !link; i++) {
        try {
          const l = new addon.EngineLink(linkName);
          if (l.state() === 'running') link = l;
          else l.close();
        } catch (err) {
          // Not there yet, or made but its header not yet written (the engine maps the segment, then fills it): wait.
          if (!['ELINK_OPEN', 'ELINK_MAGIC'].includes((err as { code?: string }).code ?? '')) throw err;
        }
        if (!link) await sleep(10);
      }
      expect(link, `the engine did not come up: ${stderr}`).toBeDefined();
      const params = link!.params().filter((p) => p.scale === 'db' || p.scale === 'linear');
      expect(params.length).toBeGreaterThan(0);
      // The stream's client reads all along: the audio thread feeds the tap's ring every period.
      const reading = wyoming.read(`unix://${socket}`, 3);
      // ...and a take of every source records all along: the audio thread feeds the writer's ring too.
      expect(link!.recordStart({ path: join(dir, 'take.wav'), source: 'all', format: 'wav' }, 1)).toBe(true);
      const started = Date.now();
      let seq = 0;
      while (Date.now() - started < 3000) {
        const p = params[seq % params.length]!;
        const value = p.min + ((seq * 0.37) % 1) * (p.max - p.min);
        link!.setParams([[p.index, value]], ++seq);
        link!.resetMeters(++seq);
        // A knob, an encoder, a 14-bit knob (MSB, LSB), a switch, a program change, and junk: SysEx, clock, running status.
        writeSync(pipe, Buffer.from([0xb0, 7, seq & 0x7f, 8, seq & 1 ? 1 : 127, 9, (seq >> 3) & 0x7f, 41, seq & 0x7f, 0x90, 60, 100, 0xc0, seq & 0x7f, 0xf0, 1, 2, 3, 0xf7, 0xf8]));
        await sleep(5);
        for (const e of link!.events()) if (e.type === 'applied') applied = Math.max(applied, e.seq);
      }
      streamed = (await reading).pcm.length / 2;
      recorded = link!.recording()?.framesWritten ?? 0;
      // The audio thread fed the spectrum's ring all along too (it always does); the spectrum thread analysed it.
      spectra = link!.spectrum()?.seq ?? 0;
      link!.close();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      closeSync(pipe);
    }
    expect(applied).toBeGreaterThan(100);
    expect(streamed).toBeGreaterThan(16000 * 2);
    expect(recorded).toBeGreaterThan(48000 * 2);
    expect(spectra).toBeGreaterThan(40); // 20 a second
    midiApplied = (JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) as { midi: { applied: number } }).midi.applied;
    expect(midiApplied).toBeGreaterThan(400);
    threads = (JSON.parse(readFileSync(out, 'utf8')) as { threads: GuardThread[] }).threads;
  });

  it('counts no allocation, no lock and no system call on the audio thread, only the clock', () => {
    const audio = threads.filter((t) => t.audio);
    expect(audio.map((t) => t.name)).toEqual(['hb-audio']);
    const a = audio[0]!;
    expect(a.by_category, JSON.stringify(a.counts)).toMatchObject({ alloc: 0, lock: 0, syscall: 0 });
    // The guard sees the thread: its period sleeps go through clock_nanosleep.
    expect(a.counts.clock_nanosleep).toBeGreaterThan(1000);
  });

  it('does count on the other threads, so the guard provably works', () => {
    const main = threads.find((t) => t.name === 'main')!;
    expect(main.by_category.alloc).toBeGreaterThan(0);
    expect(main.by_category.syscall).toBeGreaterThan(0);
    expect(main.counts.pthread_create).toBe(6); // housekeeping, tap, writer, spectrum, audio, MIDI
    // The tap thread did the socket work the audio thread must not.
    const tap = threads.find((t) => t.name === 'hb-tap')!;
    expect(tap.by_category.syscall, JSON.stringify(threads.map((t) => [t.name, t.by_category]))).toBeGreaterThan(0);
    // So did the writer thread, the file work; and the MIDI thread, the reading.
    expect(threads.find((t) => t.name === 'hb-writer')!.by_category.syscall).toBeGreaterThan(0);
    expect(threads.find((t) => t.name === 'hb-midi')!.counts.read).toBeGreaterThan(0);
    // The spectrum thread allocates nothing per analysis but sleeps between them.
    expect(threads.find((t) => t.name === 'hb-spectrum')!.counts.clock_nanosleep).toBeGreaterThan(100);
  });
});

describe('the JACK process callback under the rt_guard interposer (real jackd, parameters changing)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hushbox-rtguard-jack-'));
  const linkName = `hushbox-rtguard-jack-${process.pid}`;
  const server = `hbguard-${process.pid}`;
  const env = { ...process.env, JACK_DEFAULT_SERVER: server };
  const addon = loadAddon();
  let threads: GuardThread[] = [];
  let applied = 0;
  let jackd: ReturnType<typeof spawn> | undefined;

  afterAll(async () => {
    addon.unlinkSegment(linkName);
    if (jackd && jackd.exitCode === null) {
      jackd.kill('SIGTERM');
      await once(jackd, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the engine as a JACK client for three seconds under the guard while parameters change', async () => {
    jackd = spawn('jackd', ['-d', 'dummy', '-r', '48000', '-p', '128'], { stdio: 'ignore', env });
    for (let i = 0; i < 200 && spawnSync('jack_lsp', [], { stdio: 'ignore', env }).status !== 0; i++) await sleep(50);
    const out = join(dir, 'guard.json');
    const child = spawn(
      defaultEngineBinary(),
      ['run', '--backend', 'jack', '--jack-name', `hbguard${process.pid % 10000}`, '--priority', '0', '--link', linkName],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, LD_PRELOAD: guardLibrary, RT_GUARD_OUT: out } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      let link: EngineLinkHandle | undefined;
      for (let i = 0; i < 500 && !link; i++) {
        try {
          const l = new addon.EngineLink(linkName);
          if (l.state() === 'running') link = l;
          else l.close();
        } catch (err) {
          // Not there yet, or made but its header not yet written (the engine maps the segment, then fills it): wait.
          if (!['ELINK_OPEN', 'ELINK_MAGIC'].includes((err as { code?: string }).code ?? '')) throw err;
        }
        if (!link) await sleep(10);
      }
      expect(link, `the engine did not come up: ${stderr}`).toBeDefined();
      const params = link!.params().filter((p) => p.scale === 'db' || p.scale === 'linear');
      const started = Date.now();
      let seq = 0;
      while (Date.now() - started < 3000) {
        const p = params[seq % params.length]!;
        link!.setParams([[p.index, p.min + ((seq * 0.37) % 1) * (p.max - p.min)]], ++seq);
        link!.resetMeters(++seq);
        await sleep(5);
        for (const e of link!.events()) if (e.type === 'applied') applied = Math.max(applied, e.seq);
      }
      link!.close();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    expect(applied).toBeGreaterThan(100);
    threads = (JSON.parse(readFileSync(out, 'utf8')) as { threads: (GuardThread & { sections: number })[] }).threads;
  });

  it('counts no allocation, lock or system call inside the process callback, over every period', () => {
    const audio = threads.filter((t) => t.audio) as (GuardThread & { sections: number })[];
    expect(audio.map((t) => t.name)).toEqual(['hb-audio']);
    const a = audio[0]!;
    // 3 s at 48 kHz / 128 frames is 1125 periods; the guard saw the callback's work in each.
    expect(a.sections).toBeGreaterThan(800);
    expect(a.by_category, JSON.stringify(a.counts)).toMatchObject({ alloc: 0, lock: 0, syscall: 0 });
  });
});

describe('the tonal remover\'s analysis under the rt_guard interposer (steady tones in noise, a voice passing)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hushbox-rtguard-tones-'));
  const linkName = `hushbox-rtguard-tones-${process.pid}`;
  const addon = loadAddon();
  let threads: GuardThread[] = [];
  const seen = new Set<number>();

  afterAll(() => {
    addon.unlinkSegment(linkName);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the engine on tones in noise, with a voice in the middle, until the tones are found', async () => {
    // 4 s, looped: two steady tones (no mains harmonics, so the hum remover leaves them) in noise;
    // from 2.0 to 2.8 s a gliding buzz, so windows with speech (only the followed tones checked) come too.
    const rate = 48000;
    const x = new Float64Array(4 * rate);
    let seed = 7;
    for (let i = 0; i < x.length; i++) {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      const t = i / rate;
      x[i] = 0.003 * (seed / 2 ** 31 - 1) + 0.03 * Math.sin(2 * Math.PI * 97 * t) + 0.02 * Math.sin(2 * Math.PI * 313 * t);
      if (t >= 2 && t < 2.8) {
        const f = 140 + 30 * Math.sin(2 * Math.PI * 1.5 * t);
        for (let h = 1; h <= 8; h++) x[i] += (0.15 / h) * Math.sin(2 * Math.PI * h * f * t);
      }
    }
    const input = join(dir, 'tones.wav');
    writeFileSync(input, encodeWav({ rate, format: 'float32', channels: [x] }));
    const out = join(dir, 'guard.json');
    const child = spawn(
      defaultEngineBinary(),
      ['run', '--backend', 'sim', '--input', input, '--channels', '1', '--priority', '0', '--link', linkName, '--duration', '6',
        '--stats', join(dir, 'stats.json')],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LD_PRELOAD: guardLibrary, RT_GUARD_OUT: out } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let link: EngineLinkHandle | undefined;
    for (let i = 0; i < 500 && !link && child.exitCode === null; i++) {
      try {
        const l = new addon.EngineLink(linkName);
        if (l.state() === 'running') link = l;
        else l.close();
      } catch (err) {
        // Not there yet, or made but its header not yet written (the engine maps the segment, then fills it): wait.
        if (!['ELINK_OPEN', 'ELINK_MAGIC'].includes((err as { code?: string }).code ?? '')) throw err;
      }
      if (!link) await sleep(10);
    }
    expect(link, `the engine did not come up: ${stderr}`).toBeDefined();
    while (child.exitCode === null) {
      for (const hz of link!.telemetry()?.strips[0]?.tonesHz ?? []) seen.add(Math.round(hz));
      await sleep(50);
    }
    link!.close();
    threads = (JSON.parse(readFileSync(out, 'utf8')) as { threads: GuardThread[] }).threads;
  });

  it('found the tones (the analysis ran all its steps on the audio thread)', () => {
    expect([...seen].sort((a, b) => a - b)).toEqual([97, 313]);
  });

  it('counts no allocation, no lock, no system call and no page fault on the audio thread', () => {
    const stats = JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) as { audio_page_faults: number; realtime: { memory_locked: boolean } };
    expect(stats.realtime.memory_locked).toBe(true);
    expect(stats.audio_page_faults).toBe(0);
    const a = threads.find((t) => t.audio)!;
    expect(a.name).toBe('hb-audio');
    expect(a.by_category, JSON.stringify(a.counts)).toMatchObject({ alloc: 0, lock: 0, syscall: 0 });
    expect(a.counts.clock_nanosleep).toBeGreaterThan(1000);
  });
});
