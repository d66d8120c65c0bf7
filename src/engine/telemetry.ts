import { Type, type Static } from '@sinclair/typebox';
import type { RawHeartbeat, RawRecording, RawSpectrum, RawTap, RawTelemetry } from './native.js';

export const EngineStateSchema = Type.Union([
  Type.Literal('stopped'),
  Type.Literal('starting'),
  Type.Literal('running'),
  Type.Literal('waiting_for_device'),
  Type.Literal('stopping'),
  Type.Literal('failed'),
]);
export type EngineState = Static<typeof EngineStateSchema>;

export const MeterSchema = Type.Object({
  peakDb: Type.Number({ description: 'dBFS, held over about 1/30 s' }),
  rmsDb: Type.Number({ description: 'dBFS, 300 ms window' }),
});
export type Meter = Static<typeof MeterSchema>;

export const StripReductionSchema = Type.Object({
  nsDb: Type.Number({ description: 'noise suppression gain reduction, dB (>= 0)' }),
  gateDb: Type.Number(),
  compDb: Type.Number(),
  limitDb: Type.Number(),
  humHz: Type.Number({ description: 'the mains hum being removed, Hz; 0 while none is tracked' }),
  tonesHz: Type.Array(Type.Number(), {
    maxItems: 8,
    description: 'steady tones the noise suppressor notches out (hum left over, a fan, a compressor), Hz, lowest first',
  }),
});

export const MasterReductionSchema = Type.Object({
  limitDb: Type.Number({ description: 'master limiter gain reduction on the outputs, dB (>= 0); 0 while bypassed' }),
});

export const HeartbeatSchema = Type.Object({
  count: Type.Number(),
  ageMs: Type.Union([Type.Number(), Type.Null()], { description: 'time since the last beat; null before the first' }),
});

export const StreamClientSchema = Type.Object({
  id: Type.Integer(),
  transport: Type.Union([Type.Literal('unix'), Type.Literal('tcp')]),
  rate: Type.Integer(),
  format: Type.Union([Type.Literal('s16le'), Type.Literal('f32')]),
  connectedS: Type.Number({ description: 'seconds since the client connected' }),
  sentFrames: Type.Number(),
  droppedFrames: Type.Number({ description: 'frames this client lost because it did not keep up (the oldest first)' }),
  queuedMs: Type.Integer({ description: 'audio waiting for the client' }),
});

/** The audio stream (Wyoming) as the engine's tap thread reports it. */
export const StreamTelemetrySchema = Type.Object({
  source: Type.Union([Type.Literal('mic_raw'), Type.Literal('mic'), Type.Literal('mix')]),
  unix: Type.Boolean({ description: 'the Unix socket listens' }),
  tcp: Type.Boolean({ description: 'the TCP port listens' }),
  ringDroppedFrames: Type.Number({ description: 'frames the tap thread was too late for (the audio thread never waits)' }),
  clientsAccepted: Type.Number(),
  clientsDroppedStuck: Type.Number({ description: 'clients dropped after taking nothing for the stuck timeout' }),
  clientsRefused: Type.Number({ description: 'clients turned away: too many, or a wrong TCP token' }),
  clients: Type.Array(StreamClientSchema),
});
export type StreamTelemetry = Static<typeof StreamTelemetrySchema>;

/** The recording writer as the engine reports it: the current (or last) take and totals since the engine started. */
export const RecordingTelemetrySchema = Type.Object({
  state: Type.Union([Type.Literal('idle'), Type.Literal('recording'), Type.Literal('stopped'), Type.Literal('failed')]),
  seconds: Type.Number({ description: 'audio in the take (gaps included, as silence)' }),
  bytes: Type.Number({ description: 'bytes in the take\'s file' }),
  gaps: Type.Number({ description: 'stalls of the take longer than the ring (each one a gap of silence)' }),
  gapSeconds: Type.Number(),
  ringSeconds: Type.Number({ description: 'the longest write stall the ring absorbs at this take\'s channels' }),
  ringHighWater: Type.Number({ description: 'the ring\'s fullest during the take, 0..1' }),
  longestStallS: Type.Number({ description: 'the longest the writer was away from the ring in one write, sync or stall' }),
  takesTotal: Type.Number({ description: 'takes started since the engine started' }),
  bytesTotal: Type.Number(),
  gapsTotal: Type.Number(),
  gapSecondsTotal: Type.Number(),
});
export type RecordingTelemetry = Static<typeof RecordingTelemetrySchema>;

