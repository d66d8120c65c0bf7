import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import type { EngineService } from '../engine/engine-service.js';
import type { RawRecording } from '../engine/native.js';
import { ConflictError, EngineError, NotFoundError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import { TakeNameSchema, type CurrentTake, type Recordings, type StartTake, type Take } from './schema.js';
import { readTakeHeader, repairWav } from './take-files.js';

/** A take stops before the data partition's free space falls under this, so presets and settings stay writable. */
export const RECORDING_MARGIN_MB = 64;
const ANSWER_TIMEOUT_MS = 3000;
/** Re-encoding a cut FLAC take runs at many times real time; two hours of 4 channels take well under this. */
const REPAIR_TIMEOUT_MS = 600_000;
const execFileAsync = promisify(execFile);

/** The current preset's name, for the file name; absent in tests without presets. */
type PresetName = () => string | null;

function slug(s: string): string {
  return s.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'take';
}

/**
 * Recording takes. The engine's writer thread writes them (so a take is
 * finished even when this process dies); this service names them, asks the
 * engine to start and stop, lists, serves and deletes them, and repairs a
 * take cut by a power loss at the next start (WAV header fixed, FLAC finished).
 */
export class RecordingsService implements Service {
  readonly name = 'recordings';
  private readonly log: Logger;
  readonly dir: string;
  private seq = 0;
  /** The take this supervisor started, by file name. */
  private currentName: string | null = null;
  private repairs: Promise<void> = Promise.resolve();
  private readonly abortRepairs = new AbortController();

  constructor(private readonly deps: { ctx: ServiceContext; engine: EngineService; presetName?: PresetName }) {
    this.log = deps.ctx.log.child({ service: this.name });
    this.dir = join(deps.ctx.dataDir, 'recordings');
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    // No engine runs yet. A WAV whose header disagrees with its length was cut (power loss, a killed engine):
    // its header is set to the whole frames there, at once. A FLAC whose STREAMINFO gives no length was cut
    // too: the engine re-encodes its whole frames into a fresh file renamed over it (libsndfile, which Node
    // lacks), in the background, so a long take does not hold the audio back.
    // What a repair stopped half way left (the take it was for is still whole, and is repaired again below).
    for (const leftover of readdirSync(this.dir).filter((n) => n.endsWith('.flac.repair'))) rmSync(join(this.dir, leftover), { force: true });
    const cutFlacs: string[] = [];
    for (const name of this.names()) {
      const path = join(this.dir, name);
      try {
        if (name.endsWith('.wav')) {
          if (repairWav(path)) this.log.warn({ take: name }, 'take header repaired (the take was cut); kept');
        } else if (readTakeHeader(path).frames === null) cutFlacs.push(name);
      } catch (err) {
        this.log.warn({ take: name, err: (err as Error).message }, 'a cut take could not be repaired; left as it is');
      }
    }
    this.repairs = cutFlacs.length ? this.finishFlacs(cutFlacs) : Promise.resolve();
  }

  async stop(): Promise<void> {
    // A repair stopped half way leaves the take as it was (the fresh file is only renamed over it once whole).
    this.abortRepairs.abort();
    await this.repairs;
  }

  /** Resolves once the cut takes found at start are finished (or could not be). */
  repaired(): Promise<void> {
    return this.repairs;
  }

  private async finishFlacs(names: string[]): Promise<void> {
    for (const name of names) {
      if (this.abortRepairs.signal.aborted) return;
      try {
        const { stdout } = await execFileAsync(this.deps.ctx.config.engine.binary, ['repair-take', join(this.dir, name), '--json'], {
          timeout: REPAIR_TIMEOUT_MS,
          signal: this.abortRepairs.signal,
        });
        const r = JSON.parse(stdout) as { repaired: boolean; frames: number; rate: number };
        if (r.repaired) this.log.warn({ take: name, seconds: r.frames / (r.rate || 1) }, 'take finished (the take was cut); kept');
      } catch (err) {
        if (!this.abortRepairs.signal.aborted) this.log.warn({ take: name, err: (err as Error).message }, 'a cut take could not be repaired; left as it is');
      }
    }
  }

  /** [control] The engine's options for recording (asked at every engine start). */
  engineArgs(): string[] {
    return ['--record-margin-mb', String(RECORDING_MARGIN_MB)];
  }

  private names(): string[] {
    try {
      return readdirSync(this.dir).filter((n) => Value.Check(TakeNameSchema, n));
    } catch {
      return [];
    }
  }

  private current(rec: RawRecording | null = this.deps.engine.recording()): CurrentTake | null {
    if (!rec) return null;
    const rate = rec.rate || 1;
    return {
      state: rec.state,
      reason: rec.reason,
      name: rec.path ? rec.path.slice(rec.path.lastIndexOf('/') + 1) : null,
      source: rec.source,
      format: rec.format,
      channels: rec.channels,
      rate: rec.rate,
      seconds: rec.framesWritten / rate,
      gaps: rec.gaps,
      gapSeconds: rec.gapFrames / rate,
      ringSeconds: rec.ringMs / 1000,
    };
  }

  private recordingName(): string | null {
    const rec = this.deps.engine.recording();
    return rec?.state === 'recording' && rec.path ? rec.path.slice(rec.path.lastIndexOf('/') + 1) : null;
  }

  list(): Recordings {
    const live = this.recordingName();
    const takes: Take[] = [];
    for (const name of this.names()) {
      let st;
      try {
        st = statSync(join(this.dir, name));
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      const h = readTakeHeader(join(this.dir, name));
      takes.push({
        name,
        format: name.endsWith('.flac') ? 'flac' : 'wav',
        bytes: st.size,
        createdAt: st.mtime.toISOString(),
        rate: h.rate,
        channels: h.channels,
        durationS: h.frames !== null && h.rate ? Math.round((h.frames / h.rate) * 1000) / 1000 : null,
        recording: name === live,
      });
    }
    takes.sort((a, b) => b.name.localeCompare(a.name));
    const fs = statfsSync(this.dir);
    return {
      current: this.current(),
      takes,
      disk: { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize, marginBytes: RECORDING_MARGIN_MB * 1048576 },
    };
  }

  /** Start a take; answers once the engine's writer has the file open (or says why not). */
  async startTake(opts: StartTake): Promise<CurrentTake> {
    if (this.recordingName()) throw new ConflictError(`a take is already recording (${this.recordingName()}); stop it first`);
    const fs = statfsSync(this.dir);
    if (fs.bavail * fs.bsize < RECORDING_MARGIN_MB * 1048576 * 2) {
      throw new ConflictError(`the data partition has ${Math.floor((fs.bavail * fs.bsize) / 1048576)} MB free; a take needs more than ${RECORDING_MARGIN_MB * 2} MB`);
    }
    const format = opts.format ?? 'wav';
    const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
    const preset = this.deps.presetName?.();
    let name = `${stamp}_${slug(preset ?? 'take')}.${format}`;
    for (let i = 2; this.names().includes(name); i++) name = `${stamp}_${slug(preset ?? 'take')}-${i}.${format}`;
    const seq = ++this.seq;
    if (!this.deps.engine.recordStart({ path: join(this.dir, name), source: opts.source ?? 'mic', format }, seq)) {
      throw new EngineError('engine_unavailable', 'no engine is running to record');
    }
    const rec = await this.answer(seq);
    if (rec.state === 'failed') throw new EngineError('record_failed', `the take could not be started: ${rec.reason ?? 'unknown'} (errno ${rec.error})`);
    this.currentName = name;
    this.log.info({ take: name, source: rec.source, format }, 'take started');
    return this.current(rec)!;
  }

  async stopTake(): Promise<CurrentTake> {
    if (!this.recordingName()) throw new ConflictError('no take is recording');
    const seq = ++this.seq;
    if (!this.deps.engine.recordStop(seq)) throw new EngineError('engine_unavailable', 'no engine is running');
    const rec = await this.answer(seq, 'stopped');
    this.log.info({ take: this.currentName, seconds: rec.framesWritten / (rec.rate || 1), gaps: rec.gaps }, 'take stopped');
    return this.current(rec)!;
  }

  private async answer(seq: number, want?: 'stopped'): Promise<RawRecording> {
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    for (;;) {
      const rec = this.deps.engine.recording();
      if (rec && rec.seq === seq && rec.state !== 'idle' && (!want || rec.state !== 'recording')) return rec;
      if (Date.now() > deadline) throw new EngineError('engine_timeout', `the engine did not answer the recording command within ${ANSWER_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The file of a take, for download; NotFound for anything else. */
  file(name: string): { path: string; bytes: number; format: 'wav' | 'flac' } {
    if (!Value.Check(TakeNameSchema, name)) throw new ValidationError(`'${name}' is not a take name`);
    const path = join(this.dir, name);
    try {
      const st = statSync(path);
      if (st.isFile()) return { path, bytes: st.size, format: name.endsWith('.flac') ? 'flac' : 'wav' };
    } catch {
      // not there
    }
    throw new NotFoundError(`no take named '${name}'`);
  }

  remove(name: string): void {
    const { path } = this.file(name);
    if (name === this.recordingName()) throw new ConflictError(`'${name}' is recording; stop it first`);
    unlinkSync(path);
    this.log.info({ take: name }, 'take deleted');
  }
}
