import { join } from 'node:path';
import { currentActor, describeActor, type Actor } from '../auth/actor.js';
import type { EngineService } from '../engine/engine-service.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import { AuditLog } from './audit-log.js';

/** A parameter still for this long gets its audit line. */
export const PARAM_QUIET_MS = 3000;
/** A parameter that keeps moving gets a line at least this often. */
export const PARAM_MAX_DELAY_MS = 10_000;

interface Pending {
  id: string;
  source: string;
  who: Actor | undefined;
  from: number | undefined;
  to: number;
  steps: number;
  firstAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Parameter changes in the audit log, coalesced: a slider dragged through 200 steps is one line
 * (`param.set`, from, to, steps) per parameter and per who, written once it has been still for 3 s.
 * Preset and A/B recalls are audited by the presets service as one line each and are left out here.
 */
export class ParamAudit implements Service {
  readonly name = 'param-audit';
  private readonly log: Logger;
  private readonly audit: AuditLog;
  private readonly last = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private off: (() => void) | undefined;

  constructor(private readonly deps: { ctx: ServiceContext; engine: Pick<EngineService, 'params'> }) {
    this.log = deps.ctx.log.child({ service: this.name });
    this.audit = new AuditLog(join(deps.ctx.dataDir, 'audit.log'), this.log);
  }

  async start(): Promise<void> {
    if (this.off) return;
    this.off = this.deps.ctx.bus.on('paramsChanged', this.name, ({ values, source }) => {
      const recall = source.startsWith('preset') || source.startsWith('ab');
      const who = currentActor();
      for (const [id, value] of Object.entries(values)) {
        if (!recall) this.note(id, value, source, who);
        this.last.set(id, value);
      }
    });
  }

  private note(id: string, value: number, source: string, who: Actor | undefined): void {
    const key = `${id}\u0000${who ? describeActor(who) : source}`;
    const now = Date.now();
    const p = this.pending.get(key);
    if (p) {
      clearTimeout(p.timer);
      p.to = value;
      p.steps++;
      p.timer = this.schedule(key, Math.min(PARAM_QUIET_MS, Math.max(0, p.firstAt + PARAM_MAX_DELAY_MS - now)));
      return;
    }
    const from = this.last.get(id) ?? this.deps.engine.params().find((x) => x.id === id)?.value;
    this.pending.set(key, { id, source, who, from: from === value ? undefined : from, to: value, steps: 1, firstAt: now, timer: this.schedule(key, PARAM_QUIET_MS) });
  }

  private schedule(key: string, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => this.flush(key), ms);
    t.unref();
    return t;
  }

  private flush(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(key);
    this.audit.append({ action: 'param.set', source: p.source, id: p.id, who: p.who, details: { from: p.from ?? null, to: p.to, steps: p.steps } });
  }

  /** Writes what is pending: nothing said is lost at a clean stop. */
  async stop(): Promise<void> {
    this.off?.();
    this.off = undefined;
    for (const key of [...this.pending.keys()]) this.flush(key);
  }
}
