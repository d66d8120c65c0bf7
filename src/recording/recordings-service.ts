import { mkdirSync, readdirSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
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

/** The current preset's name, for the file name; absent in tests without presets. */
type PresetName = () => string | null;

function slug(s: string): string {
  return s.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'take';
}

/**
 * Recording takes. The engine's writer thread writes them (so a take is
 * finished even when this process dies); this service names them, asks the
 * engine to start and stop, lists, serves and deletes them, and repairs the
 * header of a take cut by a power loss at the next start.
 */
export class RecordingsService implements Service {
  readonly name = 'recordings';
  private readonly log: Logger;
  readonly dir: string;
  private seq = 0;
  /** The take this supervisor started, by file name. */
  private currentName: string | null = null;

  constructor(private readonly deps: { ctx: ServiceContext; engine: EngineService; presetName?: PresetName }) {
    this.log = deps.ctx.log.child({ service: this.name });
    this.dir = join(deps.ctx.dataDir, 'recordings');
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    // No engine runs yet: a WAV whose header disagrees with its length was cut (power loss, a killed engine).
    for (const name of this.names()) {
      if (!name.endsWith('.wav')) continue;
      try {
        if (repairWav(join(this.dir, name))) this.log.warn({ take: name }, 'take header repaired (the take was cut); kept');
      } catch (err) {
        this.log.warn({ take: name, err }, 'take header could not be repaired');
      }
    }
  }

  async stop(): Promise<void> {}

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
