// The JACK backend against a real JACK server: jackd2 on its dummy driver (no
// sound card), the real engine, and hushbox-jack-probe (native/test/jack_probe),
// a JACK client pair that feeds the engine a known signal and records what
// comes back.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineService } from '../../src/engine/engine-service.js';
import { defaultEngineBinary, nativeBuildDir } from '../../src/paths.js';
import { contextWith, tempDir, waitFor } from '../fakes/context.js';
import { transparentParams } from '../fakes/transparent.js';

const probeBinary = join(nativeBuildDir, 'hushbox-jack-probe');
// A server of our own: other tests (and people) may run JACK servers on this machine.
const server = `hbtest-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
process.env.JACK_DEFAULT_SERVER = server;

interface ProbeChannel {
  delay: number;
  compared: number;
  differed: number;
  missing: number;
  gaps: number;
  after_gap: number;
}
interface ProbeResult {
  rate: number;
  frames: number;
  xruns: number;
  capture_latency: [number, number];
  playback_latency: [number, number];
  cpu_load: number;
  channels: ProbeChannel[];
}

let jackd: ChildProcess | undefined;
const engines: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

async function startJackd(frames: number): Promise<void> {
  const child = spawn('jackd', ['-d', 'dummy', '-r', '48000', '-p', String(frames)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  jackd = child;
  await waitFor(`jackd (${err})`, () => spawnSync('jack_lsp', [], { stdio: 'ignore', timeout: 5000 }).status === 0, 10_000, 50);
}

async function stopJackd(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const child = jackd;
  jackd = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

function ports(): string[] {
  const r = spawnSync('jack_lsp', [], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

function transparentSets(): string[] {
  const params = JSON.parse(execFileSync(defaultEngineBinary(), ['params', '--json'], { encoding: 'utf8' })) as Array<{ id: string }>;
  return Object.entries(transparentParams(params.map((p) => p.id))).flatMap(([id, v]) => ['--set', `${id}=${v}`]);
}

/** The engine as a JACK client until it exits (after `seconds`); resolves with its stats. */
function runEngine(name: string, seconds: number, dir: string, extra: string[] = []): { done: Promise<Record<string, unknown>>; child: ChildProcess } {
  const stats = join(dir, `${name}.json`);
  const child = spawn(
    defaultEngineBinary(),
    ['run', '--backend', 'jack', '--jack-name', name, '--channels', '2', '--priority', '0', '--no-mlock', '--duration', String(seconds), '--stats', stats, ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  engines.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = once(child, 'exit').then(([code]) => {
    expect(code, err).toBe(0);
    return JSON.parse(readFileSync(stats, 'utf8')) as Record<string, unknown>;
  });
  return { done, child };
}

function probe(to: string[], from: string[], seconds: number, extra: string[] = []): ProbeResult {
  const r = spawnSync(probeBinary, ['--to', to.join(','), '--from', from.join(','), '--seconds', String(seconds), '--name', `p${process.pid}`, ...extra], {
    encoding: 'utf8',
    timeout: (seconds + 20) * 1000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ProbeResult;
}

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const e of engines.splice(0)) if (e.exitCode === null && e.signalCode === null) e.kill('SIGKILL');
  await stopJackd();
});
afterAll(() => stopJackd('SIGKILL'));

describe('the JACK backend on a real jackd (dummy driver)', () => {
  it('passes audio through bit-exact with every stage bypassed, delayed by exactly the latency it reports', async () => {
    await startJackd(256);
    const { dir, remove } = tempDir('hushbox-jack-');
    cleanups.push(remove);
    const { done } = runEngine('hbe', 5, dir, transparentSets());
    await waitFor('the engine ports', () => ports().includes('hbe:out_right'), 5000, 20);
    // Ports named after the strips.
    expect(ports().filter((p) => p.startsWith('hbe:'))).toEqual(['hbe:mic', 'hbe:out_left', 'hbe:inst', 'hbe:out_right']);
    const r = probe(['hbe:mic', 'hbe:inst'], ['hbe:out_left', 'hbe:out_right'], 2);
    const stats = await done;
    expect(r.rate).toBe(48000);
    expect(stats).toMatchObject({ backend: 'jack', rate: 48000, frames: 256, state: 'running' });
    const latency = stats.latency_frames as number;
    expect(latency).toBeGreaterThan(0); // the chain's look-ahead, even with every stage bypassed
    // JACK's latency graph carries the chain's latency: source (0) + chain on the way out.
    expect(r.capture_latency).toEqual([latency, latency]);
    expect(r.playback_latency).toEqual([latency, latency]);
    for (const ch of r.channels) {
      expect(ch.delay).toBe(latency);
      // Every recorded sample equals the source's, bit for bit (a cycle JACK skipped under load
      // leaves a gap; right after one the engine's delay line still holds older samples).
      expect(ch.differed).toBe(0);
      expect(ch.after_gap).toBeLessThanOrEqual(ch.gaps * latency);
      expect(ch.compared - ch.after_gap).toBeGreaterThan(24_000);
    }
  });

  it('counts the xruns JACK reports (a client stalls the graph for 60 ms)', async () => {
    await startJackd(256);
    const { dir, remove } = tempDir('hushbox-jack-');
    cleanups.push(remove);
    const { done } = runEngine('hbx', 4, dir);
    await waitFor('the engine ports', () => ports().includes('hbx:out_right'), 5000, 20);
    const stalledAt = Date.now();
    const r = probe(['hbx:mic', 'hbx:inst'], ['hbx:out_left', 'hbx:out_right'], 2, ['--stall-ms', '60']);
    const stats = await done;
    expect(r.xruns).toBeGreaterThan(0);
    expect(stats.xruns as number).toBeGreaterThan(0);
    expect(stats.missed_deadlines).toBe(stats.xruns);
    // One of the engine's xruns is the stall's: about a second into the probe (CLOCK_MONOTONIC s, as /proc/uptime).
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const stallUptime = uptime - (Date.now() - stalledAt) / 1000 + 1;
    const times = stats.xrun_times_s as number[];
    expect(times.some((t) => Math.abs(t - stallUptime) < 1.5), JSON.stringify({ times, stallUptime })).toBe(true);
  });

  it('under the supervisor: waits while the server is gone, comes back with its parameters, follows a period change', async () => {
    await startJackd(256);
    const jackName = `hbs${process.pid % 10000}`;
    const ctx = contextWith({ engine: { backend: 'jack', priority: 0, jackName } as never });
    const engine = new EngineService(ctx, { devicePollMs: 100 });
    cleanups.push(() => engine.stop());
    await engine.start();
    expect(engine.status().state).toBe('running');
    await engine.setParams({ 'mic.trim.gain': -7.5, 'master.gain': -3 }, 'test');
    const pid = engine.status().pid;
    await waitFor('the engine ports', () => ports().includes(`${jackName}:mic`), 5000, 20);

    // The period changes under the engine: it prepares its chain again and goes on.
    execFileSync('jack_bufsize', ['512'], { stdio: 'ignore', timeout: 10_000 });
    await waitFor('telemetry at 512 frames', () => engine.telemetry()?.frames === 512, 5000);

    // The server dies: the engine says it waits for it, and stays alive.
    await stopJackd('SIGKILL');
    await waitFor('waiting_for_device', () => engine.status().state === 'waiting_for_device', 5000);
    expect(engine.status().pid).toBe(pid);

    // The server comes back: the engine reconnects, with the parameters it had.
    await startJackd(128);
    await waitFor('running again', () => engine.status().state === 'running', 10_000);
    await waitFor('the engine ports again', () => ports().includes(`${jackName}:out_left`), 5000, 20);
    const values = Object.fromEntries(engine.params().map((p) => [p.id, p.value]));
    expect(values['mic.trim.gain']).toBeCloseTo(-7.5, 5);
    expect(values['master.gain']).toBeCloseTo(-3, 5);
    await waitFor('telemetry at the new server period', () => engine.telemetry()?.frames === 128, 5000);
    // Processing again: periods go up.
    const before = engine.telemetry()!.periodsProcessed;
    await waitFor('periods processed', () => engine.telemetry()!.periodsProcessed > before + 50, 5000);
  });
});
