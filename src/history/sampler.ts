import type { TelemetryFrame } from '../engine/telemetry.js';
import { COLUMNS, type Aggregate, type Row } from './schema.js';

const N = COLUMNS.length;
const index = Object.fromEntries(COLUMNS.map((c, i) => [c.name, i])) as Record<(typeof COLUMNS)[number]['name'], number>;

/** Folds values into one per column as the column's aggregate says (max, mean, power mean of dB, sum, last). */
export class Folder {
  private readonly acc = new Float64Array(N);
  private readonly n = new Uint32Array(N);

  constructor(private readonly aggs: readonly Aggregate[] = COLUMNS.map((c) => c.agg)) {}

  add(i: number, x: number | null): void {
    if (x === null || !Number.isFinite(x)) return;
    const a = this.aggs[i];
    const seen = this.n[i]!;
    if (a === 'max') this.acc[i] = seen ? Math.max(this.acc[i]!, x) : x;
    else if (a === 'power') this.acc[i]! += 10 ** (x / 10);
    else if (a === 'last') this.acc[i] = x;
    else this.acc[i]! += x; // mean, sum
    this.n[i] = seen + 1;
  }

  addRow(v: ReadonlyArray<number | null>): void {
    for (let i = 0; i < v.length; i++) this.add(i, v[i] ?? null);
  }

  empty(): boolean {
    return this.n.every((x) => x === 0);
  }

  /** The folded values, then start again. */
  take(): Array<number | null> {
    const out: Array<number | null> = new Array<number | null>(this.aggs.length);
    for (let i = 0; i < this.aggs.length; i++) {
      const seen = this.n[i]!;
      const a = this.aggs[i];
      if (!seen) out[i] = null;
      else if (a === 'mean') out[i] = round(this.acc[i]! / seen, 4);
      else if (a === 'power') out[i] = round(Math.max(-120, 10 * Math.log10(this.acc[i]! / seen)), 1);
      else out[i] = round(this.acc[i]!, 4);
    }
    this.acc.fill(0);
    this.n.fill(0);
    return out;
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** What the engine and health said during one sample period, folded into a row. */
export class Sampler {
  private readonly folder = new Folder();
  private xruns = 0;
  private restarts = 0;
  private temperatureC: number | null = null;
  private cpuPercent: number | null = null;

  /** [control] One telemetry frame (about 50 a second). */
  addFrame(f: TelemetryFrame): void {
    const add = (name: keyof typeof index, x: number | null | undefined) => this.folder.add(index[name], x ?? null);
    add('in1PeakDb', f.meters.in[0]?.peakDb);
    add('in1RmsDb', f.meters.in[0]?.rmsDb);
    add('in2PeakDb', f.meters.in[1]?.peakDb);
    add('in2RmsDb', f.meters.in[1]?.rmsDb);
    add('out1PeakDb', f.meters.out[0]?.peakDb);
    add('out1RmsDb', f.meters.out[0]?.rmsDb);
    add('out2PeakDb', f.meters.out[1]?.peakDb);
    add('out2RmsDb', f.meters.out[1]?.rmsDb);
    const [mic, inst] = f.reduction;
    add('micNsDb', mic?.nsDb);
    add('micGateDb', mic?.gateDb);
    add('micCompDb', mic?.compDb);
    add('micLimitDb', mic?.limitDb);
    add('instNsDb', inst?.nsDb);
    add('instGateDb', inst?.gateDb);
    add('instCompDb', inst?.compDb);
    add('instLimitDb', inst?.limitDb);
    add('masterLimitDb', f.masterReduction.limitDb);
    add('dspLoad', f.dspLoad);
    add('dspLoadMax', f.dspLoad);
    add('jitterMaxUs', f.jitterUs);
    add('latencyMs', f.latencyMs);
    // Drift is measured on the ALSA backend only; elsewhere it reads 0 and means nothing.
    const c = f.clock;
    if (c.twoClocks || c.driftPpm !== 0 || c.capturePpm !== 0) add('driftPpm', c.driftPpm);
  }

  /** [control] The engine's state at a moment: sampled once per frame tick by the owner. */
  addEngineUp(up: boolean): void {
    this.folder.add(index.engineUp, up ? 1 : 0);
  }

  addXrun(): void {
    this.xruns++;
  }

  addRestart(): void {
    this.restarts++;
  }

  setHealth(temperatureC: number | null, cpuPercent: number | null): void {
    this.temperatureC = temperatureC;
    this.cpuPercent = cpuPercent;
  }

  /** The row for the period that ends at `t` (unix seconds); the counters start again. */
  take(t: number): Row {
    this.folder.add(index.xruns, this.xruns);
    this.folder.add(index.restarts, this.restarts);
    this.folder.add(index.temperatureC, this.temperatureC);
    this.folder.add(index.cpuPercent, this.cpuPercent);
    this.xruns = 0;
    this.restarts = 0;
    return { t, v: this.folder.take() };
  }
}
