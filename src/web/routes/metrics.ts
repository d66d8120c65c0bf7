import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { EngineStateSchema } from '../../engine/telemetry.js';
import type { Health } from '../../health/health.js';
import { BYPASS_PARAM } from '../../presets/presets-service.js';
import type { WebDeps } from '../app.js';

type Labels = Record<string, string>;
interface Sample {
  labels?: Labels;
  /** null or undefined: not known now, so not exposed (never a made-up 0). */
  value: number | null | undefined;
}

const ENGINE_STATES = EngineStateSchema.anyOf.map((s) => s.const);
const THROTTLING_CONDITIONS = [
  ['under_voltage', 'underVoltage'],
  ['frequency_capped', 'frequencyCapped'],
  ['throttled', 'throttled'],
  ['soft_temp_limit', 'softTempLimit'],
] as const;

/** The strips as the parameter ids name them (mic.*, inst.*); further channels by number. */
const stripName = (i: number) => ['mic', 'inst'][i] ?? `ch${i + 1}`;
const bit = (b: boolean) => (b ? 1 : 0);

/**
 * One scrape's worth of hushbox_* metrics. A fresh registry per scrape rather
 * than long-lived metrics: a prom-client gauge without labels always shows a
 * value (0 after reset), and what is unknown now must be absent, not 0.
 */
class Scrape {
  readonly registry = new Registry();

  gauge(name: string, help: string, samples: Sample[] | number | null | undefined): void {
    const known = this.known(samples);
    if (!known.length) return;
    const g = new Gauge({ name, help, labelNames: Object.keys(known[0]!.labels ?? {}), registers: [this.registry] });
    for (const s of known) g.set(s.labels ?? {}, s.value as number);
  }

  /** A total the engine or a service counts; its value as they report it. */
  counter(name: string, help: string, value: number | null | undefined): void {
    if (!this.known(value).length) return;
    new Counter({ name, help, registers: [this.registry] }).inc(value as number);
  }

  /** Totals per label set (one per stream client, ...). */
  labelledCounter(name: string, help: string, samples: Sample[]): void {
    const known = this.known(samples);
    if (!known.length) return;
    const c = new Counter({ name, help, labelNames: Object.keys(known[0]!.labels ?? {}), registers: [this.registry] });
    for (const s of known) c.inc(s.labels ?? {}, s.value as number);
  }

  private known(samples: Sample[] | number | null | undefined): Sample[] {
    const list = Array.isArray(samples) ? samples : [{ value: samples }];
    return list.filter((s) => typeof s.value === 'number' && Number.isFinite(s.value));
  }
}

