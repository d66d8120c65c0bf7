// The guard (src/web/guard.ts) over the whole route table: nothing changes the box without the
// owner, nothing is reachable from another site or under another Host name.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../src/auth/auth-service.js';
import { OtaService } from '../../src/ota/ota-service.js';
import { DoctorWatch } from '../../src/health/doctor-watch.js';
import { HistoryService } from '../../src/history/history-service.js';
import { LatencyMeasure } from '../../src/engine/latency-measure.js';
import { PresetsService } from '../../src/presets/presets-service.js';
import { buildApp } from '../../src/web/app.js';
import { buildOwnerApp, sessionCookie, TEST_PASSWORD } from '../fakes/owner.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { SKELETON_TABLE, TableEngine } from '../fakes/table-engine.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The routes anyone may call, as the README lists them. A new public route must be added here on purpose. */
const EXPECTED_PUBLIC = ['GET /', 'GET /assets/:file', 'GET /api/status', 'GET /api/health', 'GET /api/doctor/summary', 'GET /api/auth', 'POST /api/auth/setup', 'POST /api/auth/login'];

const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, 'x').replace(/\*/g, 'x');

async function boxApp(onboard: boolean) {
  const tmp = tempDir('hushbox-guard-');
  const ctx = makeContext(tmp.dir);
  const engine = new TableEngine(SKELETON_TABLE, ctx.bus);
  const presets = new PresetsService({ ctx, engine: engine.asService() });
  await presets.start();
  const history = new HistoryService({ ctx, engine: engine.asService() });
  const deps = { ctx, engine: engine.asService(), presets, ota: new OtaService({ ctx }), mqtt: { connected: () => false }, history, doctor: new DoctorWatch({ ctx, engine: engine.asService() }), latency: new LatencyMeasure({ ctx, engine: engine.asService() }) };
  const app: FastifyInstance = onboard ? await buildOwnerApp(deps) : await buildApp({ ...deps, auth: await startAuth(ctx) });
  return { app, engine, ctx, presets, cleanup: async () => { await app.close(); await presets.stop(); tmp.cleanup(); } };
}

async function startAuth(ctx: ReturnType<typeof makeContext>) {
  const auth = new AuthService(ctx);
  await auth.start();
  return auth;
}

