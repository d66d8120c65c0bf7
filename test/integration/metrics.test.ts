// /metrics of the real supervisor (compiled) with the real engine, scraped over HTTP.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../src/engine/telemetry.js';
import { packageRoot } from '../../src/paths.js';
import { waitFor } from '../fakes/net.js';
import { parseExposition, type Exposition } from '../fakes/prometheus.js';
import { getJson, sendJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { ownerFetch } from '../fakes/owner-http.js';

let sup: RunningSupervisor;

beforeAll(async () => {
  if (!existsSync(join(packageRoot, 'dist', 'web', 'routes', 'metrics.js'))) {
    throw new Error('dist/ has no /metrics route: run `npm run build` first (npm test does)');
  }
  sup = await startSupervisor();
});

afterAll(async () => {
  await sup?.stop();
  sup?.cleanup();
});

async function scrape(): Promise<Exposition> {
  const res = await ownerFetch(`${sup.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

async function put(id: string, value: number | boolean): Promise<void> {
  const r = await sendJson('PUT', `${sup.url}/api/params/${id}`, { value });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

describe('/metrics of the real supervisor', () => {
  it('shows the engine up at the rate and period of its profile, with a DSP load between 0 and 1', async () => {
    const audio = await getJson<{ profile: string; profiles: Record<string, { rate: number; frames: number; periods: number }> }>(`${sup.url}/api/audio`);
    const profile = audio.profiles[audio.profile]!;
    const m = await scrape();
    expect(m.value('hushbox_engine_up')).toBe(1);
    expect(m.value('hushbox_engine_state', { state: 'running' })).toBe(1);
    expect(m.value('hushbox_engine_restarts_total')).toBe(0);
    expect(m.value('hushbox_profile_info', { profile: audio.profile })).toBe(1);
    expect(m.value('hushbox_engine_sample_rate_hertz')).toBe(profile.rate);
    expect(m.value('hushbox_engine_period_frames')).toBe(profile.frames);
    expect(m.value('hushbox_engine_buffer_periods')).toBe(profile.periods);
    for (const name of ['hushbox_engine_dsp_load_ratio', 'hushbox_engine_dsp_load_mean_ratio']) {
      expect(m.value(name), name).toBeGreaterThan(0);
      expect(m.value(name), name).toBeLessThan(1);
    }
    expect(m.value('hushbox_engine_latency_seconds')).toBeGreaterThan(0);
    expect(m.value('hushbox_engine_latency_seconds')).toBeLessThan(0.05);
    expect(m.value('hushbox_engine_xruns_total')).toBeGreaterThanOrEqual(0);
    expect(m.value('hushbox_engine_missed_deadlines_total')).toBeGreaterThanOrEqual(0);
    // the sim backend is clocked like a device: its wake-ups are measured
    expect(m.value('hushbox_engine_wakeup_jitter_seconds', { percentile: '99' })).toBeGreaterThan(0);
    // The clocks' gauges are there on every backend; the sim backend has one clock: no drift, nothing in flight.
    expect(m.value('hushbox_engine_clock_drift_ppm')).toBe(0);
    expect(m.all('hushbox_engine_clock_rate_ppm').map((s) => s.labels.stream)).toEqual(['capture', 'playback']);
    expect(m.value('hushbox_engine_buffer_fill_frames')).toBe(0);
    expect(m.value('hushbox_engine_buffer_target_frames')).toBe(0);
    expect(m.value('hushbox_engine_resample_ppm')).toBe(0);
    expect(m.all('hushbox_input_peak_dbfs').map((s) => s.labels.channel)).toEqual(['1', '2']);
    expect(m.value('hushbox_gain_reduction_db', { strip: 'mic', stage: 'comp' })).toBeGreaterThanOrEqual(0);
    expect(m.value('hushbox_gain_reduction_db', { strip: 'master', stage: 'limit' })).toBeGreaterThanOrEqual(0);
    expect(m.value('hushbox_memory_total_bytes')).toBeGreaterThan(0);
    expect(m.value('hushbox_uptime_seconds')).toBeGreaterThan(0);
    // the broker in the test setup is a closed port
    expect(m.value('hushbox_mqtt_connected')).toBe(0);
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it("passes Prometheus's own linter (promtool check metrics) on the real output", async () => {
    const res = await ownerFetch(`${sup.url}/metrics`);
    const text = await res.text();
    // the jitter families are only there when the clocked backend measured them: the check covers them
    expect(text).toContain('hushbox_engine_wakeup_jitter_seconds');
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (r.error) throw new Error(`promtool cannot be run (${r.error.message}): apt-get install prometheus`);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('shows a take: takes, bytes written, gaps, the ring high-water and the writer\'s longest stall, and promtool passes them', async () => {
    const started = await sendJson('POST', `${sup.url}/api/recordings/start`, { source: 'mix', format: 'wav' });
    expect(started.status).toBe(200);
    const during = await waitFor('the take in /metrics', async () => {
      const m = await scrape();
      return m.value('hushbox_recording_active') === 1 && (m.value('hushbox_recording_take_bytes') ?? 0) > 0 ? m : null;
    });
    expect(during.value('hushbox_recording_takes_total')).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    const stopped = (await sendJson('POST', `${sup.url}/api/recordings/stop`, {})).body as { name: string; seconds: number; gaps: number };
    const take = (await getJson<{ takes: Array<{ name: string; bytes: number }> }>(`${sup.url}/api/recordings`)).takes.find((t) => t.name === stopped.name)!;
    const m = await waitFor('the stopped take in /metrics', async () => {
      const x = await scrape();
      return x.value('hushbox_recording_active') === 0 ? x : null;
    });
    expect(m.value('hushbox_recording_takes_total')).toBe(1);
    expect(m.value('hushbox_recording_take_bytes')).toBe(take.bytes);
    expect(m.value('hushbox_recording_written_bytes_total')).toBe(take.bytes);
    expect(m.value('hushbox_recording_take_seconds')).toBeCloseTo(stopped.seconds, 2);
    expect(m.value('hushbox_recording_gaps_total')).toBe(0);
    expect(m.value('hushbox_recording_gap_seconds_total')).toBe(0);
    expect(m.value('hushbox_recording_ring_seconds')).toBeGreaterThanOrEqual(10);
    expect(m.value('hushbox_recording_ring_high_water_ratio')).toBeGreaterThan(0);
    expect(m.value('hushbox_recording_ring_high_water_ratio')).toBeLessThan(0.5);
    expect(m.value('hushbox_recording_writer_longest_stall_seconds')).toBeGreaterThan(0);
    expect(m.value('hushbox_recording_writer_longest_stall_seconds')).toBeLessThan(5);
    // The same figures in the telemetry frame (the page's and /api/status's).
    const status = await getJson<{ telemetry: TelemetryFrame }>(`${sup.url}/api/status`);
    expect(status.telemetry.recording).toMatchObject({ state: 'stopped', takesTotal: 1, bytes: take.bytes, bytesTotal: take.bytes, gaps: 0, gapsTotal: 0 });
    expect(status.telemetry.recording!.ringHighWater).toBe(m.value('hushbox_recording_ring_high_water_ratio'));
    const text = await (await ownerFetch(`${sup.url}/metrics`)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('counts the periods the engine processes from one scrape to the next', async () => {
    const a = (await scrape()).value('hushbox_engine_periods_total')!;
    await new Promise((r) => setTimeout(r, 200));
    const b = (await scrape()).value('hushbox_engine_periods_total')!;
    // 200 ms at 48 kHz / 64 frames is 150 periods; allow for a loaded machine.
    expect(b - a).toBeGreaterThan(50);
  });

  it('shows a bypass and a gain set over HTTP', async () => {
    expect((await scrape()).value('hushbox_master_bypass')).toBe(0);
    await put('master.bypass', true);
    await put('mic.out.gain', -4.5);
    let m = await scrape();
    expect(m.value('hushbox_master_bypass')).toBe(1);
    expect(m.value('hushbox_parameter_value', { id: 'mic.out.gain' })).toBe(-4.5);
    await put('master.bypass', false);
    m = await scrape();
    expect(m.value('hushbox_master_bypass')).toBe(0);
  });

  it('shows the preset recalled', async () => {
    const r = await sendJson('POST', `${sup.url}/api/presets/podcast/apply`, {});
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const m = await scrape();
    expect(m.value('hushbox_preset_info', { name: 'Podcast' })).toBe(1);
    expect(m.value('hushbox_preset_modified')).toBe(0);
  });
});
