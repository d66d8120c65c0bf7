// Recording takes written by the engine's writer thread, read back with sox
// (not with our code, nor with libsndfile that wrote them) and compared with
// what the engine produced (the sim backend's --output of the same run).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon, type EngineLinkHandle, type RawRecording } from '../../src/engine/native.js';
import { defaultEngineBinary } from '../../src/paths.js';
import { waitFor } from '../fakes/net.js';
import { tempDir } from '../fakes/temp-context.js';
import { decodeWav } from '../fakes/wav.js';

const addon = loadAddon();
const tmp = tempDir('hushbox-rec-');
let n = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => tmp.cleanup());

interface Run {
  child: ChildProcess;
  link: EngineLinkHandle;
  linkName: string;
  output: string;
  stats: string;
}

async function startEngine(args: string[]): Promise<Run> {
  const id = `${process.pid}-${++n}`;
  const linkName = `hushbox-rec-test-${id}`;
  const output = join(tmp.dir, `engine-out-${id}.wav`);
  const stats = join(tmp.dir, `stats-${id}.json`);
  const child = spawn(
    defaultEngineBinary(),
    // SCHED_FIFO where allowed, so a loaded machine does not make the sim clock skip periods.
    ['run', '--backend', 'sim', '--input', 'noise', '--priority', '50', '--no-mlock', '--no-dma-latency', '--link', linkName,
      '--output', output, '--stats', stats, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 300; i++) {
    try {
      const link = new addon.EngineLink(linkName);
      if (link.state() === 'running') return { child, link, linkName, output, stats };
      link.close();
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`the engine did not come up: ${stderr}`);
}

async function stopEngine(r: Run, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  r.link.close();
  if (r.child.exitCode === null) {
    r.child.kill(signal);
    await once(r.child, 'exit');
  }
  addon.unlinkSegment(r.linkName);
}

/**
 * Stop the engine; whether it missed a deadline of its own making meanwhile (a period whose work, the hand-off to
 * the writer included, took a whole period: DSP load over 1), and whether link and stats agree on what it reports.
 */
async function stopCountingDeadlines(r: Run): Promise<{ overran: boolean; agree: boolean; fifo: boolean }> {
  const t = r.link.telemetry()!;
  await stopEngine(r);
  const stats = JSON.parse(readFileSync(r.stats, 'utf8')) as { missed_deadlines: number; realtime: { fifo: boolean } };
  return { overran: t.dspLoadMax >= 1, agree: stats.missed_deadlines >= t.missedDeadlines, fifo: stats.realtime.fifo };
}

/** The take as sox reads it: int24 values per channel, and what soxi says of its header. */
function readTake(path: string): { channels: Int32Array[]; rate: number; samples: number } {
  const channelCount = Number(execFileSync('soxi', ['-c', path]).toString().trim());
  const rate = Number(execFileSync('soxi', ['-r', path]).toString().trim());
  const samples = Number(execFileSync('soxi', ['-s', path]).toString().trim());
  const raw = execFileSync('sox', [path, '-t', 'raw', '-e', 'signed-integer', '-b', '32', '-'], { maxBuffer: 1 << 30 });
  const frames = raw.length / 4 / channelCount;
  const channels = Array.from({ length: channelCount }, () => new Int32Array(frames));
  for (let i = 0; i < frames; i++) for (let c = 0; c < channelCount; c++) channels[c]![i] = raw.readInt32LE((i * channelCount + c) * 4) >> 8;
  return { channels, rate, samples };
}

/** Where the take's first samples sit in the engine's output. */
function align(take: Int32Array, ref: Float64Array): number {
  for (let off = 0; off + 64 < ref.length; off++) {
    let ok = true;
    for (let i = 0; i < 64 && ok; i++) ok = Math.abs(take[i]! - ref[off + i]! * 8388608) <= 1;
    if (ok) return off;
  }
  throw new Error('the take is nowhere in the engine output');
}

function mismatches(take: Int32Array, ref: Float64Array, off: number, from: number, to: number): number {
  let bad = 0;
  for (let i = from; i < to; i++) if (Math.abs(take[i]! - ref[off + i]! * 8388608) > 1) bad++;
  return bad;
}

async function take(r: Run, path: string, source: 'mic_raw' | 'mic' | 'mix' | 'all', format: 'wav' | 'flac', ms: number): Promise<RawRecording> {
  expect(r.link.recordStart({ path, source, format }, 1)).toBe(true);
  await waitFor('recording', () => r.link.recording()?.state === 'recording');
  await sleep(ms);
  expect(r.link.recordStop(2)).toBe(true);
  return waitFor('stopped', () => {
    const rec = r.link.recording();
    return rec?.state === 'stopped' && rec.seq === 2 ? rec : null;
  });
}

describe('recording takes (engine writer thread, sim backend)', () => {
  it('writes 5 s of the output mix as 24-bit WAV that matches the engine output sample for sample', async () => {
    const r = await startEngine([]);
    const path = join(tmp.dir, 'mix.wav');
    const rec = await take(r, path, 'mix', 'wav', 5000);
    await stopEngine(r);
    expect(rec).toMatchObject({ reason: 'requested', channels: 2, rate: 48000, gaps: 0, gapFrames: 0, format: 'wav' });
    const t = readTake(path);
    expect(t.rate).toBe(48000);
    expect(t.samples).toBe(rec.framesWritten);
    expect(t.samples).toBeGreaterThan(48000 * 4); // a loaded machine may skip periods (the sim backend counts them as xruns)
    const ref = decodeWav(readFileSync(r.output));
    const off = align(t.channels[0]!, ref.channels[0]!);
    for (let c = 0; c < 2; c++) expect(mismatches(t.channels[c]!, ref.channels[c]!, off, 0, t.samples)).toBe(0);
  });

  it('writes FLAC losslessly, and "all" as raw mic, clean mic and the mix in separate channels', async () => {
    const r = await startEngine([]);
    const flac = join(tmp.dir, 'all.flac');
    const rec = await take(r, flac, 'all', 'flac', 1500);
    await stopEngine(r);
    expect(rec).toMatchObject({ channels: 4, format: 'flac', gaps: 0 });
    const t = readTake(flac);
    expect(t.channels).toHaveLength(4);
    expect(t.samples).toBe(rec.framesWritten);
    const ref = decodeWav(readFileSync(r.output));
    const off = align(t.channels[2]!, ref.channels[0]!);
    expect(mismatches(t.channels[2]!, ref.channels[0]!, off, 0, t.samples)).toBe(0);
    expect(mismatches(t.channels[3]!, ref.channels[1]!, off, 0, t.samples)).toBe(0);
    // The raw mic is not the processed one.
    expect(mismatches(t.channels[0]!, ref.channels[0]!, off, 0, 4800)).toBeGreaterThan(4000);
  });

  it('absorbs a writer stall shorter than its ring: no gap, every sample there', async () => {
    // Deadlines of the engine's own making (see stopCountingDeadlines), not late wake-ups: on this shared VM (a
    // Firecracker guest whose vCPUs are host threads) even an idle SCHED_FIFO thread wakes 2-16 ms late now and then
    // and over 40 ms at times. 2048-frame periods (43 ms) make a preemption that long inside a period's work rare.
    // An audio thread that waited for the stalled writer would take the whole stall; rt-guard.test.ts proves at
    // 64 frames that it makes no call that could.
    const r = await startEngine(['--frames', '2048', '--record-ring-ms', '1000', '--record-test-stall', '300:600']);
    const path = join(tmp.dir, 'short-stall.wav');
    const rec = await take(r, path, 'mix', 'wav', 2500);
    // No deadline missed while the writer stood still.
    expect(await stopCountingDeadlines(r)).toEqual({ overran: false, agree: true, fifo: true });
    expect(rec.ringMs).toBe(Math.floor((Math.pow(2, Math.ceil(Math.log2(48000 * 4))) / 2) * 1000 / 48000));
    expect(rec).toMatchObject({ gaps: 0, gapFrames: 0, gapsTotal: 0 });
    // The stall and what it did to the ring, as the writer reports them: 0.6 s away, the ring filled by about as much.
    expect(rec.longestStallNs).toBeGreaterThanOrEqual(600e6);
    expect(rec.ringHighWaterFrames).toBeGreaterThan(48000 * 0.5);
    expect(rec.ringHighWaterFrames).toBeLessThan((rec.ringMs / 1000) * 48000);
    expect(rec.bytes).toBe(statSync(path).size);
    const t = readTake(path);
    const ref = decodeWav(readFileSync(r.output));
    const off = align(t.channels[0]!, ref.channels[0]!);
    expect(mismatches(t.channels[0]!, ref.channels[0]!, off, 0, t.samples)).toBe(0);
  });

  it('records a stall longer than the ring as one counted gap of silence, exactly where and as long as reported', async () => {
    const r = await startEngine(['--frames', '2048', '--record-ring-ms', '500', '--record-test-stall', '300:2500']); // 2048: see above
    const path = join(tmp.dir, 'long-stall.wav');
    const rec = await take(r, path, 'all', 'wav', 4000);
    expect(rec.ringMs).toBeLessThan(1000); // 500 ms asked, rounded up to a power of two at 4 channels
    const mixPath = join(tmp.dir, 'after-stall.wav');
    // The stall hook fires once per engine run: a second take on the same engine, unstalled, has no gap.
    const again = await take(r, mixPath, 'mix', 'wav', 1000);
    // No deadline missed while the ring overflowed.
    expect(await stopCountingDeadlines(r)).toEqual({ overran: false, agree: true, fifo: true });
    expect(rec.gaps).toBe(1);
    // The ring was full, and the writer away for the whole stall; the engine's totals count both takes.
    expect(rec.ringHighWaterFrames).toBeGreaterThanOrEqual(Math.floor((rec.ringMs / 1000) * 48000) - 64);
    expect(rec.longestStallNs).toBeGreaterThanOrEqual(2500e6);
    expect(again).toMatchObject({ takesTotal: 2, gapsTotal: 1, gapFramesTotal: rec.gapFrames });
    expect(again.bytesTotal).toBe(statSync(path).size + statSync(mixPath).size);
    expect(rec.gapFrames).toBeGreaterThan(48000 * 0.3); // about 1.8 s: a 2.5 s stall less the 0.68 s ring
    expect(rec.gapFrames).toBeLessThan(48000 * 2.5);
    expect(again.gaps).toBe(0);
    // The take keeps its timeline: gap frames are in the file, as silence, between audio that is noise.
    const t = readTake(path);
    expect(t.samples).toBe(rec.framesWritten);
    const x = t.channels[0]!;
    let start = -1;
    for (let i = 0; i + 1 < x.length && start < 0; i++) if (x[i] === 0 && x[i + 1] === 0) start = i;
    expect(start).toBeGreaterThan(48000 * 0.3);
    let zeros = 0;
    while (start + zeros < x.length && x[start + zeros] === 0) zeros++;
    // Noise has an exact 0 about once in 2^21 samples: the run of zeros is the gap, to the frame.
    expect(zeros).toBe(rec.gapFrames);
    expect(x[start + zeros]).not.toBe(0);
  });

  it('stops a take with the reason disk_full when free space falls under the margin, and the file reads', async () => {
    // A 4 MB filesystem of the take's own (a tmpfs in a private mount namespace, util-linux's unshare),
    // so nothing else on the machine moves its free space; the take is copied out once the engine ends.
    const small = join(tmp.dir, 'small');
    const out = join(tmp.dir, 'copied');
    mkdirSync(small);
    mkdirSync(out);
    const linkName = `hushbox-rec-test-${process.pid}-full`;
    const child = spawn(
      'unshare',
      ['--mount', '--map-root-user', 'sh', '-c', 'mount -t tmpfs -o size=4m tmpfs "$0" && "$@"; cp "$0"/*.wav "$OUT"/', small,
        defaultEngineBinary(), 'run', '--backend', 'sim', '--input', 'noise', '--priority', '0', '--no-mlock', '--no-dma-latency',
        '--link', linkName, '--duration', '12', '--record-margin-mb', '1'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OUT: out } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit');
    const link = await waitFor(`the engine in its namespace (${stderr})`, () => {
      try {
        const l = new addon.EngineLink(linkName);
        if (l.state() === 'running') return l;
        l.close();
      } catch {
        // not up yet
      }
      return null;
    });
    // 4 channels at 48 kHz, 24-bit: 576 kB/s, so 3 MB above the margin last about 5 s.
    expect(link.recordStart({ path: join(small, 'full.wav'), source: 'all', format: 'wav' }, 1)).toBe(true);
    const rec = await waitFor('stopped by the disk', () => {
      const x = link.recording();
      return x?.state === 'stopped' ? x : null;
    }, 15_000);
    link.close();
    await exited;
    addon.unlinkSegment(linkName);
    expect(rec.reason).toBe('disk_full');
    expect(rec.freeBytes).toBeLessThan(1 << 20);
    expect(rec.framesWritten / 48000).toBeGreaterThan(4);
    expect(readTake(join(out, 'full.wav')).samples).toBe(rec.framesWritten);
  });

  it('finishes the file when the engine is told to stop mid-take, and a killed engine leaves a file that reads up to the last second', async () => {
    const r = await startEngine([]);
    const path = join(tmp.dir, 'engine-stop.wav');
    r.link.recordStart({ path, source: 'mic', format: 'wav' }, 1);
    await waitFor('recording', () => r.link.recording()?.state === 'recording');
    await sleep(1500);
    await stopEngine(r, 'SIGTERM');
    const t = readTake(path);
    expect(t.samples).toBeGreaterThan(48000 * 1.2);
    // The header's length is the file's: nothing past the data chunk, nothing missing.
    const wav = decodeWav(readFileSync(path));
    expect(wav.channels[0]!.length).toBe(t.samples);

    const k = await startEngine([]);
    const killed = join(tmp.dir, 'killed.wav');
    k.link.recordStart({ path: killed, source: 'mic', format: 'wav' }, 1);
    await waitFor('recording', () => k.link.recording()?.state === 'recording');
    await sleep(3500);
    const written = k.link.recording()!.framesWritten;
    await stopEngine(k, 'SIGKILL');
    // No finishing touch: the header rewritten every second says at least all but the last second or so.
    const samples = Number(execFileSync('soxi', ['-s', killed]).toString().trim());
    expect(samples).toBeGreaterThan(written - 48000 * 1.5);
    expect(samples).toBeLessThanOrEqual(written + 48000);
  });

  it('refuses to overwrite a file and says so', async () => {
    const r = await startEngine([]);
    const path = join(tmp.dir, 'exists.wav');
    await take(r, path, 'mic', 'wav', 200);
    r.link.recordStart({ path, source: 'mic', format: 'wav' }, 3);
    const rec = await waitFor('refused', () => {
      const x = r.link.recording();
      return x?.seq === 3 && x.state === 'failed' ? x : null;
    });
    await stopEngine(r);
    expect(rec.reason).toBe('open_error');
    expect(rec.error).toBe(17); // EEXIST
  });
});
