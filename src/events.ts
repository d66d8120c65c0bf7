import type { Logger } from './log.js';
import type { LatencySettings } from './engine/latency-measure.js';
import type { EngineStatus, Spectrum, TelemetryFrame } from './engine/telemetry.js';
import type { DoctorSummary } from './health/doctor-watch.js';
import type { Health } from './health/health.js';
import type { BoxEvent, XrunCounts } from './history/schema.js';
import type { OtaSummary } from './ota/schema.js';
import type { BoxState } from './presets/state.js';

/** Every event on the bus, with its payload type. */
export interface EventMap {
  /** A telemetry snapshot from the engine, about 50 times a second. */
  telemetry: TelemetryFrame;
  /** The engine's spectrum (1/6-octave bands in and out), about 20 times a second. */
  spectrum: Spectrum;
  /** The engine changed state (started, stopped, failed...). */
  engineStatus: EngineStatus;
  /** Parameters changed and were applied by the engine. */
  paramsChanged: { values: Record<string, number>; source: string };
  /** The engine reported an xrun. */
  xrun: { timeNs: number; lostFrames: number; stream: 'capture' | 'playback' | null };
  /** A health snapshot (system and engine), every few seconds: the input for MQTT and the page. */
  health: Health;
  /** The box's state as automation sees it changed (preset, bypass, params, engine state...). */
  stateChanged: BoxState;
  /** A preset was created, changed, removed or imported. */
  presetsChanged: { ids: string[]; source: string };
  /** An update's progress or outcome, or the channel's latest version, changed. */
  otaChanged: OtaSummary;
  /** A MIDI message reached the engine (activity view, learn). A flood shows its first messages per period. */
  midiActivity: { kind: 'cc' | 'note_on' | 'note_off' | 'program'; channel: number; number: number; value: number };
  /** A Program Change matched a preset mapping (channel 1..16). */
  midiProgram: { channel: number; program: number };
  /** A switch matched an action mapping. */
  midiAction: { action: 'ab_toggle' | 'record' };
  /** The MIDI mappings or settings changed. */
  midiChanged: { source: string };
  /** The doctor's verdicts changed (warnings and failures with their fixes). */
  doctor: DoctorSummary;
  /** Something for the event list happened (or an event gathered more: same id, sent again). */
  boxEvent: BoxEvent;
  /** The xrun counts (session, total) changed; at most once a second. */
  xrunCounts: XrunCounts;
  /** A round-trip measurement ran (its result kept with the last good one). */
  latencyMeasured: LatencySettings;
  /** The box's name changed (the front panel's Settings). */
  boxInfo: { name: string; deviceId: string; version: string };
  /** Every service has started (the supervisor is up). */
  started: { at: Date };
}

type Listener<K extends keyof EventMap> = (payload: EventMap[K]) => void | Promise<void>;

/** A typed event bus: a listener's error is logged with its owner's name and never escapes. */
export class EventBus {
  private readonly listeners = new Map<keyof EventMap, Set<{ owner: string; fn: Listener<never> }>>();

  constructor(private readonly log: Logger) {}

  on<K extends keyof EventMap>(event: K, owner: string, fn: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const entry = { owner, fn: fn as Listener<never> };
    set.add(entry);
    return () => set.delete(entry);
  }

  emit<K extends keyof EventMap>(event: K, payload: EventMap[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const { owner, fn } of set) {
      try {
        const result = (fn as Listener<K>)(payload);
        if (result instanceof Promise) {
          result.catch((err: unknown) => this.log.error({ err, owner, event }, 'event listener failed'));
        }
      } catch (err) {
        this.log.error({ err, owner, event }, 'event listener failed');
      }
    }
  }

  listenerCount(event: keyof EventMap): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
