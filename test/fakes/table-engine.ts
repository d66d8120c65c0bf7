import type { EngineService } from '../../src/engine/engine-service.js';
import type { Param } from '../../src/engine/params.js';
import { validateParamValues, type ParamDef } from '../../src/engine/params.js';
import type { EngineStatus, TelemetryFrame } from '../../src/engine/telemetry.js';
import type { EventBus } from '../../src/events.js';

type Def = Omit<Param, 'value'>;

const db = (id: string, name: string, min = -24, max = 24): Def => ({ id, name, unit: 'dB', scale: 'db', min, max, default: 0 });
const bool = (id: string, name: string): Def => ({ id, name, unit: '', scale: 'bool', min: 0, max: 1, default: 0 });

/** The table of the engine on this branch: two trims. */
export const SKELETON_TABLE: Def[] = [db('mic.trim.gain', 'Mic input trim'), db('inst.trim.gain', 'Instrument input trim')];

/** A fuller table as the DSP chain will have it (a subset of PARAMS.md). */
export const FULL_TABLE: Def[] = [
  ...SKELETON_TABLE,
  { id: 'mic.ns.strength', name: 'Mic noise suppression', unit: '%', scale: 'linear', min: 0, max: 100, default: 50 },
  { id: 'mic.comp.threshold', name: 'Mic compressor threshold', unit: 'dBFS', scale: 'db', min: -60, max: 0, default: -20 },
  db('mic.out.gain', 'Mic output gain'),
  db('master.gain', 'Master gain', -60, 12),
  bool('master.bypass', 'Bypass'),
];

/**
 * An engine service stand-in for unit tests of the layers above it: the same
 * validation as the real one (validateParamValues), values applied at once.
 */
export class TableEngine {
  values = new Map<string, number>();
  batches: Array<{ values: Record<string, number>; source: string }> = [];
  state: EngineStatus['state'] = 'running';
  restarts = 0;

  constructor(
    private readonly defs: Def[] = SKELETON_TABLE,
    private readonly bus?: EventBus,
  ) {
    for (const d of defs) this.values.set(d.id, d.default);
  }

  params(): Param[] {
    return this.defs.map((d) => ({ ...d, value: this.values.get(d.id)! }));
  }

  status(): EngineStatus {
    return { state: this.state, pid: 1, backend: 'fake', device: '', reason: null, restarts: this.restarts };
  }

  telemetry(): TelemetryFrame | null {
    return null;
  }

  async setParams(values: Record<string, unknown>, source: string): Promise<Record<string, number>> {
    const table = new Map<string, ParamDef>(this.defs.map((d, index) => [d.id, { ...d, index }]));
    const checked = validateParamValues(table, values);
    if (this.state !== 'running') throw new Error('engine not running');
    const out: Record<string, number> = {};
    for (const [d, v] of checked) {
      this.values.set(d.id, v);
      out[d.id] = v;
    }
    this.batches.push({ values: out, source });
    this.bus?.emit('paramsChanged', { values: out, source });
    return out;
  }

  async restart(): Promise<EngineStatus> {
    this.restarts++;
    return this.status();
  }

  asService(): EngineService {
    return this as unknown as EngineService;
  }
}
