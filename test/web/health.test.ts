// /api/health and /api/doctor through inject(), with the real engine and health service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineService } from '../../src/engine/engine-service.js';
import { HealthService } from '../../src/health/health-service.js';
import type { App } from '../../src/web/app.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { fixturePath } from '../fakes/fixtures.js';
import { contextWith, waitFor } from '../fakes/context.js';

let engine: EngineService;
let health: HealthService;
let app: App;

beforeAll(async () => {
  const ctx = contextWith({ engine: { priority: 0 }, system: { root: fixturePath('pi4-scarlett-solo') } });
  engine = new EngineService(ctx);
  health = new HealthService(ctx, engine);
  await engine.start();
  await health.start();
  app = await buildOwnerApp({ ctx, engine, health });
});

afterAll(async () => {
  await app?.close();
  await health?.stop();
  await engine?.stop();
});

describe('/api/health', () => {
  it('answers the system and live engine health', async () => {
    await waitFor('telemetry', () => engine.telemetry());
    const r = await app.inject({ method: 'GET', url: '/api/health' });
    expect(r.statusCode).toBe(200);
    const h = r.json();
    expect(h.cpu.temperatureC).toBe(48.3);
    expect(h.throttling).toMatchObject({ raw: '0x50000', underVoltageOccurred: true });
    expect(h.engine).toMatchObject({ state: 'running', restarts: 0 });
    expect(h.engine.latencyMs).toBeGreaterThan(0);
  });

  it('answers 503 without a health service', async () => {
    const bare = await buildOwnerApp({ ctx: contextWith(), engine });
    const r = await bare.inject({ method: 'GET', url: '/api/health' });
    await bare.close();
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ error: 'health_unavailable' });
  });
});

describe('/api/doctor', () => {
  it('answers every check with pass/warn/fail/skip and the fixes', async () => {
    const r = await app.inject({ method: 'GET', url: '/api/doctor' });
    expect(r.statusCode).toBe(200);
    const d = r.json();
    const ids = d.checks.map((c: { id: string }) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['kernel.preempt_rt', 'interface.present', 'cpu.isolated', 'irq.threads', 'engine.running', 'health.throttling']));
    expect(d.checks.find((c: { id: string }) => c.id === 'engine.running').status).toBe('pass');
    expect(['pass', 'warn', 'fail']).toContain(d.overall);
    expect(d.counts.pass + d.counts.warn + d.counts.fail + d.counts.skip).toBe(d.checks.length);
  });
});