describe('every route of the app', () => {
  let box: Awaited<ReturnType<typeof boxApp>>;
  beforeAll(async () => {
    box = await boxApp(true);
  });
  afterAll(() => box.cleanup());

  it('knows the whole route table, the telemetry WebSocket included', () => {
    const routes = box.app.guardedRoutes();
    expect(routes.length).toBeGreaterThan(40);
    expect(routes).toEqual(expect.arrayContaining([
      { method: 'GET', url: '/ws/telemetry', websocket: true },
      { method: 'POST', url: '/api/ota/install', websocket: false },
      { method: 'PUT', url: '/api/scarlett', websocket: false },
      { method: 'DELETE', url: '/api/presets/:id', websocket: false },
    ]));
  });

  it('answers 401 without a session or token on every route that is not public, whatever the method', async () => {
    const open: string[] = [];
    const publicSeen = new Set<string>();
    for (const { method, url } of box.app.guardedRoutes()) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      const res = await box.app.inject({
        method: method as 'GET',
        url: concrete(url),
        // A well-formed write: only the missing owner may be the reason to refuse it.
        headers: { cookie: '', 'content-type': 'application/json', 'x-hushbox-request': '1' },
        ...(MUTATING.has(method) ? { payload: '{}' } : {}),
      });
      const key = `${method} ${url}`;
      if (url === '/docs' || url.startsWith('/docs/')) {
        expect(method, key).toBe('GET'); // the documentation is read-only
        continue;
      }
      if (EXPECTED_PUBLIC.includes(key)) {
        publicSeen.add(key);
        continue;
      }
      if (res.statusCode !== 401) open.push(`${key} → ${res.statusCode}`);
      else expect(res.json().error, key).toBe('unauthorized');
    }
    expect(open).toEqual([]);
    expect([...publicSeen].sort()).toEqual([...EXPECTED_PUBLIC].sort());
  });

  it('the public read-only routes answer anonymously and carry no secret', async () => {
    const made = await box.app.inject({ method: 'POST', url: '/api/auth/tokens', payload: { name: 'secret-probe' } });
    const token = made.json().token as string;
    const owner = box.app as unknown as { ownerCookie: string; auth: AuthService };
    const secrets = [owner.auth.sessionSecret(), token, owner.ownerCookie.split('=')[1], TEST_PASSWORD];
    for (const key of EXPECTED_PUBLIC.filter((k) => k.startsWith('GET /api/'))) {
      const res = await box.app.inject({ method: 'GET', url: key.slice(4), headers: { cookie: '' } });
      expect(res.statusCode, key).not.toBe(401);
      for (const s of secrets) expect(res.body, key).not.toContain(s);
    }
    await box.app.inject({ method: 'DELETE', url: `/api/auth/tokens/${made.json().id as string}` });
  });

  it('answers 401 to a revoked or made-up token on every write', async () => {
    for (const { method, url } of box.app.guardedRoutes().filter((r) => MUTATING.has(r.method))) {
      const res = await box.app.inject({ method: method as 'POST', url: concrete(url), headers: { cookie: '', authorization: 'Bearer hbx_madeup', 'content-type': 'application/json' }, payload: '{}' });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('keeps /metrics closed until the owner makes it public', async () => {
    expect((await box.app.inject({ method: 'GET', url: '/metrics', headers: { cookie: '' } })).statusCode).toBe(401);
    expect((await box.app.inject({ method: 'PUT', url: '/api/auth/settings', payload: { metricsPublic: true } })).statusCode).toBe(200);
    const anon = await box.app.inject({ method: 'GET', url: '/metrics', headers: { cookie: '' } });
    expect(anon.statusCode).toBe(200);
    expect(anon.body).toContain('hushbox_build_info');
    await box.app.inject({ method: 'PUT', url: '/api/auth/settings', payload: { metricsPublic: false } });
    expect((await box.app.inject({ method: 'GET', url: '/metrics', headers: { cookie: '' } })).statusCode).toBe(401);
  });
});

describe('before the owner sets a password', () => {
  it('answers only onboarding and read-only status; everything else is 401 setup_required', async () => {
    const box = await boxApp(false);
    try {
      expect((await box.app.inject({ method: 'GET', url: '/api/status' })).statusCode).toBe(200);
      expect((await box.app.inject({ method: 'GET', url: '/api/auth' })).json()).toEqual({ setUp: false, loggedIn: false });
      const apply = await box.app.inject({ method: 'POST', url: '/api/presets/bypass/apply', headers: { 'x-hushbox-request': '1' } });
      expect(apply.statusCode).toBe(401);
      expect(apply.json().error).toBe('setup_required');
      expect((await box.app.inject({ method: 'POST', url: '/api/auth/login', payload: { password: 'whatever1' } })).json().error).toBe('setup_required');
      const short = await box.app.inject({ method: 'POST', url: '/api/auth/setup', payload: { password: 'short' } });
      expect(short.statusCode).toBe(400);
      expect(short.json().message).toMatch(/at least 8 characters/);
      const setup = await box.app.inject({ method: 'POST', url: '/api/auth/setup', payload: { password: TEST_PASSWORD } });
      expect(setup.statusCode).toBe(200);
      expect(setup.json()).toMatchObject({ setUp: true, loggedIn: true, via: 'session' });
      const again = await box.app.inject({ method: 'POST', url: '/api/auth/setup', payload: { password: 'another password' } });
      expect(again.statusCode).toBe(409);
      // The cookie is HttpOnly and SameSite=Strict.
      const setCookie = String(setup.headers['set-cookie']);
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Strict/i);
      const cookie = sessionCookie(setup.headers['set-cookie']);
      expect((await box.app.inject({ method: 'POST', url: '/api/presets/bypass/apply', headers: { cookie, 'x-hushbox-request': '1' } })).statusCode).toBe(200);
      // The password is stored as an scrypt hash, never as itself, in a file only root reads.
      const file = readFileSync(join(box.ctx.dataDir, 'auth.json'), 'utf8');
      expect(file).not.toContain(TEST_PASSWORD);
      expect(JSON.parse(file).owner.hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    } finally {
      await box.cleanup();
    }
  });
});

describe('cross-site and rebinding writes', () => {
  let box: Awaited<ReturnType<typeof boxApp>>;
  let cookie: string;
  beforeAll(async () => {
    box = await boxApp(true);
    cookie = (box.app as unknown as { ownerCookie: string }).ownerCookie;
  });
  afterAll(() => box.cleanup());

  const values = () => JSON.stringify(box.engine.params().map((p) => [p.id, p.value]));

  it('refuses bodiless, text/plain, form and JSON POSTs from another origin, even with the owner cookie', async () => {
    const before = values();
    const evil = { cookie, origin: 'http://evil.example' };
    const attempts = [
      { headers: evil },
      { headers: { ...evil, 'x-hushbox-request': '1' } },
      { headers: { ...evil, 'content-type': 'text/plain' }, payload: '{}' },
      { headers: { ...evil, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' },
      { headers: { ...evil, 'content-type': 'application/json' }, payload: '{}' },
      { headers: { cookie, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, payload: '{}' },
      { headers: { cookie, origin: 'null', 'content-type': 'application/json' }, payload: '{}' },
    ];
    for (const a of attempts) {
      const res = await box.app.inject({ method: 'POST', url: '/api/presets/bypass/apply', ...a, headers: { ...a.headers } });
      expect(res.statusCode, JSON.stringify(a.headers)).toBe(403);
      expect(res.json().error).toBe('cross_origin');
    }
    expect(values()).toBe(before); // nothing was applied
  });

  it('refuses a bodiless, text/plain or form write without the request header even from the same origin', async () => {
    for (const extra of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }]) {
      const res = await box.app.inject({ method: 'POST', url: '/api/presets/bypass/apply', headers: { cookie, 'x-hushbox-request': '', ...extra }, payload: extra['content-type' as keyof typeof extra] ? 'a=1' : undefined });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('request_header_required');
    }
  });

  it('refuses a foreign Host (DNS rebinding), reads included', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const res = await box.app.inject({ method, url: method === 'GET' ? '/api/status' : '/api/presets/bypass/apply', headers: { cookie, host: 'evil.example', 'content-type': 'application/json' }, ...(method === 'POST' ? { payload: '{}' } : {}) });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('forbidden_host');
    }
  });

  it('accepts the same request from the page: same origin, JSON or the request header, a Host that names the box', async () => {
    for (const host of ['localhost:8080', '127.0.0.1', 'hushbox.local', '[::1]:80']) {
      const res = await box.app.inject({ method: 'POST', url: '/api/presets/bypass/apply', headers: { cookie, host, origin: `http://${host}`, 'x-hushbox-request': '1', 'sec-fetch-site': 'same-origin' } });
      expect(res.statusCode, host).toBe(200);
      expect(res.json().preset.id).toBe('bypass');
    }
  });

  it('sends security headers fitted to the page: a CSP of self only, no framing, no sniffing', async () => {
    const page = await box.app.inject({ method: 'GET', url: '/' });
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('the telemetry WebSocket', () => {
  let box: Awaited<ReturnType<typeof boxApp>>;
  let base: string;
  let cookie: string;
  beforeAll(async () => {
    box = await boxApp(true);
    cookie = (box.app as unknown as { ownerCookie: string }).ownerCookie;
    await box.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = box.app.server.address() as { port: number };
    base = `ws://127.0.0.1:${addr.port}/ws/telemetry`;
  });
  afterAll(() => box.cleanup());

  async function attempt(headers: Record<string, string>): Promise<number> {
    const ws = new WebSocket(base, { headers });
    const result = await Promise.race([
      once(ws, 'open').then(() => 101),
      once(ws, 'unexpected-response').then(([req, res]) => {
        (req as { destroy(): void }).destroy();
        return (res as { statusCode: number }).statusCode;
      }),
    ]);
    ws.terminate();
    return result;
  }

  it('opens for the owner from the same origin', async () => {
    const host = new URL(base).host;
    expect(await attempt({ cookie, origin: `http://${host}` })).toBe(101);
  });

  it('refuses no session, a foreign Origin and a foreign Host', async () => {
    const host = new URL(base).host;
    expect(await attempt({ origin: `http://${host}` })).toBe(401);
    expect(await attempt({ cookie, origin: 'http://evil.example' })).toBe(403);
    expect(await attempt({ cookie, host: 'evil.example' })).toBe(403);
  });
});
