import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { noSpaceError } from '../config/data-space.js';
import { HushboxError, UnsupportedError } from '../errors.js';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../presets/atomic-file.js';
import type { ServiceContext } from '../service.js';
import type { EngineService } from './engine-service.js';
import { engineProfiles, profileOf } from './profiles.js';

export const LatencyResultSchema = Type.Object({
  measuredAt: Type.String({ description: 'ISO 8601' }),
  found: Type.Boolean({ description: 'the test signal came back (a cable from an output to an input)' }),
  roundTripFrames: Type.Union([Type.Integer(), Type.Null()], { description: 'output to input, frames; null when not found' }),
  roundTripMs: Type.Union([Type.Number(), Type.Null()]),
  reportedFrames: Type.Integer({ description: 'what the engine reports for these settings (periods x period), to compare' }),
  correlation: Type.Number({ description: 'how clearly the signal was found, 0..1 (found above 0.5)' }),
  bitExact: Type.Boolean({ description: 'the signal came back sample for sample (a digital loopback)' }),
  xruns: Type.Integer({ description: 'xruns during the measurement (the figure is less sure with any)' }),
  backend: Type.String(),
  device: Type.String(),
  rate: Type.Integer(),
  period: Type.Integer(),
  periods: Type.Integer(),
  profile: Type.String({ description: "the I/O profile measured, or 'custom'" }),
});
export type LatencyResult = Static<typeof LatencyResultSchema>;

export const LatencySettingsSchema = Type.Object({
  last: Type.Union([LatencyResultSchema, Type.Null()], { description: 'the last measurement' }),
  good: Type.Union([LatencyResultSchema, Type.Null()], { description: 'the last one that found the signal' }),
});
export type LatencySettings = Static<typeof LatencySettingsSchema>;

export const LATENCY_FILE = 'latency.json';
const TIMEOUT_MS = 20_000;

interface EngineJson {
  found: boolean;
  frames: number;
  ms: number;
  correlation: number;
  bit_exact: boolean;
  xruns: number;
  rate: number;
  period: number;
  periods: number;
  reported_frames: number;
}

/** The signal did not come back: no cable from an output to an input, or the gain too low. */
export class LatencyNotFoundError extends HushboxError {
  override readonly statusCode = 422;
  constructor(message: string) {
    super('latency_not_found', message);
  }
}

/**
 * The round-trip measurement (`hushbox-engine latency`: a maximum-length
 * sequence out, found in the input by cross-correlation) run from the API:
 * the engine is stopped for the second it takes (it holds the device), and
 * the result is kept in `<data>/latency.json`.
 */
export class LatencyMeasure {
  private readonly log: Logger;
  private kept: LatencySettings = { last: null, good: null };
  private running: Promise<LatencyResult> | undefined;

  constructor(
    private readonly deps: {
      ctx: ServiceContext;
      engine: EngineService;
      onMeasured?: (r: LatencyResult) => void;
      /** What the sim device's input is during the measurement: its simulated cable (tests may unplug it). */
      simInput?: 'loopback' | 'silence';
    },
  ) {
    this.log = deps.ctx.log.child({ service: 'latency' });
    try {
      const v: unknown = JSON.parse(readFileSync(join(deps.ctx.dataDir, LATENCY_FILE), 'utf8'));
      if (Value.Check(LatencySettingsSchema, v)) this.kept = v;
    } catch {
      // none yet, or unreadable: measured again on request
    }
  }

  settings(): LatencySettings {
    return structuredClone(this.kept);
  }

  /** Measure now (one at a time); answers the result, or throws LatencyNotFoundError (the result is kept either way). */
  measure(): Promise<LatencyResult> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<LatencyResult> {
    const { engine } = this.deps;
    const c = engine.ioConfig();
    const args = ['latency', '--json', '--rate', String(c.rate), '--frames', String(c.frames), '--periods', String(c.periods), '--channels', String(c.channels), '--priority', String(c.priority)];
    if (c.backend === 'alsa') args.push('--backend', 'alsa', '--device', c.device);
    // The sim device with a simulated cable: what the box's own tests measure.
    else if (c.backend === 'sim') args.push('--backend', 'sim', '--input', this.deps.simInput ?? 'loopback');
    else throw new UnsupportedError(`the round trip is measured on an ALSA device (the engine uses the '${c.backend}' backend)`);
    const out = await engine.withEngineStopped('the latency measurement', () => runEngine(c.binary, args));
    let parsed: EngineJson;
    try {
      parsed = JSON.parse(out.stdout) as EngineJson;
    } catch {
      throw new HushboxError('latency_failed', `the measurement did not run: ${out.stderr.trim().replace(/^hushbox-engine: latency: /, '') || out.error || 'no answer'}`);
    }
    const result: LatencyResult = {
      measuredAt: new Date().toISOString(),
      found: parsed.found,
      roundTripFrames: parsed.found ? parsed.frames : null,
      roundTripMs: parsed.found ? parsed.ms : null,
      reportedFrames: parsed.reported_frames,
      correlation: parsed.correlation,
      bitExact: parsed.bit_exact,
      xruns: parsed.xruns,
      backend: c.backend,
      device: c.backend === 'alsa' ? c.device : c.backend,
      rate: parsed.rate,
      period: parsed.period,
      periods: parsed.periods,
      profile: profileOf(c, engineProfiles(c.binary)),
    };
    this.keep(result);
    this.deps.onMeasured?.(result);
    if (!result.found) {
      throw new LatencyNotFoundError(`the test signal did not come back (best correlation ${result.correlation.toFixed(3)}): connect an output to an input with a cable, turn the input gain up, and measure again`);
    }
    return result;
  }

  private keep(r: LatencyResult): void {
    this.kept = { last: r, good: r.found ? r : this.kept.good };
    try {
      writeFileAtomic(join(this.deps.ctx.dataDir, LATENCY_FILE), `${JSON.stringify(this.kept)}\n`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.log.error({ err: e.message }, 'cannot keep the latency measurement');
      if (e.code === 'ENOSPC') throw noSpaceError(this.deps.ctx.dataDir, 'the measurement is done but could not be kept');
      throw new HushboxError('not_saved', `the measurement is done but could not be kept (${e.code ?? e.message})`);
    }
  }
}

function runEngine(binary: string, args: string[]): Promise<{ stdout: string; stderr: string; error: string | null }> {
  return new Promise((resolve) =>
    execFile(binary, args, { timeout: TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, error: error && error.code !== 1 ? error.message : null }),
    ),
  );
}
