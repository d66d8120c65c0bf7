import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Value } from '@sinclair/typebox/value';
import { EngineConfigSchema, type EngineConfig } from '../config/schema.js';
import { noSpaceError } from '../config/data-space.js';
import { EngineError, HushboxError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import { RootFs } from '../system/root-fs.js';
import { findDeviceCard } from '../system/sound-cards.js';
import type { Service, ServiceContext } from '../service.js';
import { sweepStaleSegments } from './shm-sweep.js';
import {
  loadAddon,
  type EngineLinkHandle,
  type RawMidiCounters,
  type RawMidiMapping,
  type RawRecording,
  type RecordFormatName,
  type RecordSourceName,
  type TapSourceName,
} from './native.js';
import { validateParamValues, type Param, type ParamDef } from './params.js';
import {
  toFrame,
  toRecordingTelemetry,
  toSpectrum,
  toStreamTelemetry,
  type EngineStatus,
  type Spectrum,
  type StreamTelemetry,
  type TelemetryFrame,
} from './telemetry.js';
import { loadAudioChoice, saveAudioChoice, withAudioChoice } from './audio-choice.js';

const POLL_MS = 20; // telemetry at 50 Hz: the page wants at least 30
const ATTACH_TIMEOUT_MS = 5000;
const APPLY_TIMEOUT_MS = 1000;
const STOP_GRACE_MS = 2000;

/** Settings that validate but that the engine (or the device) cannot run with. */
export class ConfigRejectedError extends HushboxError {
  override readonly statusCode = 422;
  constructor(message: string) {
    super('engine_config_rejected', message);
  }
}

/** How the engine is kept alive. Tests may shorten the device poll; the rest are the product's figures. */
export interface SupervisionOptions {
  /** An audio heartbeat older than this means the engine hangs: SIGKILL and restart. */
  hangMs: number;
  /** A run at least this long ends a crash streak: the next crash restarts at once. */
  stableMs: number;
  /** Delays before the 2nd, 3rd... restart of a streak (the 1st is immediate); the last one repeats. */
  backoffMs: number[];
  /** After this many failures in a row the state is `failed` (retries go on, slowly). */
  failAfter: number;
  /** How often an absent audio device is looked for. */
  devicePollMs: number;
}

export const DEFAULT_SUPERVISION: SupervisionOptions = {
  hangMs: 1000,
  stableMs: 1000,
  backoffMs: [500, 1000, 2000, 4000, 8000, 16000, 30000],
  failAfter: 5,
  devicePollMs: 1000,
};

/** A MIDI mapping for the link, its parameter named by id (the index is the running engine's). */
export type MidiLinkEntry = Omit<RawMidiMapping, 'index'> & { param?: string };

const MIDI_KINDS: Record<number, 'cc' | 'note_on' | 'note_off' | 'program'> = { 0xb0: 'cc', 0x90: 'note_on', 0x80: 'note_off', 0xc0: 'program' };
const MIDI_ACTIONS: Record<number, 'ab_toggle' | 'record'> = { 4: 'ab_toggle', 5: 'record' };

/** The I/O settings a profile or device change may touch (changing them restarts the engine). */
export type EngineIoPatch = Partial<Pick<EngineConfig, 'backend' | 'device' | 'input' | 'rate' | 'frames' | 'periods' | 'channels' | 'cpu' | 'priority'>>;

/** Starts the engine process, attaches to its link, and speaks to it. */
export class EngineService implements Service {
  readonly name = 'engine';
  private readonly log: Logger;
  private readonly linkName: string;
  private child: ChildProcess | undefined;
  private link: EngineLinkHandle | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private fastTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private table = new Map<string, ParamDef>();
  /** What the supervisor wants; restored into a restarted engine. */
  private readonly wanted = new Map<string, number>();
  private readonly waiters = new Map<number, (err?: Error) => void>();
  private frame: TelemetryFrame | null = null;
  private lastSpectrum: Spectrum | null = null;
  private spectrumSeq = -1;
  private stderrTail: string[] = [];
  private current: EngineStatus;
  private engineConfig: EngineConfig;
  private readonly sup: SupervisionOptions;
  private readonly rootFs: RootFs;
  /** The profile and device saved on the box (audio.json) when the supervisor started. */
  private readonly saved: ReturnType<typeof loadAudioChoice>;
  /** start() was called and stop() was not: keep the engine alive. */
  private active = false;
  private launching: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failures in a row; reset by a run of at least stableMs. */
  private streak = 0;
  private runningSince = 0;
  /** Why the supervisor killed the engine itself (hang, attach timeout), for the exit report. */
  private killReason: string | undefined;
  /** The current child is being stopped on purpose (stop, restart, reconfigure). */
  private stoppingChild: ChildProcess | undefined;
  /** Set while reconfigure() tries new settings: a failed start is reported here instead of retried. */
  private trial: { failed?: string } | undefined;
  private changes: Promise<unknown> = Promise.resolve();
  /** The MIDI input (--midi) and mappings; the mappings go to every engine that attaches. */
  private midiInput = 'none';
  private midiMap: MidiLinkEntry[] = [];
  /** Options other services add to the engine's command line (the stream, recordings). */
  private readonly launchArgs: Array<() => string[]> = [];

  constructor(
    private readonly ctx: ServiceContext,
    supervision: Partial<SupervisionOptions> = {},
  ) {
    this.log = ctx.log.child({ service: this.name });
    this.linkName = `hushbox-${ctx.config.deviceId}-${process.pid}`;
    // The profile and device chosen on the box last time win over the config file's.
    this.saved = loadAudioChoice(ctx.dataDir, this.log);
    this.engineConfig = withAudioChoice({ ...ctx.config.engine }, this.saved);
    this.sup = { ...DEFAULT_SUPERVISION, ...supervision };
    this.rootFs = new RootFs(ctx.config.system?.root ?? '/');
    this.current = {
      state: 'stopped',
      pid: null,
      backend: this.engineConfig.backend,
      device: this.engineConfig.device,
      reason: null,
      restarts: 0,
    };
  }

  /**
   * The config's audio device was chosen after this service was made (HUSHBOX_AUDIO=auto, once udev has seen the
   * boot's sound cards): take it, before start(). The choice saved on the box still wins.
   */
  deviceChosen(): void {
    if (this.active) throw new Error('the audio device is chosen before the engine starts');
    this.engineConfig = withAudioChoice({ ...this.ctx.config.engine }, this.saved);
    this.current = { ...this.current, backend: this.engineConfig.backend, device: this.engineConfig.device };
  }

  /** Start the engine and keep it alive until stop(): restarts, hang detection, waiting for the device. */
  async start(): Promise<void> {
    if (this.active) return;
    this.active = true;
    this.streak = 0;
    const swept = sweepStaleSegments();
    if (swept.length) this.log.warn({ segments: swept }, `removed ${swept.length} shared-memory segment(s) of supervisors that are gone`);
    await this.cycle();
  }

  async stop(): Promise<void> {
    this.active = false;
    this.clearRetry();
    await this.launching;
    await this.stopChild();
    this.setStatus({ state: 'stopped', pid: null, reason: null });
  }

  /** Stop the engine cleanly and start it again with the same parameters; answers the status after. */
  async restart(reason = 'requested'): Promise<EngineStatus> {
    await this.serialized(() => this.doRestart(reason));
    return this.status();
  }

  /** One restart or reconfiguration at a time: a second waits for the first. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.changes.then(fn, fn);
    this.changes = run.catch(() => undefined);
    return run;
  }

  private async doRestart(reason: string): Promise<void> {
    this.log.info({ reason }, 'restarting engine');
    if (!this.active) return this.start();
    this.clearRetry();
    await this.launching;
    await this.stopChild();
    this.streak = 0;
    this.current.restarts++;
    this.setStatus({ state: 'starting', pid: null, reason: `restart: ${reason}` });
    await this.cycle();
  }

  /**
   * Stop the engine, run `fn` with its audio device free (the latency measurement), then start it
   * again with the same parameters, whatever `fn` did. One at a time with restarts and profile changes.
   */
  withEngineStopped<T>(reason: string, fn: () => Promise<T>): Promise<T> {
    return this.serialized(async () => {
      if (!this.active) return fn();
      this.log.info({ reason }, 'stopping the engine for a while');
      this.clearRetry();
      await this.launching;
      await this.stopChild();
      this.setStatus({ state: 'stopped', pid: null, reason: `stopped for ${reason}` });
      try {
        return await fn();
      } finally {
        this.streak = 0;
        this.setStatus({ state: 'starting', pid: null, reason: null });
        await this.cycle();
      }
    });
  }

  /** The engine's I/O settings as they are now (profile and device). */
  ioConfig(): EngineConfig {
    return { ...this.engineConfig };
  }

  /**
   * Change the profile or device: validated first (nothing changes on bad input),
   * then the engine restarts with the same parameters. If the engine cannot run
   * with the new settings, the old ones come back and the error says why.
   */
  reconfigure(patch: EngineIoPatch, reason = 'audio settings changed', opts: { keep?: boolean } = {}): Promise<EngineConfig> {
    return this.serialized(() => this.doReconfigure(patch, reason, opts.keep ?? true));
  }

  /** `keep`: the new settings are the user's choice, saved for the next start (not so for a card found by itself, card-watch.ts). */
  private async doReconfigure(patch: EngineIoPatch, reason: string, keep: boolean): Promise<EngineConfig> {
    const allowed = ['backend', 'device', 'input', 'rate', 'frames', 'periods', 'channels', 'cpu', 'priority'];
    const unknown = Object.keys(patch).filter((k) => !allowed.includes(k));
    if (unknown.length) throw new ValidationError(`cannot change ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
    const candidate = { ...this.engineConfig, ...patch };
    if (!Value.Check(EngineConfigSchema, candidate)) {
      const problems = [...Value.Errors(EngineConfigSchema, candidate)].map((e) => `${e.path.slice(1) || 'engine'}: ${e.message}`);
      throw new ValidationError(`invalid audio settings: ${problems.join('; ')}`, problems);
    }
    const changed = Object.keys(patch).some((k) => candidate[k as keyof EngineConfig] !== this.engineConfig[k as keyof EngineConfig]);
    if (!changed) return this.ioConfig();
    const previous = this.engineConfig;
    this.engineConfig = candidate;
    this.current = { ...this.current, backend: candidate.backend, device: candidate.device };
    if (!this.active) {
      if (keep) this.keepChoice();
      return this.ioConfig();
    }
    const trial: { failed?: string } = {};
    this.trial = trial;
    try {
      await this.doRestart(reason);
    } finally {
      this.trial = undefined;
    }
    if (trial.failed) {
      const why = trial.failed;
      this.log.warn({ why }, 'the engine did not run with the new audio settings; going back');
      this.engineConfig = previous;
      this.current = { ...this.current, backend: previous.backend, device: previous.device };
      await this.doRestart('going back to the previous audio settings');
      throw new ConfigRejectedError( `the engine did not run with the new audio settings (${why}); the previous ones are back`);
    }
    if (keep) this.keepChoice();
    return this.ioConfig();
  }

  /** The settings now in use are the user's choice: kept for the next start. */
  private keepChoice(): void {
    try {
      saveAudioChoice(this.ctx.dataDir, this.engineConfig);
    } catch (err) {
      // The engine runs with them, but the caller must hear that they are not kept (PUT /api/audio answered 200 here).
      const e = err as NodeJS.ErrnoException;
      this.log.error({ err: e.message }, 'cannot save the audio settings; they hold until the supervisor stops');
      const what = 'the new audio settings are in use but could not be saved; they hold until the supervisor stops';
      if (e.code === 'ENOSPC') throw noSpaceError(this.ctx.dataDir, what);
      throw new HushboxError('not_saved', `${what} (${e.code ?? e.message})`);
    }
  }

  status(): EngineStatus {
    return { ...this.current };
  }

  telemetry(): TelemetryFrame | null {
    return this.frame;
  }

  /** The last spectrum the engine published; null while no engine is attached. */
  spectrum(): Spectrum | null {
    return this.frame ? this.lastSpectrum : null;
  }

  /** The parameter table with the values the engine runs with. */
  params(): Param[] {
    const live = this.link?.params();
    return [...this.table.values()].map((d) => ({
      id: d.id,
      name: d.name,
      unit: d.unit,
      scale: d.scale,
      min: d.min,
      max: d.max,
      default: d.default,
      value: live?.[d.index]?.value ?? this.wanted.get(d.id) ?? d.default,
    }));
  }

  /** Validate, push as one batch, and wait until the audio thread applied it. */
  async setParams(values: Record<string, unknown>, source: string): Promise<Record<string, number>> {
    const checked = validateParamValues(this.table, values);
    const link = this.link;
    if (!link || this.current.state !== 'running') {
      throw new EngineError('engine_not_running', `the engine is ${this.current.state}; parameters cannot be applied now`);
    }
    const seq = ++this.seq;
    const applied = this.appliedPromise(seq);
    if (!link.setParams(checked.map(([d, v]) => [d.index, v]), seq)) {
      this.waiters.delete(seq);
      applied.catch(() => undefined); // its timer still fires; nobody waits for it
      throw new EngineError('engine_busy', 'the engine command queue is full; try again');
    }
    this.watchApplied();
    const result: Record<string, number> = {};
    for (const [d, v] of checked) {
      this.wanted.set(d.id, v);
      result[d.id] = v;
    }
    await applied;
    this.ctx.bus.emit('paramsChanged', { values: result, source });
    return result;
  }

  /** The MIDI input the engine reads: 'none', 'seq' or 'hw:...'. A change restarts a running engine. */
  async setMidiInput(input: string): Promise<void> {
    if (input === this.midiInput) return;
    this.midiInput = input;
    if (this.active && this.child) await this.restart('MIDI input changed');
  }

  /** The mappings the audio thread applies; sent now if an engine runs, and to every engine that attaches. */
  setMidiMap(entries: MidiLinkEntry[]): void {
    this.midiMap = entries.map((e) => ({ ...e }));
    if (this.link) this.pushMidiMap(this.link);
  }

  /** The MIDI counters of the running engine. */
  midiCounters(): RawMidiCounters | null {
    return this.link?.midiCounters() ?? null;
  }

  private pushMidiMap(link: EngineLinkHandle): void {
    const raw: RawMidiMapping[] = [];
    for (const { param, ...e } of this.midiMap) {
      const index = param === undefined ? 0 : this.table.get(param)?.index;
      if (index === undefined) {
        this.log.warn({ param }, 'a MIDI mapping names a parameter this engine does not have; left out');
        continue;
      }
      raw.push({ ...e, index });
    }
    link.setMidiMap(raw);
  }

  /** Launch the engine unless it runs, is launching, or its device is absent (then look again later). */
  private async cycle(): Promise<void> {
    while (this.launching) await this.launching; // a retry scheduled while the last launch was unwinding
    if (!this.active || this.child || this.retryTimer) return;
    const e = this.engineConfig;
    if (e.backend === 'alsa') {
      const { card, present } = findDeviceCard(this.rootFs, e.device);
      if (!present) {
        if (this.current.state !== 'waiting_for_device') {
          this.log.warn({ device: e.device }, 'audio device absent; waiting for it');
        }
        this.setStatus({
          state: 'waiting_for_device',
          pid: null,
          reason: `sound card '${card}' (device ${e.device}) is not present; plug in the audio interface`,
        });
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          void this.cycle();
        }, this.sup.devicePollMs);
        return;
      }
    }
    this.launching = this.launch().finally(() => {
      this.launching = undefined;
    });
    await this.launching;
  }

  /** Resolves when the audio thread reports seq applied; rejects after APPLY_TIMEOUT_MS or when the engine stops. */
  private appliedPromise(seq: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(seq);
        reject(new EngineError('engine_timeout', `the engine did not apply the change within ${APPLY_TIMEOUT_MS} ms`));
      }, APPLY_TIMEOUT_MS);
      this.waiters.set(seq, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** [control] More command-line options for every engine started from now on (asked at each launch). */
  addLaunchArgs(provider: () => string[]): void {
    this.launchArgs.push(provider);
  }

  /** The audio stream's counters and clients; null while no engine is attached. */
  stream(): StreamTelemetry | null {
    const t = this.link?.tap();
    return t ? toStreamTelemetry(t, loadAddon().monotonicNs()) : null;
  }

  /** Switch what the stream carries, without a restart; false while no engine is attached. */
  setStreamSource(source: TapSourceName): boolean {
    return this.link?.setTapSource(source, 0) ?? false;
  }

  /** The current or last recording take as the engine's writer thread reports it. */
  recording(): RawRecording | null {
    return this.link?.recording() ?? null;
  }

  /** Hand a take to the engine's writer thread; false when no engine is attached or its queue is full. */
  recordStart(options: { path: string; source: RecordSourceName; format: RecordFormatName }, seq: number): boolean {
    return this.link?.recordStart(options, seq) ?? false;
  }

  recordStop(seq: number): boolean {
    return this.link?.recordStop(seq) ?? false;
  }

  private async launch(): Promise<void> {
    const e = this.engineConfig;
    const addon = loadAddon();
    addon.unlinkSegment(this.linkName); // a segment left by an engine that was killed
    const args = [
      'run',
      '--backend', e.backend,
      '--rate', String(e.rate),
      '--frames', String(e.frames),
      '--periods', String(e.periods),
      '--channels', String(e.channels),
      '--priority', String(e.priority),
      '--link', this.linkName,
    ];
    if (e.backend === 'alsa') args.push('--device', e.device);
    else if (e.backend === 'jack') {
      // Rate and period are the JACK server's; without a server the engine waits for one (waiting_for_device).
      args.push('--jack-name', e.jackName ?? 'hushbox');
      if (e.jackConnectIn?.length) args.push('--connect', `in:${e.jackConnectIn.join(',')}`);
      if (e.jackConnectOut?.length) args.push('--connect', `out:${e.jackConnectOut.join(',')}`);
    } else args.push('--input', e.input);
    if (e.cpu >= 0) args.push('--cpu', String(e.cpu));
    if (this.midiInput !== 'none') args.push('--midi', this.midiInput);
    for (const provider of this.launchArgs) args.push(...provider());

    this.setStatus({ state: 'starting', pid: null });
    this.stderrTail = [];
    this.runningSince = 0;
    this.log.info({ binary: e.binary, args }, 'starting engine');
    const child = spawn(e.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        this.stderrTail = [...this.stderrTail.slice(-9), line];
        this.log.warn({ engine: line }, 'engine says');
      }
    });
    child.once('error', (err) => this.onExit(child, null, null, `cannot start ${e.binary}: ${err.message}`));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));

    const deadline = Date.now() + ATTACH_TIMEOUT_MS;
    let link: EngineLinkHandle | undefined;
    for (;;) {
      await new Promise((r) => setTimeout(r, 10));
      if (this.child !== child || !this.active) return; // it exited (onExit took over) or is being stopped
      try {
        link = new addon.EngineLink(this.linkName);
        const state = link.state();
        if (state === 'running' || state === 'waiting_for_device') break;
        link.close();
        link = undefined;
        if (state === 'failed') {
          this.killReason = `the engine failed at start${this.stderrTail.length ? `: ${this.stderrTail.join(' ')}` : ''}`;
          return this.killNow(child);
        }
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'ELINK_OPEN' && code !== 'ELINK_MAGIC') {
          this.killReason = `cannot attach to the engine: ${(err as Error).message}`;
          return this.killNow(child);
        }
      }
      if (Date.now() > deadline) {
        this.killReason = `the engine did not come up within ${ATTACH_TIMEOUT_MS} ms`;
        return this.killNow(child);
      }
    }

    this.link = link;
    this.table = new Map(
      link.params().map((p) => [p.id, { index: p.index, id: p.id, name: p.name, unit: p.unit, scale: p.scale, min: p.min, max: p.max, default: p.default }]),
    );
    this.pushMidiMap(link);
    const restore = [...this.wanted].filter(([id]) => this.table.has(id)).map(([id, v]): [number, number] => [this.table.get(id)!.index, v]);
    this.runningSince = Date.now();
    this.pollTimer = setInterval(() => this.poll(), POLL_MS);
    if (restore.length) {
      // 'running' means running with its parameters: wait for the audio thread to apply them.
      const seq = ++this.seq;
      const applied = this.appliedPromise(seq);
      link.setParams(restore, seq);
      this.watchApplied();
      await applied.catch((err: unknown) => this.log.warn({ err }, 'restoring the parameters was not confirmed'));
      if (this.child !== child) return;
    }
    const linkState = link.state() === 'waiting_for_device' ? 'waiting_for_device' : 'running';
    this.setStatus({ state: linkState, pid: child.pid ?? null, reason: linkState === 'running' ? null : 'the engine waits for its audio device' });
    this.log.info({ pid: child.pid, link: this.linkName, restored: restore.length }, 'engine attached');
  }

  private poll(): void {
    const link = this.link;
    if (!link) return;
    this.drainEvents(link);
    const state = link.state();
    if (state === 'waiting_for_device' && this.current.state === 'running') {
      this.setStatus({ state: 'waiting_for_device', reason: 'the engine lost its audio device and waits for it' });
    } else if (state === 'running' && this.current.state === 'waiting_for_device') {
      this.setStatus({ state: 'running', reason: null });
    }
    const hb = link.heartbeats();
    if (state === 'running' && this.child && this.child !== this.stoppingChild) {
      // Counted from the attach when the audio thread never beat at all.
      const lastBeatNs = hb.audio.count > 0 ? hb.audio.timeNs : 0;
      const ageMs = lastBeatNs ? (hb.nowNs - lastBeatNs) / 1e6 : Date.now() - this.runningSince;
      if (ageMs > this.sup.hangMs) {
        this.killReason = `the engine hung: no audio heartbeat for ${Math.round(ageMs)} ms`;
        this.log.error({ ageMs }, 'engine hung; killing it');
        this.stopPolling();
        this.child.kill('SIGKILL');
        return;
      }
    }
    const t = link.telemetry();
    if (!t) return;
    this.frame = toFrame(t, hb);
    const tap = link.tap();
    if (tap && (tap.unix || tap.tcp)) this.frame.stream = toStreamTelemetry(tap, hb.nowNs);
    const rec = link.recording();
    if (rec) this.frame.recording = toRecordingTelemetry(rec);
    this.ctx.bus.emit('telemetry', this.frame);
    // The engine analyses about 20 times a second; each new spectrum goes out once.
    const spectrum = link.spectrum();
    if (spectrum && spectrum.seq !== this.spectrumSeq) {
      this.spectrumSeq = spectrum.seq;
      this.lastSpectrum = toSpectrum(spectrum);
      this.ctx.bus.emit('spectrum', this.lastSpectrum);
    }
  }

  /** While a change waits for its "applied", look every millisecond rather than at the 50 Hz telemetry poll. */
  private watchApplied(): void {
    this.fastTimer ??= setInterval(() => {
      if (this.link) this.drainEvents(this.link);
      if (this.waiters.size === 0 || !this.link) {
        clearInterval(this.fastTimer);
        this.fastTimer = undefined;
      }
    }, 1);
  }

  private drainEvents(link: EngineLinkHandle): void {
    let midiValues: Record<string, number> | undefined;
    for (const ev of link.events()) {
      if (ev.type === 'applied') {
        for (const [seq, done] of this.waiters) {
          if (seq <= ev.seq) {
            this.waiters.delete(seq);
            done();
          }
        }
      } else if (ev.type === 'xrun') {
        this.ctx.bus.emit('xrun', { timeNs: ev.timeNs, lostFrames: ev.value, stream: ev.code === 1 ? 'capture' : ev.code === 2 ? 'playback' : null });
      } else if (ev.type === 'midi') {
        const status = (ev.code >> 16) & 0xff;
        const kind = MIDI_KINDS[status & 0xf0];
        if (kind) this.ctx.bus.emit('midiActivity', { kind, channel: (status & 0x0f) + 1, number: (ev.code >> 8) & 0x7f, value: ev.code & 0x7f });
      } else if (ev.type === 'midi_param') {
        // The audio thread moved a parameter itself: the change shows like any other.
        const def = [...this.table.values()].find((d) => d.index === ev.seq);
        if (def) {
          this.wanted.set(def.id, ev.value);
          (midiValues ??= {})[def.id] = ev.value;
        }
      } else if (ev.type === 'midi_program') {
        this.ctx.bus.emit('midiProgram', { channel: ev.seq + 1, program: ev.code });
      } else if (ev.type === 'midi_action') {
        const action = MIDI_ACTIONS[ev.code];
        if (action) this.ctx.bus.emit('midiAction', { action });
      }
    }
    if (midiValues) this.ctx.bus.emit('paramsChanged', { values: midiValues, source: 'midi' });
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (child !== this.child) return;
    this.stopPolling();
    this.detach();
    this.child = undefined;
    if (child === this.stoppingChild || !this.active) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const last = this.stderrTail.at(-1);
    const reason = spawnError ?? this.killReason ?? `the engine exited unexpectedly (${how})${last ? `: ${last}` : ''}`;
    this.killReason = undefined;
    if (this.trial) {
      this.trial.failed = reason;
      this.setStatus({ state: 'starting', pid: null, reason });
      return;
    }
    const ranMs = this.runningSince ? Date.now() - this.runningSince : 0;
    this.streak = ranMs >= this.sup.stableMs ? 1 : this.streak + 1;
    const b = this.sup.backoffMs;
    const delay = this.streak <= 1 ? 0 : b[Math.min(this.streak - 2, b.length - 1)]!;
    this.current.restarts++;
    if (this.streak >= this.sup.failAfter) {
      this.log.error({ reason, streak: this.streak, retryMs: delay }, 'engine failed repeatedly');
      this.setStatus({ state: 'failed', pid: null, reason: `${reason} (${this.streak} failures in a row; trying again in ${delay / 1000} s)` });
    } else {
      this.log.error({ reason, retryMs: delay }, 'engine stopped; restarting');
      this.setStatus({ state: 'starting', pid: null, reason });
    }
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.cycle();
    }, delay);
  }

  /** Stop the current engine on purpose (SIGTERM, then SIGKILL after a grace period). */
  private async stopChild(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopPolling();
    this.stoppingChild = child;
    if (child.exitCode === null && child.signalCode === null) {
      this.setStatus({ state: 'stopping' });
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    this.stoppingChild = undefined;
    if (this.child === child) {
      this.detach();
      this.child = undefined;
    }
  }

  /** SIGKILL and wait for the exit, so its report (onExit) is in before the caller goes on. */
  private async killNow(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    if (this.fastTimer) clearInterval(this.fastTimer);
    this.fastTimer = undefined;
  }

  private detach(): void {
    this.link?.close();
    this.link = undefined;
    this.frame = null;
    this.spectrumSeq = -1;
    loadAddon().unlinkSegment(this.linkName);
    for (const [, done] of this.waiters) done(new EngineError('engine_stopped', 'the engine stopped before it applied the change'));
    this.waiters.clear();
  }

  private setStatus(patch: Partial<EngineStatus>): void {
    this.current = { ...this.current, ...patch };
    this.ctx.bus.emit('engineStatus', this.status());
  }
}
