// Limits on what a client can store, and errors that read cleanly (issue 11).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PresetsService } from '../../src/presets/presets-service.js';
import { MAX_PRESET_PARAMS, MAX_USER_PRESETS } from '../../src/presets/schema.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { TableEngine, SKELETON_TABLE } from '../fakes/table-engine.js';

let tmp: ReturnType<typeof tempDir>;
let app: FastifyInstance;
let presets: PresetsService;

beforeEach(async () => {
  tmp = tempDir();
  const ctx = makeContext(tmp.dir);
  const engine = new TableEngine(SKELETON_TABLE, ctx.bus);
  presets = new PresetsService({ ctx, engine: engine.asService() });
  await presets.start();
  app = await buildOwnerApp({ ctx, engine: engine.asService(), presets });
});
afterEach(async () => {
  await app.close();
  tmp.cleanup();
});

const json = (r: { body: string }) => JSON.parse(r.body) as { error: string; message: string; [k: string]: unknown };
const files = () => readdirSync(join(tmp.dir, 'presets')).filter((f) => f.endsWith('.json'));
const post = (payload: unknown) => app.inject({ method: 'POST', url: '/api/presets', payload: payload as object });

describe('preset limits', () => {
  it('refuses a preset with 10 000 keys, naming the limit, and stores nothing', async () => {
    const params = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`x.k${i}`, 1]));
    const r = await post({ name: 'Big', params });
    expect(r.statusCode).toBe(400);
    expect(json(r).message).toContain(`${MAX_PRESET_PARAMS}`);
    expect(json(r).message).toMatch(/params/);
    expect(files()).toEqual([]);
  });

  it('refuses keys that are not parameter ids, naming them, instead of storing them and dropping them on read', async () => {
    const r = await post({ name: 'Odd', params: { 'mic.trim.gain': 1, 'Weird Key': 2 } });
    expect(r.statusCode).toBe(400);
    expect(json(r).message).toContain('"Weird Key"');
    expect(files()).toEqual([]);
    const imp = await app.inject({ method: 'POST', url: '/api/presets/import', payload: [{ name: 'V0', 'mic.trim.gain': 1, '__proto__x': 3 }] });
    expect(imp.statusCode).toBe(400);
    expect(json(imp).message).toContain('"__proto__x"');
    expect(files()).toEqual([]);
  });

  it(`keeps at most ${MAX_USER_PRESETS} presets of the user's, on create and on import`, async () => {
    const bundle = Array.from({ length: MAX_USER_PRESETS - 1 }, (_, i) => ({ name: `P${i}`, 'mic.trim.gain': 1 }));
    expect((await app.inject({ method: 'POST', url: '/api/presets/import', payload: bundle })).statusCode).toBe(200);
    expect((await post({ name: 'Last one', params: {} })).statusCode).toBe(201);
    const over = await post({ name: 'One too many', params: {} });
    expect(over.statusCode).toBe(409);
    expect(json(over)).toMatchObject({ error: 'too_many_presets' });
    expect(json(over).message).toContain(`at most ${MAX_USER_PRESETS}`);
    const imp = await app.inject({ method: 'POST', url: '/api/presets/import', payload: [{ name: 'New', 'mic.trim.gain': 1 }] });
    expect(imp.statusCode).toBe(409);
    expect(json(imp).error).toBe('too_many_presets');
    expect(files()).toHaveLength(MAX_USER_PRESETS);
    // overwriting one that exists adds nothing: still allowed
    const again = await app.inject({ method: 'POST', url: '/api/presets/import?collision=overwrite', payload: [{ name: 'P1', 'mic.trim.gain': 2 }] });
    expect(again.statusCode).toBe(200);
  });
});

describe('preset names', () => {
  it('refuses control characters and bidi overrides, naming the character', async () => {
    for (const [name, code] of [['Podcast\u202e', '202E'], ['Pod\u0007cast', '0007'], ['Pod\u200bcast', '200B'], ['A\u2066B', '2066']] as const) {
      const r = await post({ name, params: {} });
      expect(r.statusCode, name).toBe(400);
      expect(json(r).message).toContain(`U+${code}`);
      expect(json(r).message).toMatch(/^name:/);
    }
    const tag = await post({ name: 'Ok', tags: ['a\u202eb'], params: {} });
    expect(json(tag).message).toMatch(/^tags\[0\]: .*U\+202E/);
    const imp = await app.inject({ method: 'POST', url: '/api/presets/import', payload: [{ name: 'Podcast\u202e', 'mic.trim.gain': 1 }] });
    expect(imp.statusCode).toBe(400);
    expect(json(imp).message).toMatch(/presets\[0\]\.name: .*U\+202E/);
    expect(files()).toEqual([]);
  });

  it('keeps names in NFC, so one name typed two ways is one name', async () => {
    const composed = 'Caf\u00e9';
    const decomposed = 'Cafe\u0301';
    const r = await post({ name: decomposed, params: {} });
    expect(r.statusCode).toBe(201);
    expect((json(r).preset as { name: string }).name).toBe(composed);
    const clash = await post({ name: composed, params: {} });
    expect(clash.statusCode).toBe(409);
  });

  it('says a preset is unknown without listing every preset there is', async () => {
    await post({ name: 'Secret plan', params: {} });
    const r = await app.inject({ method: 'POST', url: '/api/presets/nope/apply' });
    expect(r.statusCode).toBe(404);
    expect(json(r).message).toBe("no preset with id or name 'nope'");
  });
});

describe('parameter values', () => {
  it('refuses true/false for a dB value and reads cleanly when the body is wrong', async () => {
    const bool = await app.inject({ method: 'PUT', url: '/api/params/mic.trim.gain', payload: { value: true } });
    expect(bool.statusCode).toBe(400);
    expect(json(bool).message).toMatch(/mic\.trim\.gain: expected a number in dB, got true/);
    const patch = await presets.applyPatch({ params: { 'mic.trim.gain': true } }, 'test').catch((e: Error) => e);
    expect(String(patch)).toMatch(/expected a number in dB, got true/);
    const text = await app.inject({ method: 'PUT', url: '/api/params/mic.trim.gain', payload: { value: 'x' } });
    expect(text.statusCode).toBe(400);
    expect(json(text).message).toBe('body.value: must be number or boolean');
    const extra = await app.inject({ method: 'PUT', url: '/api/params/mic.trim.gain', payload: { value: 1, x: 2 } });
    expect(json(extra).message).toBe("body: unexpected property 'x'");
    const missing = await post({ params: {} });
    expect(json(missing).message).toBe('body.name: is required');
  });
});