function engineMetrics(m: Scrape, deps: WebDeps): void {
  const status = deps.engine.status();
  m.gauge('hushbox_engine_up', 'Whether the engine runs and processes audio (1) or not (0)', bit(status.state === 'running'));
  m.gauge(
    'hushbox_engine_state',
    'The engine state: 1 for the current one, 0 for the others',
    ENGINE_STATES.map((state) => ({ labels: { state }, value: bit(status.state === state) })),
  );
  m.counter('hushbox_engine_restarts_total', 'Times the supervisor restarted an engine that crashed, hung or failed to start', status.restarts);

  const t = deps.engine.telemetry();
  if (!t) return;
  m.gauge('hushbox_engine_realtime', 'Whether the audio thread runs SCHED_FIFO (1) or not (0)', bit(t.realtime));
  m.gauge('hushbox_engine_sample_rate_hertz', 'Sample rate of the audio stream', t.rate);
  m.gauge('hushbox_engine_period_frames', 'Frames per period (block)', t.frames);
  m.gauge('hushbox_engine_buffer_periods', 'Periods in the device buffer', t.periods);
  m.gauge('hushbox_engine_channels', 'Audio channels in and out', t.channels);
  m.gauge('hushbox_engine_latency_seconds', 'Latency the engine reports for its stream (buffer and processing)', t.rate > 0 ? t.latencyFrames / t.rate : null);
  m.counter('hushbox_engine_periods_total', 'Periods processed since the engine started', t.periodsProcessed);
  m.counter('hushbox_engine_xruns_total', 'Buffer under- and overruns since the engine started', t.xruns);
  m.counter('hushbox_engine_missed_deadlines_total', 'Periods whose processing missed its deadline since the engine started', t.missedDeadlines);
  m.counter('hushbox_engine_device_waits_total', 'Times the audio device was missing or lost since the engine started', t.deviceWaits);
  m.gauge('hushbox_engine_clock_drift_ppm', 'Playback clock against capture clock, ppm (0 on one card or without ALSA)', t.clock.driftPpm);
  m.gauge('hushbox_engine_clock_rate_ppm', 'Each stream clock against CLOCK_MONOTONIC, ppm', [
    { labels: { stream: 'capture' }, value: t.clock.capturePpm },
    { labels: { stream: 'playback' }, value: t.clock.playbackPpm },
  ]);
  m.gauge('hushbox_engine_buffer_fill_frames', 'Frames in flight between capture and playback', t.clock.fillFrames);
  m.gauge('hushbox_engine_buffer_target_frames', 'The fill the drift correction holds (0 without correction)', t.clock.targetFrames);
  m.gauge('hushbox_engine_resample_ppm', 'Adaptive resampling between two clocks: playback frames per captured frame - 1, ppm', t.clock.resamplePpm);
  m.gauge('hushbox_engine_dsp_load_ratio', 'Processing time of the last block over the period', t.dspLoad);
  m.gauge('hushbox_engine_dsp_load_mean_ratio', 'Mean processing time over the period since the engine started', t.dspLoadMean);
  m.gauge('hushbox_engine_dsp_load_max_ratio', 'Highest processing time over the period since the engine started', t.dspLoadMax);
  // Lateness is measured only on clocked backends; an empty histogram means not measured.
  if (t.jitterHistogram.some((n) => n > 0)) {
    // `percentile`, not `quantile`: Prometheus keeps that label for summaries, and this is a gauge read off a histogram.
    m.gauge('hushbox_engine_wakeup_jitter_seconds', 'Wake-up lateness of the audio thread at a percentile (upper edge of its histogram bin)', [
      { labels: { percentile: '99' }, value: t.jitterP99Us / 1e6 },
      { labels: { percentile: '99.9' }, value: t.jitterP999Us / 1e6 },
    ]);
    m.gauge('hushbox_engine_wakeup_jitter_max_seconds', 'Highest wake-up lateness of the audio thread since the engine started', t.jitterMaxUs / 1e6);
  }
  m.gauge(
    'hushbox_engine_heartbeat_age_seconds',
    'Time since the last heartbeat of an engine thread',
    Object.entries(t.heartbeats).map(([thread, h]) => ({ labels: { thread }, value: h.ageMs === null ? null : h.ageMs / 1000 })),
  );

  const level = (meters: typeof t.meters.in, key: 'peakDb' | 'rmsDb') =>
    meters.map((mt, i) => ({ labels: { channel: String(i + 1) }, value: mt[key] }));
  m.gauge('hushbox_input_peak_dbfs', 'Input peak level per channel, held over about 1/30 s (floor -120)', level(t.meters.in, 'peakDb'));
  m.gauge('hushbox_input_rms_dbfs', 'Input RMS level per channel, 300 ms window (floor -120)', level(t.meters.in, 'rmsDb'));
  m.gauge('hushbox_output_peak_dbfs', 'Output peak level per channel, held over about 1/30 s (floor -120)', level(t.meters.out, 'peakDb'));
  m.gauge('hushbox_output_rms_dbfs', 'Output RMS level per channel, 300 ms window (floor -120)', level(t.meters.out, 'rmsDb'));

  const reduction: Sample[] = t.reduction.flatMap((r, i) =>
    (
      [
        ['ns', r.nsDb],
        ['gate', r.gateDb],
        ['comp', r.compDb],
        ['limit', r.limitDb],
      ] as const
    ).map(([stage, value]) => ({ labels: { strip: stripName(i), stage }, value })),
  );
  reduction.push({ labels: { strip: 'master', stage: 'limit' }, value: t.masterReduction.limitDb });
  m.gauge('hushbox_gain_reduction_db', 'Gain reduction per strip and stage now, dB (>= 0); strip "master" is the output limiter', reduction);
  m.gauge(
    'hushbox_hum_frequency_hertz',
    'The mains hum a strip is removing now; absent while none is tracked',
    t.reduction.map((r, i) => ({ labels: { strip: stripName(i) }, value: r.humHz > 0 ? r.humHz : null })),
  );
  m.gauge(
    'hushbox_tone_frequency_hertz',
    'Steady tones the noise suppressor notches out now (hum left over, a fan, a compressor); absent while none',
    t.reduction.flatMap((r, i) => r.tonesHz.map((hz, k) => ({ labels: { strip: stripName(i), tone: String(k + 1) }, value: hz }))),
  );
}

