import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultEngineBinary } from '../../src/paths.js';
import { decodeWav, encodeWav, type Wav, type WavFormat } from '../fakes/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'hushbox-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function engine(args: string[]) {
  const r = spawnSync(defaultEngineBinary(), args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A second of a 40 Hz rumble under a 1 kHz tone on the mic; a 300 Hz tone on channel 2 (the instrument). */
function testSignal(rate: number, channels: number, format: WavFormat): Wav {
  const n = rate;
  const chans = Array.from({ length: channels }, (_, c) => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = i / rate;
      x[i] = c === 0 ? 0.3 * Math.sin(2 * Math.PI * 40 * t) + 0.2 * Math.sin(2 * Math.PI * 1000 * t) : 0.2 * Math.sin(2 * Math.PI * 300 * t);
    }
    return x;
  });
  return { rate, format, channels: chans };
}

/** Amplitude of the component at `hz` over the last half of x. */
function amplitudeAt(x: Float64Array, rate: number, hz: number): number {
  const from = Math.floor(x.length / 2);
  let re = 0;
  let im = 0;
  for (let i = from; i < x.length; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
    im -= x[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (x.length - from);
}

describe('hushbox-engine process', () => {
  const cases: Array<[WavFormat, number, number]> = [
    ['int16', 1, 48000],
    ['float32', 2, 48000],
    ['int24', 2, 44100],
    ['int32', 1, 96000],
  ];
  for (const [format, channels, rate] of cases) {
    it(`writes ${format} ${channels === 1 ? 'mono' : 'stereo'} at ${rate} Hz in the format it read, processed`, () => {
      const input = testSignal(rate, channels, format);
      const inPath = join(dir, `in-${format}-${channels}.wav`);
      const outPath = join(dir, `out-${format}-${channels}.wav`);
      writeFileSync(inPath, encodeWav(input));
      const r = engine(['process', inPath, outPath]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = decodeWav(readFileSync(outPath));
      expect(out.format).toBe(format);
      expect(out.rate).toBe(rate);
      expect(out.channels.length).toBe(channels);
      expect(out.channels[0]!.length).toBe(rate);
      // The default chain cuts the mic's 40 Hz rumble (80 Hz high-pass) and keeps the 1 kHz tone
      // (the default mix puts both inputs on both outputs).
      expect(amplitudeAt(out.channels[0]!, rate, 40)).toBeLessThan(0.1 * amplitudeAt(input.channels[0]!, rate, 40));
      expect(amplitudeAt(out.channels[0]!, rate, 1000)).toBeGreaterThan(0.05);
    });
  }

  it('--set mic.hpf.bypass=1 lets the rumble through', () => {
    const inPath = join(dir, 'in-set.wav');
    writeFileSync(inPath, encodeWav(testSignal(48000, 2, 'float32')));
    const a = join(dir, 'out-default.wav');
    const b = join(dir, 'out-nohpf.wav');
    expect(engine(['process', inPath, a]).status).toBe(0);
    expect(engine(['process', inPath, b, '--set', 'mic.hpf.bypass=1', '--frames', '128']).status).toBe(0);
    const lowA = amplitudeAt(decodeWav(readFileSync(a)).channels[0]!, 48000, 40);
    const lowB = amplitudeAt(decodeWav(readFileSync(b)).channels[0]!, 48000, 40);
    expect(lowB).toBeGreaterThan(10 * lowA);
  });

  it('reads a preset and a profile; refuses unknown ids and out-of-range values by name, writing nothing', () => {
    const inPath = join(dir, 'in-preset.wav');
    writeFileSync(inPath, encodeWav(testSignal(48000, 1, 'int16')));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ schema: 1, name: 'Loud', params: { 'mic.comp.threshold': -30, 'master.bypass': true } }));
    const ok = join(dir, 'out-good.wav');
    expect(engine(['process', inPath, ok, '--preset', good, '--profile', 'streaming']).status).toBe(0);
    // master.bypass from the preset: bit-exact passthrough.
    expect(readFileSync(ok).subarray(-2000)).toEqual(readFileSync(inPath).subarray(-2000));

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ schema: 1, params: { 'mic.comp.threshold': -99, 'mic.no.such': 1 } }));
    const out = join(dir, 'out-bad.wav');
    const r = engine(['process', inPath, out, '--preset', bad]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown parameter: mic\.no\.such/);
    expect(r.stderr).toMatch(/mic\.comp\.threshold: -99 is outside -60\.\.0/);
    expect(engine(['process', inPath, out, '--profile', 'loud']).stderr).toMatch(/unknown profile 'loud'/);
    expect(engine(['process', join(dir, 'missing.wav'), out]).status).not.toBe(0);
    writeFileSync(join(dir, 'not-a-wav.wav'), 'hello');
    expect(engine(['process', join(dir, 'not-a-wav.wav'), out]).stderr).toMatch(/not-a-wav\.wav/);
    expect(readdirSync(dir).filter((f) => f.startsWith('out-bad'))).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});

