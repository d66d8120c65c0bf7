import { join } from 'node:path';
import { dataReserveBytes } from '../config/data-space.js';
import type { EngineService } from '../engine/engine-service.js';
import type { EngineStatus, TelemetryFrame } from '../engine/telemetry.js';
import type { Logger } from '../log.js';
import type { OtaSummary } from '../ota/schema.js';
import type { BoxState } from '../presets/state.js';
import type { Service, ServiceContext } from '../service.js';
import { EventLog, XRUN_COALESCE_MS } from './event-log.js';
import { HistoryStore } from './history-store.js';
import { Sampler } from './sampler.js';
import type { BoxEvent, HistoryQuery, HistoryRange, LogState, Session, XrunCounts } from './schema.js';
import { SessionLog } from './session-log.js';
import { XrunCounter } from './xrun-counter.js';

export const HISTORY_DEFAULTS = { enabled: true, sampleMs: 1000, flushMs: 5000, rotateBytes: 1024 * 1024, maxBytes: 64 * 1024 * 1024, memoryS: 7200 };

export interface HistoryDeps {
  ctx: ServiceContext;
  engine: EngineService;
  /** The preset state at start, so that the first "preset applied" is a real one. */
  boxState?: () => BoxState | null;
  ota?: { summary(): OtaSummary };
}

/** The latest wake-up (us) between two frames: the top histogram bin that grew (the last wake-up alone says nothing 20 ms later). */
function latestWakeUs(before: TelemetryFrame | null, after: TelemetryFrame): number {
  if (!before || before.jitterHistogram.length !== after.jitterHistogram.length) return after.jitterUs;
  for (let i = after.jitterHistogram.length - 1; i > 0; i--) {
    if ((after.jitterHistogram[i] ?? 0) > (before.jitterHistogram[i] ?? 0)) return 2 ** (i - 1); // the bin's lower edge
  }
  return after.jitterUs;
}

/** Why an xrun probably happened, from the telemetry around it. */
export function xrunCause(before: TelemetryFrame | null, after: TelemetryFrame | null, deviceLost: boolean): { cause: string; detail: string } {
  if (deviceLost) return { cause: 'device', detail: 'the audio device went away' };
  const f = after ?? before;
  if (!f) return { cause: 'unknown', detail: 'no telemetry around it' };
  const periodUs = f.rate ? (f.frames / f.rate) * 1e6 : 0;
  const load = Math.max(before?.dspLoad ?? 0, after?.dspLoad ?? 0);
  const late = after ? latestWakeUs(before, after) : f.jitterUs;
  if (load >= 0.95) return { cause: 'dsp_overload', detail: `the chain took ${Math.round(load * 100)} % of the period` };
  if (periodUs && late >= periodUs / 2) {
    return { cause: 'late_wakeup', detail: `the audio thread woke at least ${Math.round(late)} us late (the period is ${Math.round(periodUs)} us): the CPU was taken by something else` };
  }
  if (before && f.deviceWaits !== before.deviceWaits) return { cause: 'device', detail: 'the audio device was lost' };
  return { cause: 'device_or_bus', detail: `DSP load ${Math.round(load * 100)} %, wake-ups on time: the interface or the USB bus` };
}

/**
 * Keeps the box's past: a sample of telemetry every second in memory and in
 * the session log on /data, the event list, and the xrun total.
 */
export class HistoryService implements Service {
  readonly name = 'history';
  private readonly log: Logger;
  private readonly opts: typeof HISTORY_DEFAULTS;
  readonly sessionLog: SessionLog;
  private readonly store: HistoryStore;
  private readonly events: EventLog;
  private readonly xruns: XrunCounter;
  private readonly sampler = new Sampler();
  private offs: Array<() => void> = [];
  private sampleTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private countsTimer: NodeJS.Timeout | undefined;
  private started = false;
  private lastFrame: TelemetryFrame | null = null;
  private pendingXruns: Array<{ at: Date; lostFrames: number; stream: 'capture' | 'playback' | null; before: TelemetryFrame | null }> = [];
  private lastStatus: EngineStatus | null = null;
  /** The engine has run with its audio device since it was last lost (or since the start). */
  private deviceUp = false;
  /** A device_lost was listed and no device_back yet. */
  private deviceLost = false;
  private lastPreset: { id: string | null; modified: boolean } | null = null;
  private lastOta: { running: boolean; outcome: string | null } | null = null;
  private diskFull = false;

