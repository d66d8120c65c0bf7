import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { EngineError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import { loadAddon, type EngineLinkHandle } from './native.js';
import { validateParamValues, type Param, type ParamDef } from './params.js';
import { toFrame, type EngineStatus, type TelemetryFrame } from './telemetry.js';

const POLL_MS = 20; // telemetry at 50 Hz: the page wants at least 30
const ATTACH_TIMEOUT_MS = 5000;
const APPLY_TIMEOUT_MS = 1000;
const STOP_GRACE_MS = 2000;

/** Starts the engine process, attaches to its link, and speaks to it. */
export class EngineService implements Service {
  readonly name = 'engine';
  private readonly log: Logger;
  private readonly linkName: string;
  private child: ChildProcess | undefined;
  private link: EngineLinkHandle | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private table = new Map<string, ParamDef>();
  /** What the supervisor wants; restored into a restarted engine. */
  private readonly wanted = new Map<string, number>();
  private readonly waiters = new Map<number, (err?: Error) => void>();
  private frame: TelemetryFrame | null = null;
  private stderrTail: string[] = [];
  private current: EngineStatus;

  constructor(private readonly ctx: ServiceContext) {
    this.log = ctx.log.child({ service: this.name });
    this.linkName = `hushbox-${ctx.config.deviceId}-${process.pid}`;
    this.current = {
      state: 'stopped',
      pid: null,
      backend: ctx.config.engine.backend,
      device: ctx.config.engine.device,
      reason: null,
      restarts: 0,
    };
  }

  async start(): Promise<void> {
    if (this.child) return;
    await this.launch();
  }

  async stop(): Promise<void> {
    this.stopPolling();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      this.setStatus({ state: 'stopping' });
      child.kill('SIGTERM');
      const exited = once(child, 'exit');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    this.detach();
    this.child = undefined;
    if (this.current.state !== 'failed') this.setStatus({ state: 'stopped', pid: null });
  }

  status(): EngineStatus {
    return { ...this.current };
  }

  telemetry(): TelemetryFrame | null {
    return this.frame;
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
    const applied = new Promise<void>((resolve, reject) => {
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
    if (!link.setParams(checked.map(([d, v]) => [d.index, v]), seq)) {
      this.waiters.delete(seq);
      throw new EngineError('engine_busy', 'the engine command queue is full; try again');
    }
    const result: Record<string, number> = {};
    for (const [d, v] of checked) {
      this.wanted.set(d.id, v);
      result[d.id] = v;
    }
    await applied;
    this.ctx.bus.emit('paramsChanged', { values: result, source });
    return result;
  }

  private async launch(): Promise<void> {
    const e = this.ctx.config.engine;
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
    else args.push('--input', e.input);
    if (e.cpu >= 0) args.push('--cpu', String(e.cpu));

    this.setStatus({ state: 'starting', reason: null });
    this.stderrTail = [];
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
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));

    const deadline = Date.now() + ATTACH_TIMEOUT_MS;
    for (;;) {
      const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 10, undefined))]);
      if (failed) {
        this.child = undefined;
        return this.fail(`cannot start ${e.binary}: ${failed.message}`);
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        this.child = undefined;
        return this.fail(`the engine exited at start: ${this.stderrTail.join(' ') || `code ${child.exitCode ?? child.signalCode}`}`);
      }
      try {
        this.link = new addon.EngineLink(this.linkName);
        // An ALSA engine whose device is missing is up too: it waits for the device by itself.
        if (['running', 'waiting_for_device'].includes(this.link.state())) break;
        this.link.close();
        this.link = undefined;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ELINK_OPEN') throw err;
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        return this.fail(`the engine did not come up within ${ATTACH_TIMEOUT_MS} ms`);
      }
    }

    this.table = new Map(
      this.link.params().map((p) => [p.id, { index: p.index, id: p.id, name: p.name, unit: p.unit, scale: p.scale, min: p.min, max: p.max, default: p.default }]),
    );
    const restore = [...this.wanted].filter(([id]) => this.table.has(id)).map(([id, v]): [number, number] => [this.table.get(id)!.index, v]);
    if (restore.length) this.link.setParams(restore, ++this.seq);
    const state = this.link.state() === 'waiting_for_device' ? 'waiting_for_device' : 'running';
    this.setStatus({ state, pid: child.pid ?? null, reason: null });
    this.log.info({ pid: child.pid, link: this.linkName }, 'engine running');
    this.pollTimer = setInterval(() => this.poll(), POLL_MS);
  }

  private poll(): void {
    const link = this.link;
    if (!link) return;
    for (const ev of link.events()) {
      if (ev.type === 'applied') {
        for (const [seq, done] of this.waiters) {
          if (seq <= ev.seq) {
            this.waiters.delete(seq);
            done();
          }
        }
      } else if (ev.type === 'state' && (ev.state === 'running' || ev.state === 'waiting_for_device')) {
        if (this.current.state !== ev.state) this.setStatus({ state: ev.state });
      } else if (ev.type === 'xrun') {
        this.ctx.bus.emit('xrun', { timeNs: ev.timeNs, lostFrames: ev.value });
      }
    }
    const t = link.telemetry();
    if (!t) return;
    this.frame = toFrame(t, link.heartbeats());
    this.ctx.bus.emit('telemetry', this.frame);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.stopPolling();
    this.detach();
    this.child = undefined;
    if (this.current.state === 'stopping') return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const last = this.stderrTail.at(-1);
    this.fail(`the engine exited unexpectedly (${how})${last ? `: ${last}` : ''}`);
  }

  private fail(reason: string): void {
    this.log.error({ reason }, 'engine failed');
    this.setStatus({ state: 'failed', pid: null, reason });
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private detach(): void {
    this.link?.close();
    this.link = undefined;
    this.frame = null;
    loadAddon().unlinkSegment(this.linkName);
    for (const [, done] of this.waiters) done(new EngineError('engine_stopped', 'the engine stopped before it applied the change'));
    this.waiters.clear();
  }

  private setStatus(patch: Partial<EngineStatus>): void {
    this.current = { ...this.current, ...patch };
    this.ctx.bus.emit('engineStatus', this.status());
  }
}