describe('hushbox-engine params --json', () => {
  it('lists every parameter id agreed in PARAMS.md (noise suppression aside)', () => {
    const r = engine(['params', '--json']);
    expect(r.status).toBe(0);
    const ids = new Set((JSON.parse(r.stdout) as Array<{ id: string }>).map((p) => p.id));
    const strip = [
      'trim.gain', 'trim.polarity', 'hpf.bypass', 'hpf.freq', 'hpf.slope', 'hum.bypass', 'hum.mains', 'hum.harmonics',
      'gate.bypass', 'gate.threshold', 'gate.range', 'gate.attack', 'gate.hold', 'gate.release', 'gate.hysteresis',
      'comp.bypass', 'comp.threshold', 'comp.ratio', 'comp.knee', 'comp.attack', 'comp.release', 'comp.makeup',
      'eq.bypass', 'eq.low.freq', 'eq.low.gain', 'eq.peak1.freq', 'eq.peak1.gain', 'eq.peak1.q', 'eq.peak2.freq',
      'eq.peak2.gain', 'eq.peak2.q', 'eq.high.freq', 'eq.high.gain', 'limit.bypass', 'limit.ceiling', 'limit.release',
      'out.gain',
    ];
    const expected = [
      ...['mic', 'inst'].flatMap((s) => strip.map((p) => `${s}.${p}`)),
      'mix.mic.gain', 'mix.mic.pan', 'mix.inst.gain', 'mix.inst.pan', 'master.gain', 'master.bypass',
      'master.limit.bypass', 'master.limit.ceiling', 'master.limit.release',
    ];
    for (const id of expected) expect(ids.has(id), id).toBe(true);
  });

  it('lists the master limiter on the outputs, with the strip limiter\'s ranges', () => {
    const table = JSON.parse(engine(['params', '--json']).stdout) as Array<{ id: string; unit: string; scale: string; min: number; max: number; default: number }>;
    const byId = new Map(table.map((p) => [p.id, p]));
    expect(byId.get('master.limit.bypass')).toMatchObject({ scale: 'bool', min: 0, max: 1, default: 0 });
    expect(byId.get('master.limit.ceiling')).toMatchObject({ unit: 'dBFS', min: -12, max: 0, default: -1 });
    const { unit, scale, min, max, default: def } = byId.get('mic.limit.release')!;
    expect(byId.get('master.limit.release')).toMatchObject({ unit, scale, min, max, default: def });
  });
});

describe('hushbox-engine profiles --json', () => {
  it('lists studio, balanced, streaming and lowlatency with their I/O settings and known parameter ids', () => {
    const r = engine(['profiles', '--json']);
    expect(r.status).toBe(0);
    const profiles = JSON.parse(r.stdout) as Array<{ name: string; rate: number; frames: number; periods: number; params: Record<string, number> }>;
    expect(profiles.map((p) => p.name)).toEqual(['studio', 'balanced', 'streaming', 'lowlatency']);
    const ids = new Set((JSON.parse(engine(['params', '--json']).stdout) as Array<{ id: string }>).map((p) => p.id));
    for (const p of profiles) {
      expect(p.rate).toBeGreaterThanOrEqual(44100);
      expect(p.frames).toBeGreaterThanOrEqual(16);
      for (const id of Object.keys(p.params)) expect(ids.has(id), id).toBe(true);
    }
  });
});
