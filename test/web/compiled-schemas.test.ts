// The web app's validators and serializers written as code (as the image's
// build does, `hushbox compile-schemas`) and loaded back (as the box does at
// every start): every route finds its code, the API answers exactly as with
// fastify's own compilers (bodies, refusals, their messages), and a route
// whose code is missing or stale is compiled as usual, not served wrongly.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DoctorWatch } from '../../src/health/doctor-watch.js';
import { HistoryService } from '../../src/history/history-service.js';
import { LatencyMeasure } from '../../src/engine/latency-measure.js';
import { OtaService } from '../../src/ota/ota-service.js';
import { PresetsService } from '../../src/presets/presets-service.js';
import { buildApp } from '../../src/web/app.js';
import { CompiledSchemas } from '../../src/web/compiled-schemas.js';
import { buildOwnerApp, startedAuth } from '../fakes/owner.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { FULL_TABLE, TableEngine } from '../fakes/table-engine.js';

const tmp = tempDir('hushbox-compiled-schemas-');
const code = join(tmp.dir, 'web-schemas');
let written = 0;
const apps: FastifyInstance[] = [];

async function deps(name: string) {
  const ctx = makeContext(join(tmp.dir, name));
  const engine = new TableEngine(FULL_TABLE, ctx.bus).asService();
  const presets = new PresetsService({ ctx, engine });
  await presets.start();
  return {
    ctx,
    engine,
    presets,
    ota: new OtaService({ ctx }),
    mqtt: { connected: () => false },
    history: new HistoryService({ ctx, engine }),
    doctor: new DoctorWatch({ ctx, engine }),
    latency: new LatencyMeasure({ ctx, engine }),
  };
}

/** The app as the box builds it, as the owner, with these compilers. */
async function ownerApp(name: string, schemas: CompiledSchemas) {
  const app = await buildOwnerApp({ ...(await deps(name)), schemas });
  apps.push(app);
  return app;
}

beforeAll(async () => {
  const d = await deps('writer');
  const writer = new CompiledSchemas(code, 'write');
  const app = await buildApp({ ...d, auth: await startedAuth(d.ctx), schemas: writer });
  await app.ready();
  await app.close();
  written = writer.counts.written;
}, 60_000);

afterAll(async () => {
  for (const app of apps) await app.close();
  tmp.cleanup();
});

