import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { HTTP_TIMEOUTS } from '../../src/web/app.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { EngineError } from '../../src/errors.js';
import { FakeEngine } from '../fakes/fake-engine.js';
import { testContext } from '../fakes/context.js';

describe('the HTTP app', () => {
  let app: FastifyInstance;
  let engine: FakeEngine;

  beforeEach(async () => {
    engine = new FakeEngine();
    app = await buildOwnerApp({ ctx: testContext(), engine: engine.asService() });
  });
  afterEach(() => app.close());

  it('serves the status with engine state and every parameter', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/status' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      version: '0.0.0-test',
      engine: { state: 'running', pid: 1234 },
      telemetry: null,
      params: { 'mic.trim.gain': 0, 'inst.trim.gain': 0 },
    });
  });

  it('sets a parameter and reads it back', async () => {
    const put = await app.inject({ method: 'PUT', url: '/api/params/mic.trim.gain', payload: { value: 3.5 } });
    expect(put.json()).toEqual({ applied: { 'mic.trim.gain': 3.5 } });
    const get = await app.inject({ method: 'GET', url: '/api/params/mic.trim.gain' });
    expect(get.json()).toMatchObject({ id: 'mic.trim.gain', value: 3.5, unit: 'dB' });
  });

  it('gives the HTTP server request, header and keep-alive timeouts (Node and fastify leave some off)', () => {
    expect(app.server.requestTimeout).toBe(HTTP_TIMEOUTS.requestMs);
    expect(app.server.requestTimeout).toBeGreaterThan(0);
    expect(app.server.headersTimeout).toBe(HTTP_TIMEOUTS.headersMs);
    expect(app.server.headersTimeout).toBeLessThanOrEqual(30_000);
    expect(app.server.keepAliveTimeout).toBe(HTTP_TIMEOUTS.keepAliveMs);
  });

  it('answers a body of the wrong shape with 400 naming the field', async () => {
    const res = await app.inject({ method: 'PUT', url: '/api/params/mic.trim.gain', payload: { value: 1, extra: true } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_input' });
    expect(res.json().message).toMatch(/body/);
    const broken = await app.inject({ method: 'PUT', url: '/api/params/mic.trim.gain', headers: { 'content-type': 'application/json' }, payload: '{"value": ' });
    expect(broken.statusCode).toBe(400);
    expect(engine.values.size).toBe(0);
  });

  it('answers 503 with the reason, and the value the box still has, when the engine cannot take the change', async () => {
    engine.failNext = new EngineError('engine_not_running', 'the engine is failed; parameters cannot be applied now');
    const res = await app.inject({ method: 'PUT', url: '/api/params/mic.trim.gain', payload: { value: 1 } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'engine_not_running', message: 'the engine is failed; parameters cannot be applied now', current: { 'mic.trim.gain': 0 } });
  });

  it('never leaks internals in a 500', async () => {
    engine.failNext = new Error('secret stack detail /root/x.cpp:42');
    const res = await app.inject({ method: 'PUT', url: '/api/params/mic.trim.gain', payload: { value: 1 } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal', message: 'internal error' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/nothing-here?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'no route GET /api/nothing-here' });
  });

  it('documents every API route in OpenAPI at /docs', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json().paths as object);
    expect(paths).toEqual(expect.arrayContaining(['/api/status', '/api/params', '/api/params/{id}']));
    // WebSocket routes are not OpenAPI operations; the description names the stream.
    expect(res.json().info.description).toContain('/ws/telemetry');
    const ui = await app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBeLessThan(400);
  });

  it('serves the front panel page and its assets', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('/assets/app.js');
    const js = await app.inject({ method: 'GET', url: '/assets/app.js' });
    expect(js.headers['content-type']).toContain('javascript');
    const missing = await app.inject({ method: 'GET', url: '/assets/..%2Fpackage.json' });
    expect(missing.statusCode).toBe(404);
    // The bundle's stylesheet, the web-app manifest and the icon; compressible files gzipped when asked.
    expect((await app.inject({ method: 'GET', url: '/assets/app.css' })).headers['content-type']).toContain('text/css');
    const manifest = await app.inject({ method: 'GET', url: '/assets/manifest.webmanifest' });
    expect(manifest.headers['content-type']).toContain('application/manifest+json');
    expect(manifest.json().icons[0].src).toBe('/assets/icon.svg');
    expect((await app.inject({ method: 'GET', url: '/assets/icon.svg' })).headers['content-type']).toBe('image/svg+xml');
    const gz = await app.inject({ method: 'GET', url: '/assets/app.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.rawPayload.length).toBeLessThan(js.rawPayload.length / 2);
    expect((await app.inject({ method: 'GET', url: '/assets/index.html' })).statusCode).toBe(404);
  });
});
