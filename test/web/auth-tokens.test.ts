import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PresetsService } from '../../src/presets/presets-service.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { SKELETON_TABLE, TableEngine } from '../fakes/table-engine.js';

describe('API tokens', () => {
  const tmp = tempDir('hushbox-tokens-');
  const ctx = makeContext(tmp.dir);
  let app: Awaited<ReturnType<typeof buildOwnerApp>>;
  beforeAll(async () => {
    const engine = new TableEngine(SKELETON_TABLE, ctx.bus);
    const presets = new PresetsService({ ctx, engine: engine.asService() });
    await presets.start();
    app = await buildOwnerApp({ ctx, engine: engine.asService(), presets });
  });
  afterAll(async () => {
    await app.close();
    tmp.cleanup();
  });

  it('are made (the secret shown once), used, listed with their last use, stored hashed, and stop working when revoked', async () => {
    const made = await app.inject({ method: 'POST', url: '/api/auth/tokens', payload: { name: 'home-assistant' } });
    expect(made.statusCode).toBe(201);
    const { id, token } = made.json() as { id: string; token: string };
    expect(token).toMatch(/^hbx_[A-Za-z0-9_-]{43}$/);
    const file = readFileSync(join(tmp.dir, 'auth.json'), 'utf8');
    expect(file).not.toContain(token);
    expect(JSON.parse(file).tokens[0].hash).toBe(createHash('sha256').update(token).digest('hex'));

    const bearer = { authorization: `Bearer ${token}`, cookie: '' };
    const applied = await app.inject({ method: 'POST', url: '/api/presets/podcast/apply', headers: { ...bearer, 'x-hushbox-request': '1' } });
    expect(applied.statusCode).toBe(200);
    // the audit line names the token
    const audit = readFileSync(join(tmp.dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.find((a) => a.action === 'preset.apply')).toMatchObject({ who: { token: 'home-assistant', via: 'token' } });
    const list = (await app.inject({ method: 'GET', url: '/api/auth/tokens' })).json() as Array<{ id: string; lastUsed: string | null; token?: string }>;
    expect(list).toHaveLength(1);
    expect(list[0].lastUsed).not.toBeNull();
    expect(list[0]).not.toHaveProperty('token');
    expect(list[0]).not.toHaveProperty('hash');

    // A token cannot manage tokens, nor install firmware.
    expect((await app.inject({ method: 'POST', url: '/api/auth/tokens', headers: bearer, payload: { name: 'more' } })).statusCode).toBe(403);
    const install = await app.inject({ method: 'POST', url: '/api/ota/install', headers: { ...bearer, 'content-type': 'application/json' }, payload: '{}' });
    expect([403, 404]).toContain(install.statusCode);

    expect((await app.inject({ method: 'DELETE', url: `/api/auth/tokens/${id}` })).statusCode).toBe(200);
    const after = await app.inject({ method: 'POST', url: '/api/presets/podcast/apply', headers: { ...bearer, 'x-hushbox-request': '1' } });
    expect(after.statusCode).toBe(401);
    expect(after.json().error).toBe('invalid_token');
  });

  it('refuses a second token of the same name and a name with control characters', async () => {
    await app.inject({ method: 'POST', url: '/api/auth/tokens', payload: { name: 'node-red' } });
    expect((await app.inject({ method: 'POST', url: '/api/auth/tokens', payload: { name: 'node-red' } })).statusCode).toBe(409);
    expect((await app.inject({ method: 'POST', url: '/api/auth/tokens', payload: { name: 'bad\u202ename' } })).statusCode).toBe(400);
  });
});
