import { Type, type Static } from '@sinclair/typebox';
import type { SystemConfig } from '../config/schema.js';
import type { EngineService } from '../engine/engine-service.js';
import { HushboxError, NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import { nativeControls, nativeSystemCalls, type ControlAccess, type SystemCalls } from './native-system.js';
import { RootFs } from './root-fs.js';
import { detectScarlett, MSD_HOW_TO_LEAVE, ScarlettMixer, type ScarlettControls, type ScarlettInfo } from './scarlett.js';
import { Tuner, TuningStepSchema, type TuningStep } from './tuning.js';

export const SystemReportSchema = Type.Object({
  root: Type.String(),
  tune: Type.Boolean(),
  audioCpu: Type.Union([Type.Integer(), Type.Null()]),
  steps: Type.Array(TuningStepSchema),
  interface: Type.Union([
    Type.Object({
      model: Type.String(),
      usbId: Type.String(),
      card: Type.Union([Type.String(), Type.Null()]),
      msd: Type.Boolean(),
      advice: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
});
export type SystemReport = Static<typeof SystemReportSchema>;

export function systemConfig(c: { system?: SystemConfig }): SystemConfig {
  return c.system ?? { root: '/', tune: false, audioCpu: -1, irqPriority: 90, swappiness: 10 };
}

export interface SystemDeps {
  ctx: ServiceContext;
  engine?: EngineService;
  /** Injected in tests; the addon otherwise. */
  sys?: SystemCalls;
  controls?: ControlAccess;
}

/** Prepares the box for real-time audio at start, undoes it at stop, and knows the audio interface. */
export class SystemService implements Service {
  readonly name = 'system';
  private readonly log: Logger;
  private readonly cfg: SystemConfig;
  readonly fs: RootFs;
  private tuner: Tuner | undefined;
  private steps: TuningStep[] = [];

  constructor(private readonly deps: SystemDeps) {
    this.log = deps.ctx.log.child({ service: this.name });
    this.cfg = systemConfig(deps.ctx.config);
    this.fs = new RootFs(this.cfg.root);
  }

  async start(): Promise<void> {
    if (this.tuner) return;
    const tuner = new Tuner(this.fs, this.systemCalls(), {
      enabled: this.cfg.tune,
      audioCpu: this.cfg.audioCpu >= 0 ? this.cfg.audioCpu : this.deps.ctx.config.engine.cpu,
      irqPriority: this.cfg.irqPriority,
      engineDevice: this.deps.ctx.config.engine.device,
      swappiness: this.cfg.swappiness,
      selfPid: process.pid,
    });
    this.tuner = tuner;
    this.steps = tuner.apply();
    for (const s of this.steps) {
      const level = s.status === 'failed' ? 'warn' : 'info';
      this.log[level]({ step: s.id, status: s.status }, `${s.title}: ${s.status}: ${s.detail}`);
    }
    const scarlett = this.scarlett();
    if (scarlett?.msd) this.log.warn({ model: scarlett.model }, MSD_HOW_TO_LEAVE);
    // Tell the engine its core (it sets its own SCHED_FIFO priority with --priority).
    const cpu = tuner.audioCpu();
    const engine = this.deps.engine;
    if (this.cfg.tune && engine && cpu !== null && engine.ioConfig().cpu < 0) await engine.reconfigure({ cpu }, 'audio core chosen');
  }

  /** The addon on the real root; on a fake tree its pids are not real processes, so nothing pid-based may run. */
  private systemCalls(): SystemCalls {
    if (this.deps.sys) return this.deps.sys;
    if (this.cfg.root === '/') return nativeSystemCalls();
    const refuse = (): never => {
      throw new HushboxError('fake_root', `scheduling and affinity are only changed on the real root, not under ${this.cfg.root}`);
    };
    return { setScheduler: refuse, getScheduler: refuse, setAffinity: refuse, getAffinity: refuse, lockMemory: refuse, sdNotify: () => false };
  }

  async stop(): Promise<void> {
    const tuner = this.tuner;
    this.tuner = undefined;
    if (!tuner) return;
    for (const p of tuner.undo()) this.log.warn(`could not undo: ${p}`);
  }

  scarlett(): ScarlettInfo | null {
    return detectScarlett(this.fs);
  }

  /** The Scarlett's hardware controls (input gain, Air, 48V, direct monitor), or null without one. */
  scarlettMixer(): ScarlettMixer | null {
    const s = this.scarlett();
    if (!s?.card || !s.scarlett2) return null;
    return new ScarlettMixer(this.deps.controls ?? nativeControls(), `hw:${s.card.index}`);
  }

  report(): SystemReport {
    const s = this.scarlett();
    return {
      root: this.cfg.root,
      tune: this.cfg.tune,
      audioCpu: this.tuner?.audioCpu() ?? null,
      steps: this.steps,
      interface: s
        ? { model: s.model, usbId: s.id, card: s.card ? s.card.id : null, msd: s.msd, advice: s.msd ? `${MSD_HOW_TO_LEAVE} (${s.msdEvidence})` : null }
        : null,
    };
  }

  /** The mixer of the Scarlett, or a clear error why there is none. */
  requireMixer(): ScarlettMixer {
    const s = this.scarlett();
    if (!s) throw new NotFoundError('no Focusrite Scarlett is connected');
    if (!s.card) throw new NotFoundError(`${s.model} has no sound card (is snd-usb-audio loaded?)`);
    if (!s.scarlett2) throw new NotFoundError(`${s.model} has no hardware controls under Linux (no scarlett2 mixer driver)`);
    return this.scarlettMixer()!;
  }

  /** The controls, when they can be read; null otherwise (no device, or not a scarlett2 model). */
  scarlettControls(): ScarlettControls | null {
    return this.scarlettMixer()?.read() ?? null;
  }
}