function stateMetrics(m: Scrape, deps: WebDeps): void {
  const params = deps.engine.params();
  m.gauge('hushbox_parameter_value', 'Every engine parameter and its value, in its unit', params.map((p) => ({ labels: { id: p.id }, value: p.value })));
  const bypass = params.find((p) => p.id === BYPASS_PARAM);
  m.gauge('hushbox_master_bypass', 'Whether the whole chain is bypassed (1) or not (0)', bypass ? bit(bypass.value >= 0.5) : null);
  if (deps.presets) {
    const s = deps.presets.state();
    if (s.preset !== null) {
      m.gauge('hushbox_preset_info', 'The preset last recalled', [{ labels: { id: s.preset_id ?? '', name: s.preset }, value: 1 }]);
      m.gauge('hushbox_preset_modified', 'Whether parameters changed since the preset was recalled (1) or not (0)', bit(s.preset_modified));
    }
    if (s.profile !== null) m.gauge('hushbox_profile_info', 'The I/O profile the engine runs with', [{ labels: { profile: s.profile }, value: 1 }]);
  }
  if (deps.mqtt && deps.ctx.config.mqtt.enabled) {
    m.gauge('hushbox_mqtt_connected', 'Whether the supervisor is connected to the MQTT broker (1) or not (0)', bit(deps.mqtt.connected()));
  }
}

function healthMetrics(m: Scrape, h: Health): void {
  m.gauge('hushbox_uptime_seconds', 'Time since the system booted', h.uptimeS);
  m.gauge('hushbox_cpu_temperature_celsius', 'CPU temperature', h.cpu.temperatureC);
  m.gauge('hushbox_cpu_usage_ratio', 'CPU busy time over all cores, between the last two health samples', h.cpu.loadPercent === null ? null : h.cpu.loadPercent / 100);
  m.gauge('hushbox_cpu_frequency_hertz', 'Mean current CPU frequency', h.cpu.frequencyMhz === null ? null : h.cpu.frequencyMhz * 1e6);
  m.gauge('hushbox_load1', 'Load average over 1 minute', h.cpu.load1);
  m.gauge('hushbox_load5', 'Load average over 5 minutes', h.cpu.load5);
  m.gauge('hushbox_load15', 'Load average over 15 minutes', h.cpu.load15);
  if (h.memory.totalBytes > 0) {
    m.gauge('hushbox_memory_total_bytes', 'Physical memory', h.memory.totalBytes);
    m.gauge('hushbox_memory_available_bytes', 'Memory available to programs without swapping', h.memory.availableBytes);
    m.gauge('hushbox_memory_used_bytes', 'Memory in use: total minus available', h.memory.totalBytes - h.memory.availableBytes);
  }
  if (h.disk) {
    const path = { path: h.disk.path };
    m.gauge('hushbox_disk_total_bytes', 'Size of the data partition', [{ labels: path, value: h.disk.totalBytes }]);
    m.gauge('hushbox_disk_available_bytes', 'Space on the data partition available to the supervisor', [{ labels: path, value: h.disk.freeBytes }]);
    m.gauge('hushbox_disk_used_bytes', 'Space on the data partition in use: total minus available', [{ labels: path, value: h.disk.totalBytes - h.disk.freeBytes }]);
  }
  const th = h.throttling;
  if (th) {
    const flags = (when: 'Now' | 'Occurred') => THROTTLING_CONDITIONS.map(([condition, key]) => ({ labels: { condition }, value: bit(th[`${key}${when}`]) }));
    m.gauge('hushbox_throttling_now', 'Raspberry Pi firmware throttling conditions in force now', flags('Now'));
    m.gauge('hushbox_throttling_occurred', 'Raspberry Pi firmware throttling conditions seen since boot', flags('Occurred'));
  }
}

