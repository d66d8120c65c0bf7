import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon, type EngineLinkHandle } from '../../src/engine/native.js';
import { defaultEngineBinary, nativeBuildDir } from '../../src/paths.js';
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
        '--midi-map', 'note:60=toggle:master.bypass', '--midi-map', 'pc=preset'],
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
          if ((err as { code?: string }).code !== 'ELINK_OPEN') throw err;
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
        // A knob, an encoder, a switch, a program change, and junk: SysEx, clock, running status.
        writeSync(pipe, Buffer.from([0xb0, 7, seq & 0x7f, 8, seq & 1 ? 1 : 127, 0x90, 60, 100, 0xc0, seq & 0x7f, 0xf0, 1, 2, 3, 0xf7, 0xf8]));
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
          if ((err as { code?: string }).code !== 'ELINK_OPEN') throw err;
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
