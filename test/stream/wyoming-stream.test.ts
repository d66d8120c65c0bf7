// The engine's audio tap as a client of the protocol's authors sees it: the
// Wyoming reference package (wyoming 1.6.0) connects to the engine's socket.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type EngineLinkHandle, type RawTap } from '../../src/engine/native.js';
import { defaultEngineBinary } from '../../src/paths.js';
import { align } from '../fakes/correlation.js';
import { freePort, waitFor } from '../fakes/net.js';
import { tempDir } from '../fakes/temp-context.js';
import { WyomingReference, s16ToFloat, toneAmplitude, type WyomingSummary } from '../fakes/wyoming.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const addon = loadAddon();
const tmp = tempDir('hushbox-stream-');
let wyoming: WyomingReference;
let n = 0;

interface Engine {
  child: ChildProcess;
  socket: string;
  link: EngineLinkHandle;
  stats: string;
  linkName: string;
  stderr: () => string;
}

async function startEngine(args: string[]): Promise<Engine> {
  const id = `${process.pid}-${++n}`;
  const socket = join(tmp.dir, `audio-${id}.sock`);
  const linkName = `hushbox-stream-test-${id}`;
  const stats = join(tmp.dir, `stats-${id}.json`);
  const child = spawn(
    defaultEngineBinary(),
    // SCHED_FIFO where allowed (a loaded machine then cannot make the sim clock skip periods); without it, SCHED_OTHER.
    ['run', '--backend', 'sim', '--priority', '50', '--no-mlock', '--no-dma-latency', '--link', linkName,
      '--stats', stats, '--tap-socket', socket, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 300; i++) {
    if (existsSync(socket)) {
      try {
        const link = new addon.EngineLink(linkName);
        if (link.state() === 'running') return { child, socket, link, stats, linkName, stderr: () => stderr };
        link.close();
      } catch {
        // not up yet
      }
    }
    if (child.exitCode !== null) break;
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`the engine did not come up: ${stderr}`);
}

interface Stats {
  missed_deadlines: number;
  xruns: number;
  periods_processed: number;
  seconds: number;
  realtime: { fifo: boolean };
}

async function stopEngine(e: Engine): Promise<Stats> {
  e.link.close();
  if (e.child.exitCode === null) {
    e.child.kill('SIGTERM');
    await once(e.child, 'exit');
  }
  addon.unlinkSegment(e.linkName);
  return JSON.parse(readFileSync(e.stats, 'utf8')) as Stats;
}

/** The engine's output file, (L + R) / 2 as the stream's `mix` takes it, resampled offline by sox to 16 kHz, after `skip` samples at 48 kHz. */
function soxReference(wav: string, skip: number): Float64Array {
  const raw = execFileSync('sox', ['-V1', '-D', wav, '-t', 'raw', '-e', 'floating-point', '-b', '32', '-c', '1', '-r', '16000', '-',
    'remix', '1v0.5,2v0.5', 'trim', `${skip}s`, 'rate', '-v', '16000'], { maxBuffer: 1 << 28 });
  const out = new Float64Array(raw.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = raw.readFloatLE(4 * i);
  return out;
}

/** Chunks follow each other without a gap: each timestamp is the last one plus its length. */
function gaps(summary: WyomingSummary): number {
  let count = 0;
  for (let i = 1; i < summary.chunks.length; i++) {
    const [t0, samples, rate] = summary.chunks[i - 1]!;
    if (summary.chunks[i]![0] !== t0 + (samples * 1000) / rate) count++;
  }
  return count;
}

beforeAll(() => {
  wyoming = new WyomingReference();
});
afterAll(() => {
  wyoming?.cleanup();
  tmp.cleanup();
});

describe('the Wyoming audio stream, read by the reference client', () => {
  it('sends audio-start, then a 1 kHz tone as 16 kHz mono s16le at its level, then audio-stop when the engine stops', async () => {
    const e = await startEngine(['--input', 'tone:1000:-20', '--tap-source', 'mic_raw']);
    const reading = wyoming.read(`unix://${e.socket}`, 25);
    // The engine stops once the client has had 2 s (a loaded machine starts the Python client late: no fixed duration).
    await waitFor('2 s sent to the client', () => (e.link.tap()?.clients[0]?.sentFrames ?? 0) >= 32000, 20_000);
    await stopEngine(e);
    const { summary, pcm } = await reading;
    expect(summary.starts[0]).toMatchObject({ rate: 16000, width: 2, channels: 1, timestamp: 0 });
    expect(summary.chunks.length).toBeGreaterThan(50);
    for (const [, samples, rate, width, channels] of summary.chunks) expect([samples, rate, width, channels]).toEqual([320, 16000, 2, 1]);
    expect(gaps(summary)).toBe(0);
    // The engine stopped: audio-stop, then the connection closed.
    expect(summary.stops.length).toBe(1);
    expect(summary.closed).toBe(true);
    const x = s16ToFloat(pcm).subarray(1600); // past the resampler's start
    const { amplitude, rms } = toneAmplitude(x, 16000, 1000);
    expect(20 * Math.log10(amplitude)).toBeCloseTo(-20, 1); // -20 dBFS peak, within 0.05 dB
    // All the energy is the tone: what is left is under -60 dB.
    const residual = Math.sqrt(Math.max(0, rms * rms - (amplitude * amplitude) / 2));
    expect(20 * Math.log10(residual / (amplitude / Math.SQRT2))).toBeLessThan(-60);
  }, 40_000);

  it('sends audio that matches the engine output resampled offline by sox: correlation above 0.99 after alignment', async () => {
    const output = join(tmp.dir, `engine-out-${process.pid}-${n + 1}.wav`);
    const e = await startEngine(['--input', 'demo', '--tap-source', 'mix', '--output', output]);
    const { summary, pcm } = await wyoming.read(`unix://${e.socket}`, 3);
    await sleep(300); // the output file runs past the last chunk read
    await stopEngine(e);
    expect(summary.starts[0]).toMatchObject({ rate: 16000, width: 2, channels: 1 });
    expect(gaps(summary)).toBe(0);
    const received = s16ToFloat(pcm).subarray(1600); // past the resampler's start
    expect(received.length).toBeGreaterThan(16000 * 2);
    // The stream began at some period of the engine's, which need not fall on sox's 3:1 grid: each of the three
    // phases is tried, and the whole-sample lag found by cross-correlation.
    const fits = [0, 1, 2].map((skip) => align(received, soxReference(output, skip)));
    const best = Math.max(...fits.map((f) => f.correlation));
    expect(best).toBeGreaterThan(0.99);
  });

  it('suppresses a 12 kHz tone by more than 60 dB at 16 kHz (no alias at 4 kHz)', async () => {
    const e = await startEngine(['--input', 'tone:12000:-1', '--tap-source', 'mic_raw']);
    const { pcm } = await wyoming.read(`unix://${e.socket}`, 1.5);
    await stopEngine(e);
    const x = s16ToFloat(pcm).subarray(1600);
    expect(x.length).toBeGreaterThan(8000);
    const inputRms = Math.pow(10, -1 / 20) / Math.SQRT2;
    const { rms, amplitude } = toneAmplitude(x, 16000, 4000);
    expect(20 * Math.log10(rms / inputRms)).toBeLessThan(-60);
    expect(20 * Math.log10((amplitude + 1e-9) / (inputRms * Math.SQRT2))).toBeLessThan(-60);
  });

  it('passes a 7 kHz tone (inside the 16 kHz passband) at its level', async () => {
    const e = await startEngine(['--input', 'tone:7000:-6', '--tap-source', 'mic_raw']);
    const { pcm } = await wyoming.read(`unix://${e.socket}`, 1.5);
    await stopEngine(e);
    const { amplitude } = toneAmplitude(s16ToFloat(pcm).subarray(1600), 16000, 7000);
    expect(Math.abs(20 * Math.log10(amplitude) + 6)).toBeLessThan(0.1);
  });

  it('serves several clients at once, one asking for 48 kHz f32', async () => {
    const e = await startEngine(['--input', 'tone:1000:-20', '--tap-source', 'mic_raw']);
    const [a, b, c] = await Promise.all([
      wyoming.read(`unix://${e.socket}`, 2),
      wyoming.read(`unix://${e.socket}`, 2),
      wyoming.read(`unix://${e.socket}`, 2, { rate: 48000, format: 'f32' }),
    ]);
    await stopEngine(e);
    for (const r of [a, b]) {
      expect(r.summary.starts).toHaveLength(1);
      expect(gaps(r.summary)).toBe(0);
      expect(r.pcm.length / 2).toBeGreaterThan(16000);
      expect(20 * Math.log10(toneAmplitude(s16ToFloat(r.pcm).subarray(1600), 16000, 1000).amplitude)).toBeCloseTo(-20, 1);
    }
    // The third asked for another format: audio-stop of the default stream, audio-start of its own.
    expect(c.summary.starts.at(-1)).toMatchObject({ rate: 48000, width: 4, channels: 1, format: 'f32le' });
    const f32: number[] = [];
    const lastStart = c.summary.chunks.findIndex(([, , rate]) => rate === 48000);
    const bytesBefore = c.summary.chunks.slice(0, lastStart).reduce((s, [, samples, , width]) => s + samples * width, 0);
    for (let i = bytesBefore; i + 4 <= c.pcm.length; i += 4) f32.push(c.pcm.readFloatLE(i));
    expect(f32.length).toBeGreaterThan(48000);
    // 48 kHz is the engine's rate: the samples pass unresampled, so the level is exact.
    expect(20 * Math.log10(toneAmplitude(Float64Array.from(f32), 48000, 1000).amplitude)).toBeCloseTo(-20, 2);
  });

  it('drops the oldest audio of a client that stops reading, counts it, drops the client, and another keeps receiving without a gap', async () => {
    // Missed deadlines of the engine's own making: a period whose work (the hand-off to the tap included) took a whole
    // period, its DSP load over 1. Not the count of late wake-ups: on this shared VM (a Firecracker guest whose vCPUs
    // are host threads, CPU pressure near 100 %) even a SCHED_FIFO thread with nothing to do wakes 2-16 ms late now
    // and then and over 40 ms at times, each a missed deadline at any period with no client at all. 2048-frame periods
    // (43 ms) make a preemption that long inside a period's work (about 1 ms) rare enough not to be taken for one of
    // ours. An audio thread that waited for a stuck client would take seconds; rt-guard.test.ts proves at 64 frames
    // that it makes no call that could.
    const e = await startEngine(['--frames', '2048', '--input', 'demo', '--tap-stuck-ms', '1500', '--tap-backlog-ms', '300']);
    let maxDropped = 0;
    let last: RawTap | null = null;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        last = e.link.tap();
        for (const c of last?.clients ?? []) maxDropped = Math.max(maxDropped, c.droppedFrames);
        await sleep(50);
      }
    })();
    const [stuck, reader] = await Promise.all([wyoming.stuck(`unix://${e.socket}`, 5), wyoming.read(`unix://${e.socket}`, 5)]);
    polling = false;
    await poll;
    const live = e.link.telemetry()!;
    const stats = await stopEngine(e);
    // The engine missed no deadline of its own meanwhile (see above); what it reports, link and stats agree on.
    expect(stats.realtime.fifo).toBe(true);
    expect(live.dspLoadMax).toBeLessThan(1);
    expect(stats.missed_deadlines).toBe(live.missedDeadlines);
    expect(stuck.closed).toBe(true);
    expect(last!.clientsDroppedStuck).toBe(1);
    expect(maxDropped).toBeGreaterThan(0);
    expect(last!.ringDroppedFrames).toBe(0);
    // The reader got every chunk, in order, for the whole time.
    expect(gaps(reader.summary)).toBe(0);
    // ...through and past the stuck client's drop (the stuck timeout is 1.5 s; a loaded machine may lose some startup time).
    expect(reader.pcm.length / 2).toBeGreaterThan(16000 * 3.5);
    // The engine ran on; that the audio thread cannot wait for a client at all is rt-guard.test.ts's proof
    // (no system call, lock or allocation on it while a client reads).
    expect(stats.periods_processed).toBeGreaterThan(0);
  });

  it('tells a client that stops reading for a while exactly what it lost: the gap in its timestamps is the count on the link', async () => {
    const e = await startEngine(['--frames', '2048', '--input', 'demo', '--tap-backlog-ms', '300']); // 2048: see above
    const dropped = new Map<number, number>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const c of e.link.tap()?.clients ?? []) dropped.set(c.id, c.droppedFrames);
        await sleep(20);
      }
    })();
    // One client stops reading for 2 s after 1 s (the backlog holds 0.3 s), another reads all along.
    const [slow, steady] = await Promise.all([
      wyoming.read(`unix://${e.socket}`, 5, { pauseAt: 1, pauseFor: 2 }),
      wyoming.read(`unix://${e.socket}`, 5),
    ]);
    polling = false;
    await poll;
    const live = e.link.telemetry()!;
    const stats = await stopEngine(e);
    expect(live.dspLoadMax).toBeLessThan(1);
    expect(stats.missed_deadlines).toBe(live.missedDeadlines);
    expect(gaps(steady.summary)).toBe(0);
    // The slow one: its timestamps jump over what it lost, and what it lost is what the engine counted for it.
    expect(slow.summary.closed).toBe(false);
    let missingMs = 0;
    for (let i = 1; i < slow.summary.chunks.length; i++) {
      const [t0, samples, rate] = slow.summary.chunks[i - 1]!;
      missingMs += slow.summary.chunks[i]![0] - (t0 + (samples * 1000) / rate);
    }
    expect(missingMs).toBeGreaterThan(500);
    expect(gaps(slow.summary)).toBeGreaterThan(0);
    const counted = [...dropped.values()].filter((d) => d > 0);
    expect(counted).toHaveLength(1);
    expect(counted[0]).toBe((missingMs * 16000) / 1000);
  });

  it('a client that reconnects picks up live audio, not what it missed', async () => {
    const e = await startEngine(['--input', 'demo']);
    await wyoming.read(`unix://${e.socket}`, 0.5);
    await sleep(1500);
    const again = await wyoming.read(`unix://${e.socket}`, 1);
    await stopEngine(e);
    expect(again.summary.starts[0]!.timestamp).toBe(0);
    // One second of reading brings at most about a second of audio: nothing stale was kept for it.
    expect(again.pcm.length / 2).toBeLessThan(16000 * 1.1);
    expect(again.pcm.length / 2).toBeGreaterThan(16000 * 0.7);
  });

  it('on TCP, streams only to a client that sends the token first', async () => {
    const port = await freePort();
    const tokenFile = join(tmp.dir, 'token');
    writeFileSync(tokenFile, 'a-stream-token-of-enough-length\n');
    const e = await startEngine(['--input', 'tone:1000:-20', '--tap-source', 'mic_raw', '--tap-tcp', `127.0.0.1:${port}`,
      '--tap-token-file', tokenFile]);
    const [bad, good] = await Promise.all([
      wyoming.read(`tcp://127.0.0.1:${port}`, 1, { token: 'wrong-token-of-enough-length' }),
      wyoming.read(`tcp://127.0.0.1:${port}`, 1.5, { token: 'a-stream-token-of-enough-length' }),
    ]);
    // The tap thread publishes its counters every 50 ms.
    const tap = await waitFor('the refusal counted', () => (e.link.tap()?.clientsRefused === 1 ? e.link.tap() : null));
    await stopEngine(e);
    expect(bad.summary.closed).toBe(true);
    expect(bad.summary.starts).toHaveLength(0);
    expect(bad.pcm.length).toBe(0);
    expect(tap.clientsRefused).toBe(1);
    expect(tap.tcp).toBe(true);
    expect(good.summary.starts[0]).toMatchObject({ rate: 16000, width: 2, channels: 1 });
    expect(good.pcm.length / 2).toBeGreaterThan(8000);
  });

  it('answers describe with an info naming a mic program in the format it streams', async () => {
    const e = await startEngine(['--input', 'demo', '--tap-rate', '48000', '--tap-format', 'f32']);
    const mic = await wyoming.describe(`unix://${e.socket}`);
    await stopEngine(e);
    expect(mic).toEqual({ name: 'hushbox', installed: true, mic_format: { rate: 48000, width: 4, channels: 1 } });
  });

  it('refuses to start with a TCP port but no token file, naming what is missing', async () => {
    const child = spawn(defaultEngineBinary(), ['run', '--backend', 'sim', '--priority', '0', '--tap-tcp', '127.0.0.1:1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(2);
    expect(stderr).toContain('--tap-tcp needs --tap-token-file');
  });
});
