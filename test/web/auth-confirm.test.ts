// Dangerous hardware actions need a fresh password, and never a token: 48V phantom power and MSD
// mode (PUT /api/scarlett), firmware installs (POST /api/ota/install, /api/ota/install-url) and a
// downgrade from the update channel. Tokens cannot manage tokens, the password or access settings.
// The real guard and routes through inject(); the clock moved past the 5-minute confirmation.
import type { InjectOptions } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONFIRM_TTL_MS } from '../../src/auth/auth-service.js';
import { OtaService } from '../../src/ota/ota-service.js';
import { buildOwnerApp, TEST_PASSWORD } from '../fakes/owner.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { SKELETON_TABLE, TableEngine } from '../fakes/table-engine.js';

type Req = { name: string; opts: InjectOptions };

/** Each dangerous request, as the page (or a script) would send it. */
const DANGEROUS: Req[] = [
  { name: '48V on', opts: { method: 'PUT', url: '/api/scarlett', payload: { inputs: [{ input: 1, phantom: true }] } } },
  { name: 'MSD mode', opts: { method: 'PUT', url: '/api/scarlett', payload: { msd: false } } },
  { name: 'install an upload', opts: { method: 'POST', url: '/api/ota/install', headers: { 'content-type': 'application/octet-stream', 'x-hushbox-request': '1' }, payload: Buffer.from('not a bundle') } },
  { name: 'install from a URL', opts: { method: 'POST', url: '/api/ota/install-url', payload: { url: 'http://127.0.0.1:1/update.raucb' } } },
  { name: 'downgrade from the channel', opts: { method: 'POST', url: '/api/ota/channel/install', payload: { allowDowngrade: true } } },
];
/** The same routes asking for nothing dangerous. */
const HARMLESS: Req[] = [
  { name: 'input gain', opts: { method: 'PUT', url: '/api/scarlett', payload: { inputs: [{ input: 1, gain: 10 }] } } },
  { name: 'install from the channel, no downgrade', opts: { method: 'POST', url: '/api/ota/channel/install', payload: {} } },
];

describe('dangerous actions', () => {
  const tmp = tempDir('hushbox-confirm-');
  let app: Awaited<ReturnType<typeof buildOwnerApp>>;
  let token: string;
  const send = async (r: Req, headers: Record<string, string> = {}) => {
    const res = await app.inject({ ...r.opts, headers: { ...r.opts.headers, ...headers } });
    return { status: res.statusCode, error: (res.json() as { error?: string }).error };
  };

  beforeAll(async () => {
    const ctx = makeContext(tmp.dir);
    const engine = new TableEngine(SKELETON_TABLE, ctx.bus);
    app = await buildOwnerApp({ ctx, engine: engine.asService(), ota: new OtaService({ ctx }) });
    token = (await app.inject({ method: 'POST', url: '/api/auth/tokens', payload: { name: 'automation' } })).json().token;
  });
  afterEach(() => vi.useRealTimers());
  afterAll(async () => {
    await app.close();
    tmp.cleanup();
  });

  it('are allowed right after the login (the password was just entered): no confirmation asked', async () => {
    for (const r of DANGEROUS) expect(await send(r), r.name).not.toMatchObject({ error: 'confirmation_required' });
  });

  it(`need the password again once ${CONFIRM_TTL_MS / 60_000} minutes have passed; POST /api/auth/confirm renews it, a wrong password does not`, async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + CONFIRM_TTL_MS + 1000 });
    for (const r of DANGEROUS) expect(await send(r), r.name).toEqual({ status: 403, error: 'confirmation_required' });
    for (const r of HARMLESS) expect(await send(r), r.name).not.toMatchObject({ error: 'confirmation_required' });
    expect(await send({ name: 'wrong', opts: { method: 'POST', url: '/api/auth/confirm', payload: { password: 'not the password' } } })).toEqual({ status: 403, error: 'wrong_password' });
    expect((await send(DANGEROUS[0])).error).toBe('confirmation_required');
    const ok = await app.inject({ method: 'POST', url: '/api/auth/confirm', payload: { password: TEST_PASSWORD } });
    expect(ok.statusCode).toBe(200);
    expect(Date.parse(ok.json().confirmedUntil)).toBe(Date.now() + CONFIRM_TTL_MS);
    for (const r of DANGEROUS) expect(await send(r), r.name).not.toMatchObject({ error: 'confirmation_required' });
  });

  it('are refused to a token whatever its age; a token cannot confirm, nor manage tokens, the password or access settings', async () => {
    const bearer = { authorization: `Bearer ${token}`, cookie: '' };
    for (const r of DANGEROUS) expect(await send(r, bearer), r.name).toEqual({ status: 403, error: 'confirmation_required' });
    for (const r of HARMLESS) expect(await send(r, bearer), r.name).not.toMatchObject({ status: 403 });
    for (const [method, url, payload] of [
      ['POST', '/api/auth/confirm', { password: TEST_PASSWORD }],
      ['GET', '/api/auth/tokens'],
      ['POST', '/api/auth/tokens', { name: 'another' }],
      ['PUT', '/api/auth/password', { current: TEST_PASSWORD, password: 'a new password here' }],
      ['GET', '/api/auth/settings'],
      ['PUT', '/api/auth/settings', { metricsPublic: true }],
    ] as const) {
      expect(await send({ name: url, opts: { method, url, payload } }, bearer), `${method} ${url}`).toEqual({ status: 403, error: 'owner_only' });
    }
  });
});
