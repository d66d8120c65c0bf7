import { Type, type Static } from '@sinclair/typebox';
import type { EngineService } from '../engine/engine-service.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import { nativeControls } from '../system/native-system.js';
import { systemConfig } from '../system/system-service.js';
import { DoctorCheckSchema, runDoctor, type DoctorReport } from './doctor.js';
import type { HealthService } from './health-service.js';

export const DOCTOR_EVERY_MS = 60_000;
/** The first run waits this long: the box's start is busy enough (the checks block the event loop for about 100 ms). */
export const DOCTOR_FIRST_MS = 5_000;

export const DoctorSummarySchema = Type.Object({
  at: Type.String({ description: 'ISO 8601, when the checks ran' }),
  overall: Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail')]),
  counts: Type.Object({ pass: Type.Integer(), warn: Type.Integer(), fail: Type.Integer(), skip: Type.Integer() }),
  problems: Type.Array(DoctorCheckSchema, { description: 'the checks that warn or fail, failures first, each with its fix' }),
});
export type DoctorSummary = Static<typeof DoctorSummarySchema>;

export function summarize(r: DoctorReport, at = new Date()): DoctorSummary {
  const rank = { fail: 0, warn: 1, pass: 2, skip: 3 };
  const problems = r.checks.filter((c) => c.status === 'warn' || c.status === 'fail').sort((a, b) => rank[a.status] - rank[b.status]);
  return { at: at.toISOString(), overall: r.overall, counts: r.counts, problems };
}

/** Runs the doctor now and then so its warnings and failures can be on the page (whole state, `doctor` message) without waiting for it. */
export class DoctorWatch implements Service {
  readonly name = 'doctor';
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private last: DoctorSummary | null = null;
  private running: Promise<DoctorSummary> | undefined;

  constructor(
    private readonly deps: { ctx: ServiceContext; engine: EngineService; health?: HealthService },
    private readonly everyMs = DOCTOR_EVERY_MS,
  ) {
    this.log = deps.ctx.log.child({ service: this.name });
  }

  async start(): Promise<void> {
    if (this.timer) return;
    // Not at once: the engine's doctor is a process of its own and the checks read /proc; the box does not wait for them to start.
    this.first = setTimeout(() => void this.refresh().catch((err: unknown) => this.log.warn({ err }, 'doctor failed')), DOCTOR_FIRST_MS);
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.log.warn({ err }, 'doctor failed')), this.everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    clearTimeout(this.first);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  summary(): DoctorSummary | null {
    return this.last;
  }

  /** Run every check now (one run at a time); answers the whole report and keeps its summary. */
  async report(): Promise<DoctorReport> {
    const { ctx, engine, health } = this.deps;
    const report = await runDoctor({
      config: ctx.config,
      engine: engine.status(),
      health: health ? await health.current() : null,
      // Real ALSA controls only on the real root; a fake tree has no cards behind it.
      controls: systemConfig(ctx.config).root === '/' ? nativeControls() : undefined,
    });
    this.keep(summarize(report));
    return report;
  }

  refresh(): Promise<DoctorSummary> {
    this.running ??= this.report()
      .then(() => this.last!)
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private keep(s: DoctorSummary): void {
    // The details move at every run (loads, temperatures); what the page shows changes with the verdicts.
    const key = (x: DoctorSummary | null) => x?.problems.map((p) => `${p.id}:${p.status}`).join(',') ?? null;
    const changed = key(this.last) !== key(s);
    this.last = s;
    if (changed) this.deps.ctx.bus.emit('doctor', s);
  }
}