  constructor(private readonly deps: HistoryDeps) {
    const { ctx } = deps;
    this.log = ctx.log.child({ service: this.name });
    this.opts = { ...HISTORY_DEFAULTS, ...Object.fromEntries(Object.entries(ctx.config.history ?? {}).filter(([, v]) => v !== undefined)) };
    const reserveBytes = () => dataReserveBytes();
    this.sessionLog = new SessionLog(
      {
        dir: join(ctx.dataDir, 'history'),
        sampleMs: this.opts.sampleMs,
        rotateBytes: this.opts.rotateBytes,
        maxBytes: this.opts.maxBytes,
        reserveBytes,
        log: this.log,
        version: ctx.version,
        onWriting: (writing, reason) => {
          if (!writing) this.events.add({ type: 'data_full', level: 'warn', message: `the session log stopped: ${reason ?? 'no room'}` });
        },
      },
      ctx.startedAt,
    );
    this.store = new HistoryStore(this.opts.sampleMs / 1000, this.opts.memoryS, { dir: join(ctx.dataDir, 'history'), list: () => this.sessionLog.list() });
    this.events = new EventLog(ctx.dataDir, (e) => ctx.bus.emit('boxEvent', e), { reserveBytes, log: this.log });
    this.xruns = new XrunCounter(ctx.dataDir, { reserveBytes, log: this.log });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { ctx, engine } = this.deps;
    await Promise.all([this.events.load(), this.xruns.load()]);
    if (this.opts.enabled) {
      await this.sessionLog.start().catch((err: unknown) => this.log.warn({ err }, 'cannot prepare the session log folder'));
      await this.store.preload(Date.now() / 1000).catch((err: unknown) => this.log.warn({ err }, 'cannot read the earlier session logs'));
    }
    this.store.beginSession(this.sessionLog.id, this.sessionLog.startedAt);
    this.events.add({ type: 'supervisor_start', level: 'info', message: `the supervisor started (version ${ctx.version})`, data: { session: this.sessionLog.id } });
    this.lastStatus = engine.status();
    this.deviceUp = this.lastStatus.state === 'running';
    const s = this.deps.boxState?.();
    this.lastPreset = s ? { id: s.preset_id, modified: s.preset_modified } : null;
    const o = this.deps.ota?.summary();
    const latestUpdate = this.events.latest('update_success') ?? this.events.latest('update_fallback') ?? this.events.latest('update_failed');
    // An outcome already in the list (from before a reboot) is not an event again.
    this.lastOta = o ? { running: o.install.running, outcome: latestUpdate?.message === o.outcome?.message ? (o.outcome?.message ?? null) : null } : null;
    if (o) this.onOta(o);

    this.offs = [
      ctx.bus.on('telemetry', this.name, (f) => this.onFrame(f)),
      ctx.bus.on('xrun', this.name, (x) => this.onXrun(x.lostFrames, x.stream)),
      ctx.bus.on('engineStatus', this.name, (st) => this.onStatus(st)),
      ctx.bus.on('health', this.name, (h) => {
        this.sampler.setHealth(h.cpu.temperatureC, h.cpu.loadPercent);
        const full = h.disk?.full ?? false;
        if (full && !this.diskFull) {
          this.events.add({ type: 'data_full', level: 'error', message: `the data partition is full (${((h.disk?.freeBytes ?? 0) / 2 ** 20).toFixed(1)} MiB free): new presets, imports and uploads are refused` });
        }
        this.diskFull = full;
      }),
      ctx.bus.on('stateChanged', this.name, (st) => this.onState(st)),
      ctx.bus.on('otaChanged', this.name, (o) => this.onOta(o)),
    ];
    this.sampleTimer = setInterval(() => this.takeSample(), this.opts.sampleMs);
    if (this.opts.enabled) this.flushTimer = setInterval(() => void this.sessionLog.flush(), this.opts.flushMs);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.offs.forEach((off) => off());
    this.offs = [];
    clearInterval(this.sampleTimer);
    clearInterval(this.flushTimer);
    clearTimeout(this.countsTimer);
    this.countsTimer = undefined;
    this.classifyXruns(null);
    if (this.opts.enabled) await this.sessionLog.stop();
    await Promise.all([this.events.stop(), this.xruns.stop()]);
  }

