import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PresetsService } from '../../src/presets/presets-service.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { TableEngine, SKELETON_TABLE } from '../fakes/table-engine.js';

let tmp: ReturnType<typeof tempDir>;
let app: FastifyInstance;
let engine: TableEngine;

beforeEach(async () => {
  tmp = tempDir();
  const ctx = makeContext(tmp.dir);
  engine = new TableEngine(SKELETON_TABLE, ctx.bus);
  const presets = new PresetsService({ ctx, engine: engine.asService() });
  await presets.start();
  app = await buildOwnerApp({ ctx, engine: engine.asService(), presets });
});
afterEach(async () => {
  await app.close();
  tmp.cleanup();
});

const json = (r: { body: string }) => JSON.parse(r.body);

describe('/api/presets', () => {
  it('lists, creates, reads, updates and deletes presets', async () => {
    const list = json(await app.inject({ method: 'GET', url: '/api/presets' }));
    expect(list.map((p: { name: string }) => p.name)).toEqual(['Podcast', 'Streaming', 'Studio voice', 'Bypass']);

    const created = await app.inject({ method: 'POST', url: '/api/presets', payload: { name: 'Late night', params: { 'mic.trim.gain': -2, 'mic.comp.ratio': 2 } } });
    expect(created.statusCode).toBe(201);
    expect(json(created)).toMatchObject({ preset: { id: 'late-night', factory: false }, warnings: [expect.stringMatching(/mic\.comp\.ratio/)] });

    expect(json(await app.inject({ method: 'GET', url: '/api/presets/late-night' })).params).toEqual({ 'mic.trim.gain': -2, 'mic.comp.ratio': 2 });
    const updated = await app.inject({ method: 'PUT', url: '/api/presets/late-night', payload: { tags: ['night'] } });
    expect(json(updated).preset.tags).toEqual(['night']);
    expect((await app.inject({ method: 'DELETE', url: '/api/presets/late-night' })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/api/presets/late-night' })).statusCode).toBe(404);
  });

  it('answers 400 naming the field for bad bodies and out-of-range values, 409 for factory presets', async () => {
    const noName = await app.inject({ method: 'POST', url: '/api/presets', payload: { params: {} } });
    expect(noName.statusCode).toBe(400);
    expect(json(noName).message).toMatch(/name/);
    const range = await app.inject({ method: 'POST', url: '/api/presets', payload: { name: 'X', params: { 'mic.trim.gain': 48 } } });
    expect(range.statusCode).toBe(400);
    expect(json(range).message).toMatch(/mic\.trim\.gain: 48 is outside/);
    expect((await app.inject({ method: 'PUT', url: '/api/presets/podcast', payload: { notes: 'x' } })).statusCode).toBe(409);
    expect(json(await app.inject({ method: 'GET', url: '/api/presets' }))).toHaveLength(4);
  });

  it('applies a preset by id or name and reports what the engine lacks', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/presets/Streaming/apply' });
    expect(r.statusCode).toBe(200);
    expect(json(r)).toMatchObject({ preset: { id: 'streaming' }, applied: { 'mic.trim.gain': 4 } });
    expect(json(r).unknown.length).toBeGreaterThan(10);
    expect(engine.values.get('mic.trim.gain')).toBe(4);
    expect(json(await app.inject({ method: 'GET', url: '/api/state' }))).toMatchObject({ preset: 'Streaming' });
    expect((await app.inject({ method: 'POST', url: '/api/presets/nope/apply' })).statusCode).toBe(404);
  });

  it('imports with a dry run and a collision policy, and exports', async () => {
    const bundle = { format: 'hushbox-presets', presets: [{ name: 'Podcast', 'mic.trim.gain': 1 }, { name: 'Fresh', 'inst.trim.gain': 2 }] };
    const dry = await app.inject({ method: 'POST', url: '/api/presets/import?dryRun=true&collision=skip', payload: bundle });
    expect(json(dry)).toMatchObject({ dryRun: true, ok: true, counts: { skip: 1, create: 1 } });
    expect(json(await app.inject({ method: 'GET', url: '/api/presets' }))).toHaveLength(4);
    const real = await app.inject({ method: 'POST', url: '/api/presets/import?collision=copy', payload: bundle });
    expect(json(real).counts).toEqual({ copy: 1, create: 1 });
    const exported = json(await app.inject({ method: 'GET', url: '/api/presets/export' }));
    expect(exported).toMatchObject({ format: 'hushbox-presets' });
    expect(exported.presets.map((p: { name: string }) => p.name).sort()).toEqual(['Fresh', 'Podcast (2)']);
    const bad = await app.inject({ method: 'POST', url: '/api/presets/import?collision=merge', payload: bundle });
    expect(bad.statusCode).toBe(400);
    const invalid = await app.inject({ method: 'POST', url: '/api/presets/import', payload: [{ name: 'Hot', 'mic.trim.gain': 100 }] });
    expect(invalid.statusCode).toBe(400);
    expect(json(invalid).message).toMatch(/nothing imported: presets\[0\]\.params\.mic\.trim\.gain/);
  });

  it('sets locks and serves the params schema derived from the engine table', async () => {
    expect(json(await app.inject({ method: 'PUT', url: '/api/presets/locks', payload: { locked: ['mic.trim.gain'] } }))).toMatchObject({ locked: ['mic.trim.gain'] });
    expect(json(await app.inject({ method: 'GET', url: '/api/presets/locks' }))).toEqual({ locked: ['mic.trim.gain'] });
    expect(json(await app.inject({ method: 'POST', url: '/api/presets/podcast/apply' })).locked).toEqual(['mic.trim.gain']);
    expect(engine.values.get('mic.trim.gain')).toBe(0);
    const schema = json(await app.inject({ method: 'GET', url: '/api/presets/schema' }));
    expect(schema.properties['mic.trim.gain']).toMatchObject({ minimum: -24, maximum: 24 });
  });
});

describe('/api/ab', () => {
  it('stores both slots, toggles and shows the difference', async () => {
    expect((await app.inject({ method: 'POST', url: '/api/ab/toggle' })).statusCode).toBe(409);
    await engine.setParams({ 'mic.trim.gain': 5 }, 'test');
    expect((await app.inject({ method: 'POST', url: '/api/ab/A/store' })).statusCode).toBe(200);
    await engine.setParams({ 'mic.trim.gain': -5 }, 'test');
    await app.inject({ method: 'POST', url: '/api/ab/B/store' });
    const ab = json(await app.inject({ method: 'GET', url: '/api/ab' }));
    expect(ab).toMatchObject({ active: 'B', diff: [{ id: 'mic.trim.gain', A: 5, B: -5 }] });
    expect(json(await app.inject({ method: 'POST', url: '/api/ab/toggle' }))).toMatchObject({ active: 'A', applied: { 'mic.trim.gain': 5 } });
    expect(engine.values.get('mic.trim.gain')).toBe(5);
    expect((await app.inject({ method: 'POST', url: '/api/ab/C/store' })).statusCode).toBe(400);
  });
});
