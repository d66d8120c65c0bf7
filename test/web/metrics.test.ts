// /metrics through inject(), over an in-memory engine, presets, health and MQTT.
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../src/engine/telemetry.js';
import type { Health } from '../../src/health/health.js';
import type { HealthService } from '../../src/health/health-service.js';
import { PresetsService } from '../../src/presets/presets-service.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { parseExposition } from '../fakes/prometheus.js';
import { FULL_TABLE, TableEngine } from '../fakes/table-engine.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';

/** The table engine with a telemetry frame the test sets. */
class MeteredEngine extends TableEngine {
  frame: TelemetryFrame | null = null;
  override telemetry(): TelemetryFrame | null {
    return this.frame;
  }
}

const frame = (): TelemetryFrame => ({
  state: 'running',
  rate: 48000,
  frames: 64,
  periods: 2,
  channels: 2,
  latencyFrames: 192,
  latencyMs: 4,
  realtime: true,
  periodsProcessed: 1000,
  xruns: 2,
  missedDeadlines: 1,
  dspLoad: 0.25,
  dspLoadMean: 0.2,
  dspLoadMax: 0.5,
  jitterUs: 12,
  jitterMaxUs: 80,
  jitterP99Us: 32,
  jitterP999Us: 64,
  jitterHistogram: [0, 0, 0, 0, 10, 900, 80, 9, 1, 0, 0, 0, 0, 0, 0, 0],
  lastXrunNs: 123,
  deviceWaits: 0,
  appliedSeq: 3,
  meters: { in: [{ peakDb: -12, rmsDb: -20 }, { peakDb: -120, rmsDb: -120 }], out: [{ peakDb: -6, rmsDb: -18 }, { peakDb: -6.5, rmsDb: -18.5 }] },
  reduction: [
    { nsDb: 3, gateDb: 0, compDb: 4.5, limitDb: 0.5, humHz: 50.02, tonesHz: [120.1, 178] },
    { nsDb: 0, gateDb: 10, compDb: 0, limitDb: 0, humHz: 0, tonesHz: [] },
  ],
  masterReduction: { limitDb: 1.5 },
  clock: { driftPpm: 498.7, capturePpm: -3.5, playbackPpm: 495.2, fillFrames: 1536.5, targetFrames: 1536, resamplePpm: 501.2, twoClocks: true, corrected: true },
  heartbeats: { audio: { count: 10, ageMs: 1 }, housekeeping: { count: 5, ageMs: null } },
});

const health = (): Health => ({
  time: new Date().toISOString(),
  uptimeS: 3600,
  supervisorUptimeS: 60,
  cpu: { temperatureC: 48.3, loadPercent: 12.5, load1: 0.5, load5: 0.25, load15: 0.125, frequencyMhz: 1500, cores: 4 },
  throttling: null,
  memory: { totalBytes: 4e9, availableBytes: 3e9, usedPercent: 25 },
  disk: { path: '/data', totalBytes: 1e10, freeBytes: 4e9, usedPercent: 60, full: false },
  engine: { state: 'running', restarts: 0, reason: null, dspLoad: 0.2, dspLoadMax: 0.5, xruns: 2, jitterUs: 12, jitterMaxUs: 80, latencyMs: 4 },
});

let tmp: ReturnType<typeof tempDir>;
let app: FastifyInstance;
let engine: MeteredEngine;
let presets: PresetsService;
let h: Health;
let mqttUp: boolean;

beforeEach(async () => {
  tmp = tempDir();
  const ctx = makeContext(tmp.dir, (c) => (c.mqtt.enabled = true));
  engine = new MeteredEngine(FULL_TABLE, ctx.bus);
  engine.frame = frame();
  presets = new PresetsService({ ctx, engine: engine.asService() });
  await presets.start();
  h = health();
  mqttUp = false;
  const healthSource = { current: async () => h } as unknown as HealthService;
  app = await buildOwnerApp({ ctx, engine: engine.asService(), presets, health: healthSource, mqtt: { connected: () => mqttUp } });
});
afterEach(async () => {
  await app.close();
  await presets.stop();
  tmp.cleanup();
});