  // --- what the API and the page ask ---

  query(q: HistoryQuery): Promise<HistoryRange> {
    return this.store.query(q);
  }

  sessions(): Promise<Session[]> {
    return this.sessionLog.sessions();
  }

  async logState(): Promise<LogState> {
    const s = this.sessionLog.state();
    return {
      writing: this.opts.enabled && s.writing,
      reason: this.opts.enabled ? s.reason : 'session logs are turned off (history.enabled: false)',
      bytes: this.opts.enabled ? await this.sessionLog.totalBytes() : 0,
      maxBytes: this.opts.maxBytes,
      sampleMs: this.opts.sampleMs,
    };
  }

  logStateNow(): Omit<LogState, 'bytes'> {
    const s = this.sessionLog.state();
    return { writing: this.opts.enabled && s.writing, reason: s.reason, maxBytes: this.opts.maxBytes, sampleMs: this.opts.sampleMs };
  }

  /** The path of a session log file, or null when there is no such file. */
  async file(name: string): Promise<string | null> {
    return (await this.sessionLog.list()).some((f) => f.name === name) ? this.sessionLog.path(name) : null;
  }

  eventList(since?: number, limit?: number): BoxEvent[] {
    return this.events.list(since, limit);
  }

  eventMax(): number {
    return this.events.max;
  }

  xrunCounts(): XrunCounts {
    return this.xruns.counts();
  }

  /** For other services: something worth a line in the event list. */
  addEvent(e: Parameters<EventLog['add']>[0]): BoxEvent {
    return this.events.add(e);
  }

  // --- the bus ---

  private onFrame(f: TelemetryFrame): void {
    this.sampler.addFrame(f);
    if (this.pendingXruns.length) this.classifyXruns(f);
    this.lastFrame = f;
  }

  private onXrun(lostFrames: number, stream: 'capture' | 'playback' | null): void {
    this.sampler.addXrun();
    this.xruns.add();
    this.pendingXruns.push({ at: new Date(), lostFrames, stream, before: this.lastFrame });
    this.countsTimer ??= setTimeout(() => {
      this.countsTimer = undefined;
      this.deps.ctx.bus.emit('xrunCounts', this.xruns.counts());
    }, 1000);
  }

  /** Xruns are explained with the frame after them (its wake-up lateness and load show what happened). */
  private classifyXruns(after: TelemetryFrame | null): void {
    const status = this.deps.engine.status();
    for (const x of this.pendingXruns) {
      const { cause, detail } = xrunCause(x.before, after, status.state === 'waiting_for_device');
      const t = x.at.getTime() / 1000;
      if (this.opts.enabled) this.sessionLog.record({ type: 'xrun', t, lostFrames: x.lostFrames, stream: x.stream, cause, detail });
      const what = x.stream === 'capture' ? 'xrun (capture overrun)' : x.stream === 'playback' ? 'xrun (playback underrun)' : 'xrun';
      this.events.add(
        {
          type: 'xrun',
          level: 'warn',
          message: `${what}: ${detail}`,
          data: { lostFrames: x.lostFrames, causes: { [cause]: 1 } },
          coalesceMs: XRUN_COALESCE_MS,
          merge: (into, add) => {
            into.lostFrames = Number(into.lostFrames ?? 0) + Number(add.lostFrames ?? 0);
            const causes = (into.causes ?? {}) as Record<string, number>;
            for (const [k, n] of Object.entries(add.causes as Record<string, number>)) causes[k] = (causes[k] ?? 0) + n;
            into.causes = causes;
          },
        },
        x.at,
      );
    }
    this.pendingXruns = [];
  }