/** The front panel's spectrum: 1/6-octave bands of the mic (before processing) and of the output mix. */
export const SpectrumSchema = Type.Object({
  seq: Type.Number({ description: 'analyses since the engine started' }),
  centreHz: Type.Array(Type.Number(), { description: '1000 * 2^(k/6) Hz, k = -33..26 (those below Nyquist)' }),
  inDb: Type.Array(Type.Number(), { description: 'the mic before processing, dBFS per band: a full-scale sine reads 0; -140 is nothing' }),
  outDb: Type.Array(Type.Number(), { description: 'the output mix ((L + R) / 2), dBFS per band' }),
});
export type Spectrum = Static<typeof SpectrumSchema>;

export const ClockSchema = Type.Object({
  driftPpm: Type.Number({ description: 'playback clock against capture clock, ppm (a delay-locked loop over the hardware positions)' }),
  capturePpm: Type.Number({ description: 'capture clock against CLOCK_MONOTONIC, ppm' }),
  playbackPpm: Type.Number({ description: 'playback clock against CLOCK_MONOTONIC, ppm' }),
  fillFrames: Type.Number({ description: 'frames in flight between capture and playback (capture backlog + playback queue)' }),
  targetFrames: Type.Number({ description: 'the fill the drift correction holds; 0 without correction' }),
  resamplePpm: Type.Number({ description: 'the adaptive resampler: playback frames per captured frame - 1, ppm' }),
  twoClocks: Type.Boolean({ description: 'capture and playback are on different cards' }),
  corrected: Type.Boolean({ description: 'the adaptive resampler holds the fill (two clocks, correction on)' }),
});
export type Clock = Static<typeof ClockSchema>;

export const TelemetryFrameSchema = Type.Object({
  state: Type.String(),
  rate: Type.Integer(),
  frames: Type.Integer(),
  periods: Type.Integer(),
  channels: Type.Integer(),
  latencyFrames: Type.Integer(),
  latencyMs: Type.Number(),
  realtime: Type.Boolean(),
  periodsProcessed: Type.Number(),
  xruns: Type.Number(),
  missedDeadlines: Type.Number(),
  dspLoad: Type.Number({ description: 'block time / period, last block' }),
  dspLoadMean: Type.Number(),
  dspLoadMax: Type.Number(),
  jitterUs: Type.Number(),
  jitterMaxUs: Type.Number(),
  jitterP99Us: Type.Number({ description: 'wake-up lateness p99 (upper edge of its histogram bin)' }),
  jitterP999Us: Type.Number({ description: 'wake-up lateness p99.9 (upper edge of its histogram bin)' }),
  jitterHistogram: Type.Array(Type.Integer(), {
    description: 'wake-up lateness counts: bin 0 < 1 us, bin i in 1..14 [2^(i-1), 2^i) us, the last >= 16384 us',
  }),
  lastXrunNs: Type.Number({ description: 'CLOCK_MONOTONIC ns of the last xrun; 0 before the first' }),
  deviceWaits: Type.Integer({ description: 'times the audio device was missing or lost' }),
  appliedSeq: Type.Integer(),
  meters: Type.Object({ in: Type.Array(MeterSchema), out: Type.Array(MeterSchema) }),
  reduction: Type.Array(StripReductionSchema, { description: 'per strip (mic, instrument): what each stage takes off now' }),
  masterReduction: MasterReductionSchema,
  clock: ClockSchema,
  heartbeats: Type.Object({ audio: HeartbeatSchema, housekeeping: HeartbeatSchema }),
  stream: Type.Optional(StreamTelemetrySchema),
  recording: Type.Optional(RecordingTelemetrySchema),
});
export type TelemetryFrame = Static<typeof TelemetryFrameSchema>;

export const EngineStatusSchema = Type.Object({
  state: EngineStateSchema,
  pid: Type.Union([Type.Integer(), Type.Null()]),
  backend: Type.String(),
  device: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'why the engine is not running, if it is not' }),
  restarts: Type.Integer(),
});
export type EngineStatus = Static<typeof EngineStatusSchema>;

const round1 = (x: number) => Math.round(x * 10) / 10;

/** dBFS of a linear level, floored at -120. */
export function toDb(linear: number): number {
  if (!(linear > 1e-6)) return -120;
  return Math.max(-120, Math.round(20 * Math.log10(linear) * 10) / 10);
}

/** Upper edge (us) of the histogram bin below which fraction q of the wake-ups fell. */
export function histogramPercentile(bins: number[], q: number): number {
  const total = bins.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const target = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i] ?? 0;
    if (seen >= target) return i === 0 ? 1 : 2 ** i;
  }
  return 2 ** (bins.length - 1);
}