async function scrape() {
  const r = await app.inject({ method: 'GET', url: '/metrics' });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(r.body);
}

describe('GET /metrics', () => {
  it('answers the Prometheus text format with the engine, levels, gain reduction and health', async () => {
    const m = await scrape();
    expect(m.value('hushbox_engine_up')).toBe(1);
    expect(m.value('hushbox_engine_state', { state: 'running' })).toBe(1);
    expect(m.value('hushbox_engine_state', { state: 'failed' })).toBe(0);
    expect(m.types.get('hushbox_engine_restarts_total')).toBe('counter');
    expect(m.value('hushbox_engine_restarts_total')).toBe(0);
    expect(m.value('hushbox_engine_sample_rate_hertz')).toBe(48000);
    expect(m.value('hushbox_engine_period_frames')).toBe(64);
    expect(m.value('hushbox_engine_latency_seconds')).toBeCloseTo(0.004, 9);
    expect(m.value('hushbox_engine_xruns_total')).toBe(2);
    expect(m.value('hushbox_engine_missed_deadlines_total')).toBe(1);
    expect(m.value('hushbox_engine_dsp_load_ratio')).toBe(0.25);
    expect(m.value('hushbox_engine_clock_drift_ppm')).toBe(498.7);
    expect(m.value('hushbox_engine_clock_rate_ppm', { stream: 'playback' })).toBe(495.2);
    expect(m.value('hushbox_engine_buffer_fill_frames')).toBe(1536.5);
    expect(m.value('hushbox_engine_buffer_target_frames')).toBe(1536);
    expect(m.value('hushbox_engine_resample_ppm')).toBe(501.2);
    expect(m.value('hushbox_engine_wakeup_jitter_seconds', { percentile: '99' })).toBeCloseTo(32e-6, 12);
    expect(m.value('hushbox_engine_wakeup_jitter_max_seconds')).toBeCloseTo(80e-6, 12);
    expect(m.value('hushbox_engine_heartbeat_age_seconds', { thread: 'audio' })).toBe(0.001);
    expect(m.value('hushbox_engine_heartbeat_age_seconds', { thread: 'housekeeping' })).toBeUndefined();
    expect(m.value('hushbox_input_peak_dbfs', { channel: '1' })).toBe(-12);
    expect(m.value('hushbox_output_rms_dbfs', { channel: '2' })).toBe(-18.5);
    expect(m.value('hushbox_gain_reduction_db', { strip: 'mic', stage: 'comp' })).toBe(4.5);
    expect(m.value('hushbox_gain_reduction_db', { strip: 'inst', stage: 'gate' })).toBe(10);
    expect(m.value('hushbox_gain_reduction_db', { strip: 'master', stage: 'limit' })).toBe(1.5);
    expect(m.value('hushbox_hum_frequency_hertz', { strip: 'mic' })).toBe(50.02);
    expect(m.value('hushbox_hum_frequency_hertz', { strip: 'inst' })).toBeUndefined();
    expect(m.value('hushbox_tone_frequency_hertz', { strip: 'mic', tone: '1' })).toBe(120.1);
    expect(m.value('hushbox_tone_frequency_hertz', { strip: 'mic', tone: '2' })).toBe(178);
    expect(m.value('hushbox_tone_frequency_hertz', { strip: 'inst', tone: '1' })).toBeUndefined();
    expect(m.value('hushbox_cpu_temperature_celsius')).toBe(48.3);
    expect(m.value('hushbox_load1')).toBe(0.5);
    expect(m.value('hushbox_memory_used_bytes')).toBe(1e9);
    expect(m.value('hushbox_disk_total_bytes', { path: '/data' })).toBe(1e10);
    expect(m.value('hushbox_uptime_seconds')).toBe(3600);
    expect(m.value('hushbox_mqtt_connected')).toBe(0);
    expect(m.value('hushbox_master_bypass')).toBe(0);
    expect(m.value('hushbox_build_info', { version: '0.1.0-test' })).toBe(1);
    // the Node process metrics of this app's own registry
    // (resident memory, never 0; the CPU counter counts from the first scrape and can still read 0 on it)
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m.value('process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
  });

  it('follows the sources from one scrape to the next', async () => {
    await scrape();
    engine.frame = { ...frame(), xruns: 7, dspLoad: 0.75, masterReduction: { limitDb: 3 } };
    engine.restarts = 2;
    h = { ...health(), cpu: { ...health().cpu, temperatureC: 61 } };
    mqttUp = true;
    await presets.apply('Podcast', 'test');
    await app.inject({ method: 'PUT', url: '/api/params/master.bypass', payload: { value: true } });
    await app.inject({ method: 'PUT', url: '/api/params/mic.out.gain', payload: { value: -3 } });

    const m = await scrape();
    expect(m.value('hushbox_engine_xruns_total')).toBe(7);
    expect(m.value('hushbox_engine_dsp_load_ratio')).toBe(0.75);
    expect(m.value('hushbox_gain_reduction_db', { strip: 'master', stage: 'limit' })).toBe(3);
    expect(m.value('hushbox_engine_restarts_total')).toBe(2);
    expect(m.value('hushbox_cpu_temperature_celsius')).toBe(61);
    expect(m.value('hushbox_mqtt_connected')).toBe(1);
    expect(m.value('hushbox_master_bypass')).toBe(1);
    expect(m.value('hushbox_parameter_value', { id: 'mic.out.gain' })).toBe(-3);
    expect(m.all('hushbox_preset_info')).toEqual([{ name: 'hushbox_preset_info', labels: { id: 'podcast', name: 'Podcast' }, value: 1 }]);
    expect(m.value('hushbox_preset_modified')).toBe(1);
  });

  it('escapes a preset name with quotes and a backslash in its label', async () => {
    const { preset } = presets.create({ name: 'Mike\'s "late" show \\ live' }, 'test');
    await presets.apply(preset.id, 'test');
    const m = await scrape();
    expect(m.value('hushbox_preset_info', { id: preset.id })).toBe(1);
    expect(m.all('hushbox_preset_info')[0]!.labels.name).toBe('Mike\'s "late" show \\ live');
  });

  it('leaves out what is not known rather than answering 0', async () => {
    engine.state = 'failed';
    engine.frame = null;
    h = { ...health(), cpu: { ...health().cpu, temperatureC: null, loadPercent: null }, disk: null };
    const m = await scrape();
    expect(m.value('hushbox_engine_up')).toBe(0);
    expect(m.value('hushbox_engine_state', { state: 'failed' })).toBe(1);
    for (const name of ['hushbox_engine_sample_rate_hertz', 'hushbox_engine_dsp_load_ratio', 'hushbox_engine_xruns_total', 'hushbox_input_peak_dbfs',
      'hushbox_gain_reduction_db', 'hushbox_cpu_temperature_celsius', 'hushbox_cpu_usage_ratio', 'hushbox_disk_total_bytes', 'hushbox_preset_info']) {
      expect(m.all(name), name).toEqual([]);
      expect(m.types.has(name), name).toBe(false);
    }
  });

  it('leaves out the jitter when the backend does not measure it', async () => {
    engine.frame = { ...frame(), jitterHistogram: new Array(16).fill(0), jitterP99Us: 0, jitterP999Us: 0, jitterMaxUs: 0 };
    const m = await scrape();
    expect(m.all('hushbox_engine_wakeup_jitter_seconds')).toEqual([]);
    expect(m.value('hushbox_engine_xruns_total')).toBe(2);
  });

  it('leaves out the MQTT connection when MQTT is disabled or absent, and health without a health service', async () => {
    const ctx = makeContext(tmp.dir);
    const bare = await buildOwnerApp({ ctx, engine: engine.asService(), mqtt: { connected: () => true } });
    try {
      const r = await bare.inject({ method: 'GET', url: '/metrics' });
      const m = parseExposition(r.body);
      expect(m.all('hushbox_mqtt_connected')).toEqual([]);
      expect(m.all('hushbox_uptime_seconds')).toEqual([]);
      expect(m.value('hushbox_engine_up')).toBe(1);
    } finally {
      await bare.close();
    }
  });

  it('is documented in OpenAPI as a text/plain answer', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain']);
  });
});