function streamMetrics(m: Scrape, deps: WebDeps): void {
  const t = deps.engine.telemetry()?.stream;
  if (!t) return;
  m.gauge('hushbox_stream_listening', 'Whether the audio stream listens, per transport (1) or not (0)', [
    { labels: { transport: 'unix' }, value: bit(t.unix) },
    { labels: { transport: 'tcp' }, value: bit(t.tcp) },
  ]);
  m.gauge('hushbox_stream_clients', 'Clients connected to the audio stream now', t.clients.length);
  m.counter('hushbox_stream_tap_dropped_frames_total', 'Frames the engine\'s tap thread was too late for (the audio thread never waits for it)', t.ringDroppedFrames);
  m.counter('hushbox_stream_clients_accepted_total', 'Connections to the audio stream since the engine started', t.clientsAccepted);
  m.counter('hushbox_stream_clients_dropped_total', 'Stream clients dropped after taking nothing for the stuck timeout', t.clientsDroppedStuck);
  m.counter('hushbox_stream_clients_refused_total', 'Stream connections turned away: too many clients, or a wrong TCP token', t.clientsRefused);
  const labels = (c: (typeof t.clients)[number]) => ({ client: String(c.id), transport: c.transport });
  m.labelledCounter('hushbox_stream_client_sent_frames_total', 'Frames sent to each connected stream client', t.clients.map((c) => ({ labels: labels(c), value: c.sentFrames })));
  m.labelledCounter(
    'hushbox_stream_client_dropped_frames_total',
    'Frames each connected stream client lost because it did not keep up (the oldest first)',
    t.clients.map((c) => ({ labels: labels(c), value: c.droppedFrames })),
  );
  m.gauge('hushbox_stream_client_queued_seconds', 'Audio waiting for each connected stream client', t.clients.map((c) => ({ labels: labels(c), value: c.queuedMs / 1000 })));
}

function recordingMetrics(m: Scrape, deps: WebDeps): void {
  const r = deps.engine.telemetry()?.recording;
  if (!r) return;
  m.gauge('hushbox_recording_active', 'Whether a take is recording (1) or not (0)', bit(r.state === 'recording'));
  m.counter('hushbox_recording_takes_total', 'Takes started since the engine started', r.takesTotal);
  m.counter('hushbox_recording_written_bytes_total', 'Bytes of takes written since the engine started', r.bytesTotal);
  m.counter('hushbox_recording_gaps_total', 'Write stalls longer than the ring, each a gap of silence in its take, since the engine started', r.gapsTotal);
  m.counter('hushbox_recording_gap_seconds_total', 'Audio lost in those gaps (written as silence), seconds', r.gapSecondsTotal);
  m.gauge('hushbox_recording_take_seconds', 'Audio in the current (or last) take', r.seconds);
  m.gauge('hushbox_recording_take_bytes', 'Bytes in the current (or last) take\'s file', r.bytes);
  m.gauge('hushbox_recording_ring_seconds', 'The longest write stall the ring absorbs at the take\'s channels', r.ringSeconds);
  m.gauge('hushbox_recording_ring_high_water_ratio', 'The writer\'s ring at its fullest during the current (or last) take, 0..1', r.ringHighWater);
  m.gauge('hushbox_recording_writer_longest_stall_seconds', 'The longest the writer was away from its ring (one write, sync or stall) in the current (or last) take', r.longestStallS);
}

async function scrape(deps: WebDeps): Promise<Registry> {
  const m = new Scrape();
  m.gauge('hushbox_build_info', 'The firmware version', [{ labels: { version: deps.ctx.version }, value: 1 }]);
  m.gauge('hushbox_supervisor_uptime_seconds', 'Time since the supervisor started', (Date.now() - deps.ctx.startedAt.getTime()) / 1000);
  engineMetrics(m, deps);
  stateMetrics(m, deps);
  streamMetrics(m, deps);
  recordingMetrics(m, deps);
  // The system part as last sampled (every few seconds), as /api/health answers it.
  const h = await deps.health?.current().catch(() => null);
  if (h) healthMetrics(m, h);
  return m.registry;
}

export const metricsRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, deps) => {
  // Per app, not prom-client's global registry: tests build many apps in one process.
  // Started at the first scrape, so a box nobody scrapes runs none of its observers.
  let processRegistry: Registry | undefined;

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text format 0.0.4): engine, DSP load, xruns, jitter, levels, gain reduction, preset, bypass, system health',
        produces: ['text/plain'],
        response: { 200: { description: 'the Prometheus text exposition', content: { 'text/plain': { schema: Type.String() } } } },
      },
    },
    async (_request, reply) => {
      if (!processRegistry) {
        processRegistry = new Registry();
        collectDefaultMetrics({ register: processRegistry });
        // Gauges named like counters (promtool refuses them); nodejs_active_{handles,requests,resources}
        // by type carry the same counts.
        for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) processRegistry.removeSingleMetric(name);
      }
      const registry = Registry.merge([processRegistry, await scrape(deps)]);
      return reply.header('content-type', registry.contentType).send(await registry.metrics());
    },
  );
};