/** The tap's counters with the clients' connection times as ages. */
export function toStreamTelemetry(t: RawTap, nowNs: number): StreamTelemetry {
  return {
    ...t,
    clients: t.clients.map(({ connectedNs, ...c }) => ({ ...c, connectedS: Math.max(0, Math.round((nowNs - connectedNs) / 1e6) / 1000) })),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The writer's figures as seconds and fractions. */
export function toRecordingTelemetry(r: RawRecording): RecordingTelemetry {
  const rate = r.rate || 1;
  const ringFrames = (r.ringMs / 1000) * rate;
  return {
    state: r.state,
    seconds: round3(r.framesWritten / rate),
    bytes: r.bytes,
    gaps: r.gaps,
    gapSeconds: round3(r.gapFrames / rate),
    ringSeconds: r.ringMs / 1000,
    // Six places: a writer that keeps up holds a few ms of a 10 s ring (under 0.0005), which three places showed as 0.
    ringHighWater: ringFrames > 0 ? Math.min(1, Math.round((r.ringHighWaterFrames / ringFrames) * 1e6) / 1e6) : 0,
    longestStallS: round3(r.longestStallNs / 1e9),
    takesTotal: r.takesTotal,
    bytesTotal: r.bytesTotal,
    gapsTotal: r.gapsTotal,
    gapSecondsTotal: round3(r.gapFramesTotal / rate),
  };
}

/** The band levels rounded for the page (0.1 Hz, 0.1 dB). */
export function toSpectrum(s: RawSpectrum): Spectrum {
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return { seq: s.seq, centreHz: Array.from(s.centreHz, r1), inDb: Array.from(s.inDb, r1), outDb: Array.from(s.outDb, r1) };
}

function beat(h: RawHeartbeat, nowNs: number): { count: number; ageMs: number | null } {
  return { count: h.count, ageMs: h.count > 0 ? Math.max(0, (nowNs - h.timeNs) / 1e6) : null };
}

export function toFrame(
  t: RawTelemetry,
  hb: { audio: RawHeartbeat; housekeeping: RawHeartbeat; nowNs: number },
): TelemetryFrame {
  const meters = (peak: number[], rms: number[]): Meter[] =>
    peak.map((p, i) => ({ peakDb: toDb(p), rmsDb: toDb(rms[i] ?? 0) }));
  return {
    state: t.state,
    rate: t.rate,
    frames: t.frames,
    periods: t.periods,
    channels: t.channels,
    latencyFrames: t.latencyFrames,
    latencyMs: t.rate ? Math.round((t.latencyFrames / t.rate) * 1e5) / 100 : 0,
    realtime: t.realtime,
    periodsProcessed: t.periodsProcessed,
    xruns: t.xruns,
    missedDeadlines: t.missedDeadlines,
    dspLoad: t.dspLoad,
    dspLoadMean: t.dspLoadMean,
    dspLoadMax: t.dspLoadMax,
    jitterUs: t.jitterUs,
    jitterMaxUs: t.jitterMaxUs,
    jitterP99Us: histogramPercentile(t.jitterHistogram, 0.99),
    jitterP999Us: histogramPercentile(t.jitterHistogram, 0.999),
    jitterHistogram: t.jitterHistogram,
    lastXrunNs: t.lastXrunNs,
    deviceWaits: t.deviceWaits,
    appliedSeq: t.appliedSeq,
    meters: { in: meters(t.peakIn, t.rmsIn), out: meters(t.peakOut, t.rmsOut) },
    reduction: (t.strips ?? []).map((m) => ({
      nsDb: round1(m.nsDb),
      gateDb: round1(m.gateDb),
      compDb: round1(m.compDb),
      limitDb: round1(m.limitDb),
      humHz: Math.round(m.humHz * 100) / 100,
      tonesHz: [...(m.tonesHz ?? [])].sort((a, b) => a - b).map((hz) => Math.round(hz * 10) / 10),
    })),
    masterReduction: { limitDb: round1(t.master?.limitDb ?? 0) },
    clock: {
      driftPpm: round1(t.clock?.driftPpm ?? 0),
      capturePpm: round1(t.clock?.capturePpm ?? 0),
      playbackPpm: round1(t.clock?.playbackPpm ?? 0),
      fillFrames: round1(t.clock?.fillFrames ?? 0),
      targetFrames: round1(t.clock?.targetFrames ?? 0),
      resamplePpm: round1(t.clock?.resamplePpm ?? 0),
      twoClocks: t.clock?.twoClocks ?? false,
      corrected: t.clock?.corrected ?? false,
    },
    heartbeats: { audio: beat(hb.audio, hb.nowNs), housekeeping: beat(hb.housekeeping, hb.nowNs) },
  };
}