describe('validators and serializers compiled ahead', () => {
  it('writes one file per route part and status, and a later build loads every one of them, compiling none', async () => {
    expect(written).toBeGreaterThan(100);
    expect(readdirSync(code).filter((f) => f.endsWith('.cjs'))).toHaveLength(written);
    const schemas = new CompiledSchemas(code);
    const app = await ownerApp('reader', schemas);
    await app.ready();
    // Found at start, evaluated only when a route first uses one: so far the owner's login's.
    expect(schemas.counts).toMatchObject({ loaded: written, compiled: 0 });
    expect(schemas.counts.evaluated).toBeLessThanOrEqual(4);
    expect((await app.inject({ method: 'GET', url: '/api/presets' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'PUT', url: '/api/params/mic.ns.strength', payload: { value: 'loud' } })).statusCode).toBe(400);
    expect(schemas.counts.evaluated).toBeGreaterThanOrEqual(4);
    expect(schemas.counts.evaluated).toBeLessThan(10);
    const once = schemas.counts.evaluated;
    await app.inject({ method: 'GET', url: '/api/presets' });
    expect(schemas.counts.evaluated, 'each evaluated once').toBe(once);
    // Neither Ajv's compiler nor fast-json-stringify's was required: the code needs only their runtimes.
    expect(schemas.counts.compilersLoaded).toBe(0);
  });

  it('answers as fastify\'s own compilers do: the same bodies, the same refusals with the same messages', async () => {
    const loaded = await ownerApp('loaded', new CompiledSchemas(code));
    const plain = await ownerApp('plain', new CompiledSchemas(join(tmp.dir, 'none')));
    const requests: InjectOptions[] = [
      { method: 'GET', url: '/api/params' },
      { method: 'GET', url: '/api/presets' },
      { method: 'GET', url: '/api/auth' },
      { method: 'PUT', url: '/api/params/mic.ns.strength', payload: { value: 'loud' } },
      { method: 'PUT', url: '/api/params/mic.ns.strength', payload: { value: 40, extra: 1 } },
      { method: 'PUT', url: '/api/params/mic.ns.strength', payload: { value: 40 } },
      { method: 'POST', url: '/api/presets', payload: { name: '' } },
      { method: 'POST', url: '/api/presets', payload: { name: 'Loaded and plain', tags: ['x'] } },
      { method: 'PUT', url: '/api/audio', payload: { frames: 3 } },
      { method: 'GET', url: '/api/history?limit=nope' },
      { method: 'GET', url: '/api/status' },
      { method: 'GET', url: '/api/ota' },
      { method: 'GET', url: '/api/health' },
      { method: 'GET', url: '/api/midi' },
    ];
    let refused = 0;
    for (const r of requests) {
      const [a, b] = [await loaded.inject(r), await plain.inject(r)];
      const what = `${r.method} ${r.url} ${JSON.stringify(r.payload ?? '')}`;
      expect(a.statusCode, what).toBe(b.statusCode);
      const [ja, jb] = [a.json() as Record<string, unknown>, b.json() as Record<string, unknown>];
      // Each app has its own data directory and clock: what differs is ids and times, not the shape or the messages.
      const norm = (j: Record<string, unknown>) =>
        JSON.parse(
          JSON.stringify(j)
            .replace(/"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"-"')
            .replace(/"(id|deviceId|uptimeS|name|freeBytes|totalBytes|usedBytes)":("[^"]*"|[\d.]+)/g, '"$1":"-"'),
        ) as unknown;
      expect(norm(ja), what).toEqual(norm(jb));
      if (a.statusCode === 400) refused++;
    }
    expect(refused).toBeGreaterThanOrEqual(4);
  });

  it('answers what the page asks for at power-on without Ajv: its unions are written plainly (serializer-schema.ts)', async () => {
    const schemas = new CompiledSchemas(code);
    const app = await ownerApp('page-start', schemas);
    for (const url of ['/api/status', '/api/params', '/api/presets', '/api/ota', '/api/health', '/api/auth', '/api/state', '/api/history/sessions', '/api/ab']) {
      // /api/health answers 503 here (the fakes' engine is not running): with its body, serialized all the same.
      const res = await app.inject({ method: 'GET', url });
      expect([200, 503], `${url} ${res.body}`).toContain(res.statusCode);
    }
    expect(schemas.counts.evaluated).toBeGreaterThan(9);
    expect(schemas.counts.ajvSerializers).toBe(0);
    // Nor does any other answer of the API (test/web/serializer-schema.test.ts shows the count sees one that does).
    const { readFileSync } = await import('node:fs');
    const withAjv = readdirSync(code).filter((f) => f.startsWith('serializer-') && readFileSync(join(code, f), 'utf8').includes("require('fast-json-stringify/lib/validator')"));
    expect(withAjv).toEqual([]);
  });

  it('compiles what it finds no code for (a schema changed since, a route the build did not see), and serves it right', async () => {
    const partial = join(tmp.dir, 'partial');
    const { cpSync } = await import('node:fs');
    cpSync(code, partial, { recursive: true });
    const files = readdirSync(partial).filter((f) => f.startsWith('validator-'));
    for (const f of files) rmSync(join(partial, f));
    const schemas = new CompiledSchemas(partial);
    const app = await ownerApp('partial', schemas);
    expect(schemas.counts.compiled).toBe(files.length);
    expect(schemas.counts.loaded).toBe(written - files.length);
    // Ajv's compiler, for the validators that had no code; fast-json-stringify's was not needed.
    expect(schemas.counts.compilersLoaded).toBe(1);
    const bad = await app.inject({ method: 'PUT', url: '/api/params/mic.ns.strength', payload: { value: 'loud' } });
    expect(bad.statusCode).toBe(400);
    expect((await app.inject({ method: 'PUT', url: '/api/params/mic.ns.strength', payload: { value: 40 } })).statusCode).toBe(200);
  });
});