  private onStatus(st: EngineStatus): void {
    const prev = this.lastStatus;
    this.lastStatus = st;
    if (!prev) {
      this.deviceUp = st.state === 'running';
      return;
    }
    if (st.restarts > prev.restarts) {
      this.sampler.addRestart();
      const t = Date.now() / 1000;
      const reason = st.reason ?? 'no reason given';
      if (reason.startsWith('restart: ')) {
        this.events.add({ type: 'engine_restart', level: 'info', message: `engine restarted (${reason.slice('restart: '.length)})`, data: { restarts: st.restarts } });
      } else if (st.state === 'failed') {
        this.events.add({ type: 'engine_failed', level: 'error', message: `engine failed: ${reason}`, data: { restarts: st.restarts } });
      } else {
        this.events.add({ type: 'engine_crash', level: 'error', message: `engine crashed and is restarted: ${reason}`, data: { restarts: st.restarts } });
      }
      if (this.opts.enabled) this.sessionLog.record({ type: 'restart', t, state: st.state, reason });
    }
    // Lost: the engine waits for its device after running with it, whether it noticed the loss
    // itself or died of it (a crash, then the restart finds no card). Back: running again after that.
    if (st.state === 'waiting_for_device' && prev.state !== 'waiting_for_device' && this.deviceUp) {
      this.deviceUp = false;
      this.deviceLost = true;
      this.events.add({ type: 'device_lost', level: 'error', message: `audio device lost (${st.device})${st.reason ? `: ${st.reason}` : ''}` });
    } else if (st.state === 'running') {
      if (this.deviceLost || prev.state === 'waiting_for_device') this.events.add({ type: 'device_back', level: 'info', message: `audio device back (${st.device})` });
      this.deviceLost = false;
      this.deviceUp = true;
    }
  }

  private onState(st: BoxState): void {
    const prev = this.lastPreset;
    this.lastPreset = { id: st.preset_id, modified: st.preset_modified };
    if (!st.preset_id || st.preset_modified) return;
    // A new preset, or the same one recalled again after changes.
    if (!prev || prev.id !== st.preset_id || prev.modified) {
      this.events.add({ type: 'preset_applied', level: 'info', message: `preset "${st.preset ?? st.preset_id}" applied`, data: { id: st.preset_id } });
    }
  }

  private onOta(o: OtaSummary): void {
    const prev = this.lastOta ?? { running: false, outcome: null };
    const outcome = o.outcome?.message ?? null;
    this.lastOta = { running: o.install.running, outcome };
    if (o.install.running && !prev.running) {
      this.events.add({ type: 'update_install', level: 'info', message: `installing update${o.install.version ? ` ${o.install.version}` : ''}` });
    }
    if (o.outcome && outcome !== prev.outcome) {
      const kind = o.outcome.kind;
      if (kind === 'updated') this.events.add({ type: 'update_success', level: 'info', message: o.outcome.message });
      else if (kind === 'fell_back') this.events.add({ type: 'update_fallback', level: 'error', message: o.outcome.message });
      else if (kind === 'install_failed') this.events.add({ type: 'update_failed', level: 'error', message: o.outcome.message });
    }
  }

  private takeSample(): void {
    const t = Math.round(Date.now() / 100) / 10;
    this.sampler.addEngineUp(this.deps.engine.status().state === 'running');
    const row = this.sampler.take(t);
    this.store.add(row, this.sessionLog.id);
    if (this.opts.enabled) this.sessionLog.append(row);
  }
}
