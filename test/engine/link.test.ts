import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon, type EngineLinkHandle } from '../../src/engine/native.js';
import { defaultEngineBinary } from '../../src/paths.js';
import { waitFor } from '../fakes/net.js';
import { transparentParams } from '../fakes/transparent.js';

const addon = loadAddon();

function startEngine(name: string, extra: string[] = []): ChildProcess {
  return spawn(defaultEngineBinary(), ['run', '--backend', 'sim', '--input', 'tone', '--priority', '0', '--link', name, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function attach(name: string): Promise<EngineLinkHandle> {
  return waitFor(`link ${name}`, () => {
    try {
      const link = new addon.EngineLink(name);
      if (link.state() === 'running') return link;
      link.close();
    } catch (err) {
      // Not there yet, or made but its header not yet written (the engine maps the segment, then fills it): wait.
      if (!['ELINK_OPEN', 'ELINK_MAGIC'].includes((err as { code?: string }).code ?? '')) throw err;
    }
    return undefined;
  });
}

describe('the engine link (addon <-> engine over shared memory)', () => {
  let engine: ChildProcess | undefined;
  const name = `hushbox-linktest-${process.pid}`;

  afterEach(async () => {
    if (engine && engine.exitCode === null) {
      engine.kill('SIGTERM');
      await once(engine, 'exit');
    }
    addon.unlinkSegment(name);
  });

  it('maps the segment, reads the parameter table, telemetry and heartbeats', async () => {
    engine = startEngine(name);
    const link = await attach(name);
    expect(link.enginePid).toBe(engine.pid);
    const params = link.params();
    expect(params.map((p) => p.id)).toContain('mic.trim.gain');
    expect(params.find((p) => p.id === 'mic.trim.gain')).toMatchObject({ unit: 'dB', min: -24, max: 24, default: 0, value: 0 });
    const h1 = link.heartbeats();
    await new Promise((r) => setTimeout(r, 100));
    const h2 = link.heartbeats();
    expect(h2.audio.count).toBeGreaterThan(h1.audio.count);
    expect(h2.housekeeping.count).toBeGreaterThan(h1.housekeeping.count);
    const t = link.telemetry()!;
    expect(t).toMatchObject({ state: 'running', rate: 48000, frames: 64, channels: 2 });
    // The default tone is -12 dBFS peak.
    expect(20 * Math.log10(t.peakIn[0]!)).toBeCloseTo(-12, 0);
    link.close();
  });

  it('pushes a batch that the audio thread applies at one block boundary and acknowledges', async () => {
    engine = startEngine(name);
    const link = await attach(name);
    link.events(); // drain start-up events
    // The trims, and everything else out of the way (see transparentParams).
    const params = link.params();
    const index = new Map(params.map((p) => [p.id, p.index]));
    const batch: Array<[number, number]> = [
      [index.get('mic.trim.gain')!, -6],
      [index.get('inst.trim.gain')!, 6],
      ...Object.entries(transparentParams(params.map((p) => p.id))).map(([id, v]): [number, number] => [index.get(id)!, v]),
    ];
    expect(link.setParams(batch, 42)).toBe(true);
    const applied = await waitFor('the applied event', () => link.events().find((e) => e.type === 'applied'));
    expect(applied.seq).toBe(42);
    const values = new Map(link.params().map((p) => [p.id, p.value]));
    expect([values.get('mic.trim.gain'), values.get('inst.trim.gain')]).toEqual([-6, 6]);
    await new Promise((r) => setTimeout(r, 100));
    const t = link.telemetry()!;
    expect(t.appliedSeq).toBe(42);
    expect(20 * Math.log10(t.peakOut[0]! / t.peakIn[0]!)).toBeCloseTo(-6, 1);
    expect(20 * Math.log10(t.peakOut[1]! / t.peakIn[1]!)).toBeCloseTo(6, 1);
    link.close();
  });

  it('rejects bad arguments with coded errors instead of crashing', async () => {
    engine = startEngine(name);
    const link = await attach(name);
    expect(() => link.setParams([[999, 1]], 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => link.setParams([], 1)).toThrow(/1\.\.1024/);
    link.close();
    expect(() => link.telemetry()).toThrow(expect.objectContaining({ code: 'ELINK_CLOSED' }));
  });

  it('refuses a segment that is not a hushbox link, and a missing one', () => {
    const bogus = `hushbox-bogus-${process.pid}`;
    writeFileSync(`/dev/shm/${bogus}`, Buffer.alloc(4096, 0x41));
    try {
      expect(() => new addon.EngineLink(bogus)).toThrow(expect.objectContaining({ code: 'ELINK_MAGIC' }));
    } finally {
      addon.unlinkSegment(bogus);
    }
    expect(() => new addon.EngineLink(`hushbox-missing-${process.pid}`)).toThrow(expect.objectContaining({ code: 'ELINK_OPEN' }));
    expect(() => new addon.EngineLink('../etc/passwd')).toThrow(/invalid link name/);
  });

  it('refuses the segment of an engine built with another layout (9, before 14-bit MIDI pairs), naming both versions', () => {
    expect(addon.linkVersion).toBe(10);
    const old = `hushbox-oldlayout-${process.pid}`;
    const header = Buffer.alloc(1 << 20);
    header.writeUInt32LE(0x48534842, 0); // "HSHB"
    header.writeUInt32LE(9, 4);
    header.writeUInt32LE(header.length, 8);
    writeFileSync(`/dev/shm/${old}`, header);
    try {
      expect(() => new addon.EngineLink(old)).toThrow(expect.objectContaining({ code: 'ELINK_VERSION', message: expect.stringMatching(/layout version 9, this addon speaks version 10/) }));
    } finally {
      addon.unlinkSegment(old);
    }
  });

  it('carries the spectrum: the 440 Hz tone at the mic in its 1/6-octave band', async () => {
    engine = startEngine(name);
    const link = await attach(name);
    try {
      const s = await waitFor('a spectrum over a whole window of the tone', () => {
        const x = link.spectrum();
        return x && x.seq > 6 ? x : undefined;
      });
      expect(s).toMatchObject({ rate: 48000, window: 8192 });
      expect(s.centreHz).toHaveLength(60);
      // 440 Hz: 6 * log2(0.44) = -7.1, the band of 1000 * 2^(-7/6) = 445.4 Hz.
      const band = 33 - 7;
      expect(s.centreHz[band]).toBeCloseTo(445.4, 1);
      expect(s.inDb.indexOf(Math.max(...s.inDb))).toBe(band);
      expect(s.inDb[band]).toBeGreaterThan(-20); // the tone input's default -12 dBFS
      expect(s.outDb).toHaveLength(60);
    } finally {
      link.close();
    }
  });

  it('the engine removes its segment when it stops', async () => {
    engine = startEngine(name, ['--duration', '0.3']);
    await attach(name).then((l) => l.close());
    await once(engine, 'exit');
    expect(engine.exitCode).toBe(0);
    expect(existsSync(`/dev/shm/${name}`)).toBe(false);
  });

  it('the engine refuses bad options with a message naming them', async () => {
    const bad = spawn(defaultEngineBinary(), ['run', '--frames', 'lots'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    bad.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(bad, 'exit')) as [number];
    expect(code).toBe(2);
    expect(err).toContain("--frames expects a whole number, got 'lots'");
  });
});
