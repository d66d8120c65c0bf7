import { createRequire } from 'node:module';
import { addonPath } from '../paths.js';

/** The clocks as the ALSA backend measures them (zeros elsewhere). */
export interface RawClock {
  driftPpm: number;
  capturePpm: number;
  playbackPpm: number;
  fillFrames: number;
  targetFrames: number;
  resamplePpm: number;
  twoClocks: boolean;
  corrected: boolean;
}

export interface RawTelemetry {
  state: string;
  rate: number;
  frames: number;
  periods: number;
  channels: number;
  latencyFrames: number;
  appliedSeq: number;
  realtime: boolean;
  periodsProcessed: number;
  xruns: number;
  missedDeadlines: number;
  timeNs: number;
  dspLoad: number;
  dspLoadMean: number;
  dspLoadMax: number;
  jitterUs: number;
  jitterMaxUs: number;
  /** CLOCK_MONOTONIC ns of the last xrun; 0 before the first. */
  lastXrunNs: number;
  /** Times the device was missing or lost. */
  deviceWaits: number;
  /** Wake-up lateness counts: bin 0 < 1 us, bin i in 1..14 [2^(i-1), 2^i) us, bin 15 >= 16384 us. */
  jitterHistogram: number[];
  peakIn: number[];
  rmsIn: number[];
  peakOut: number[];
  rmsOut: number[];
  /** Per strip: gain reduction in dB (>= 0) of each dynamic stage, and the tracked mains hum. */
  strips: Array<{ nsDb: number; gateDb: number; compDb: number; limitDb: number; humHz: number; tonesHz?: number[] }>;
  /** The master limiter on the outputs: gain reduction in dB (>= 0), one for all outputs. */
  master: { limitDb: number };
  clock?: RawClock;
}

export interface RawHeartbeat {
  count: number;
  timeNs: number;
}

export interface RawParamInfo {
  index: number;
  id: string;
  name: string;
  unit: string;
  scale: 'linear' | 'db' | 'log' | 'bool' | 'enum';
  min: number;
  max: number;
  default: number;
  value: number;
}

export interface RawEvent {
  /**
   * midi: activity, code = status << 16 | data1 << 8 | data2; midi_param: a mapping moved
   * parameter `seq` to `value`; midi_program: Program Change `code` on channel `seq`
   * matched a preset mapping; midi_action: a switch matched action `code` (link.h MidiAction).
   */
  type: 'applied' | 'xrun' | 'device_error' | 'state' | 'midi' | 'midi_param' | 'midi_program' | 'midi_action' | 'unknown';
  seq: number;
  code: number;
  value: number;
  timeNs: number;
  state?: string;
}

/** One MIDI mapping as the link carries it (link.h MidiMapping; numbers are its enums). */
export interface RawMidiMapping {
  source: number;
  channel: number;
  number: number;
  mode: number;
  action: number;
  index: number;
  invert: boolean;
  /** 14: a 14-bit CC pair (number 0..31 the MSB, number + 32 the LSB); absent or 7: one CC. */
  resolution?: 7 | 14;
  min?: number;
  max?: number;
}

export interface RawMidiCounters {
  received: number;
  dropped: number;
  /** Times the kernel's sequencer queue for us overran (it drops events then without counting them for us). */
  overruns: number;
  ignored: number;
  applied: number;
  ports: number;
}

/** The engine link as the addon maps it (native/engine/link.h). */
export interface EngineLinkHandle {
  close(): void;
  setParams(entries: Array<[number, number]>, seq: number): boolean;
  resetMeters(seq?: number): boolean;
  telemetry(): RawTelemetry | null;
  heartbeats(): { audio: RawHeartbeat; housekeeping: RawHeartbeat; nowNs: number };
  params(): RawParamInfo[];
  events(): RawEvent[];
  state(): string;
  setMidiMap(mappings: RawMidiMapping[]): void;
  midiCounters(): RawMidiCounters;
  tap(): RawTap | null;
  setTapSource(source: TapSourceName, seq?: number): boolean;
  recording(): RawRecording | null;
  recordStart(options: { path: string; source: RecordSourceName; format: RecordFormatName }, seq?: number): boolean;
  recordStop(seq?: number): boolean;
  spectrum(): RawSpectrum | null;
  readonly enginePid: number;
}

/** 1/6-octave band levels (dBFS) of the mic before processing and of the output mix, from the engine's spectrum thread. */
export interface RawSpectrum {
  /** analyses published since the engine started (about 20 a second) */
  seq: number;
  timeNs: number;
  rate: number;
  /** FFT size */
  window: number;
  droppedFrames: number;
  centreHz: Float32Array;
  inDb: Float32Array;
  outDb: Float32Array;
}

export type TapSourceName = 'mic_raw' | 'mic' | 'mix';
export type RecordSourceName = 'mic_raw' | 'mic' | 'mix' | 'all';
export type RecordFormatName = 'wav' | 'flac';

/** The audio stream's counters, as the engine's tap thread publishes them. */
export interface RawTap {
  source: TapSourceName;
  unix: boolean;
  tcp: boolean;
  ringDroppedFrames: number;
  clientsAccepted: number;
  clientsDroppedStuck: number;
  clientsRefused: number;
  clients: Array<{
    id: number;
    transport: 'unix' | 'tcp';
    rate: number;
    format: 's16le' | 'f32';
    connectedNs: number;
    sentFrames: number;
    droppedFrames: number;
    queuedMs: number;
  }>;
}

/** The current (or last) recording take, as the engine's writer thread publishes it. */
export interface RawRecording {
  state: 'idle' | 'recording' | 'stopped' | 'failed';
  reason: 'requested' | 'disk_full' | 'engine_stop' | 'write_error' | 'open_error' | null;
  seq: number;
  source: RecordSourceName;
  format: RecordFormatName;
  channels: number;
  rate: number;
  error: number;
  framesWritten: number;
  gaps: number;
  gapFrames: number;
  startedNs: number;
  freeBytes: number;
  ringMs: number;
  path: string;
  /** this take: bytes in the file, the ring's fullest (frames), the longest the writer was away from the ring */
  bytes: number;
  ringHighWaterFrames: number;
  longestStallNs: number;
  /** since the engine started, over every take */
  takesTotal: number;
  bytesTotal: number;
  gapsTotal: number;
  gapFramesTotal: number;
}

export interface HushboxAddon {
  EngineLink: new (name: string) => EngineLinkHandle;
  unlinkSegment(name: string): boolean;
  monotonicNs(): number;
  linkVersion: number;
}

let cached: HushboxAddon | undefined;

/** Load the native addon once. */
export function loadAddon(): HushboxAddon {
  if (!cached) {
    const require = createRequire(import.meta.url);
    cached = require(addonPath()) as HushboxAddon;
  }
  return cached;
}
