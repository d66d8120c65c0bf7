import type { EngineService } from '../../src/engine/engine-service.js';
import { validateParamValues, type Param, type ParamDef } from '../../src/engine/params.js';
import type { EngineStatus, TelemetryFrame } from '../../src/engine/telemetry.js';

/** An in-memory stand-in for EngineService, for unit tests of the layers above it. */
export class FakeEngine {
  readonly table = new Map<string, ParamDef>([
    ['mic.trim.gain', { index: 0, id: 'mic.trim.gain', name: 'Mic input trim', unit: 'dB', scale: 'db', min: -24, max: 24, default: 0 }],
    ['inst.trim.gain', { index: 1, id: 'inst.trim.gain', name: 'Instrument input trim', unit: 'dB', scale: 'db', min: -24, max: 24, default: 0 }],
  ]);
  values = new Map<string, number>();
  state: EngineStatus = { state: 'running', pid: 1234, backend: 'sim', device: 'hw:Gen', reason: null, restarts: 0 };
  frame: TelemetryFrame | null = null;
  failNext: Error | undefined;

  status(): EngineStatus {
    return { ...this.state };
  }
  telemetry(): TelemetryFrame | null {
    return this.frame;
  }
  params(): Param[] {
    return [...this.table.values()].map(({ index: _index, ...d }) => ({ ...d, value: this.values.get(d.id) ?? d.default }));
  }
  async setParams(values: Record<string, unknown>): Promise<Record<string, number>> {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    const checked = validateParamValues(this.table, values);
    const out: Record<string, number> = {};
    for (const [d, v] of checked) {
      this.values.set(d.id, v);
      out[d.id] = v;
    }
    return out;
  }
  asService(): EngineService {
    return this as unknown as EngineService;
  }
}
