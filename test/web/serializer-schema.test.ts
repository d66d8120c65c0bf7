// Response schemas rewritten for fast-json-stringify without anyOf where a
// plainer schema says the same: the output is unchanged for every value the
// schema allows, the written code needs no Ajv, and a union that cannot be
// said plainly is left as it was (and counted when served).
import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import fjs from 'fast-json-stringify';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CompiledSchemas } from '../../src/web/compiled-schemas.js';
import { plainForSerializer } from '../../src/web/serializer-schema.js';
import { tempDir } from '../fakes/temp-context.js';

const tmp = tempDir('hushbox-serializer-schema-');
afterAll(() => tmp.cleanup());

const Frame = Type.Object({ peak: Type.Number(), clipped: Type.Boolean() });
const Slot = Type.Object({ name: Type.String(), bootname: Type.Union([Type.String(), Type.Null()]) });
const Rauc = Type.Union([
  Type.Object({ available: Type.Literal(true), compatible: Type.String(), slots: Type.Array(Slot) }),
  Type.Object({ available: Type.Literal(false), reason: Type.String(), installed: Type.Optional(Type.Boolean()) }),
]);
const Answer = Type.Object({
  telemetry: Type.Union([Frame, Type.Null()], { description: 'the last frame' }),
  value: Type.Union([Type.Number(), Type.Boolean()]),
  active: Type.Union([Type.Literal('A'), Type.Literal('B')]),
  profile: Type.Union([Type.Union([Type.Literal('low'), Type.Literal('safe')]), Type.Literal('custom')]),
  note: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  levels: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
  rauc: Rauc,
});

const values = [
  {
    telemetry: null,
    value: 3.5,
    active: 'A',
    profile: 'custom',
    levels: { a: 1, b: null },
    rauc: { available: false, reason: 'not installed' },
  },
  {
    telemetry: { peak: -3.25, clipped: true },
    value: false,
    active: 'B',
    profile: 'low',
    note: null,
    levels: {},
    rauc: { available: true, compatible: 'hushbox-x86_64', slots: [{ name: 'rootfs.0', bootname: 'A' }, { name: 'rootfs.1', bootname: null }] },
  },
  {
    telemetry: { peak: 0, clipped: false },
    value: true,
    active: 'B',
    profile: 'safe',
    note: 'said',
    levels: { x: 0 },
    rauc: { available: false, reason: 'rauc did not answer', installed: true },
  },
];

describe('plainForSerializer', () => {
  it('says "X or null", unions of one type\'s constants, unions of primitives and objects told apart, without anyOf', () => {
    const plain = plainForSerializer(Answer) as { properties: Record<string, Record<string, unknown>> };
    expect(JSON.stringify(plain)).not.toContain('anyOf');
    const p = plain.properties;
    expect(p.telemetry).toMatchObject({ type: 'object', nullable: true, description: 'the last frame' });
    expect(p.value.type).toEqual(['number', 'boolean']);
    expect(p.active).toMatchObject({ type: 'string', enum: ['A', 'B'] });
    expect(p.profile).toMatchObject({ type: 'string', enum: ['low', 'safe', 'custom'] });
    expect(p.note).toMatchObject({ type: 'string', nullable: true });
    expect((p.levels.patternProperties as Record<string, unknown>)['^(.*)$']).toMatchObject({ type: 'number', nullable: true });
    expect(p.rauc).toMatchObject({ type: 'object', required: ['available'] });
    expect(Object.keys(p.rauc.properties as object)).toEqual(['available', 'compatible', 'slots', 'reason', 'installed']);
    // The route's own schema is not changed (requests are still validated against it).
    expect(JSON.stringify(Answer)).toContain('anyOf');
  });

  it('leaves a union it cannot say plainly as it was', () => {
    const odd = Type.Union([Type.Object({ a: Type.Number() }), Type.Array(Type.Number())]);
    expect(plainForSerializer(odd)).toEqual(JSON.parse(JSON.stringify(odd)));
    const patterned = Type.Union([Type.String({ format: 'date-time' }), Type.Number()]);
    expect((plainForSerializer(patterned) as { anyOf?: unknown }).anyOf).toHaveLength(2);
  });

  it('writes every value exactly as the original schema does, and its code needs no Ajv', () => {
    const original = fjs(Answer);
    const plain = fjs(plainForSerializer(Answer) as object);
    for (const v of values) expect(plain(v)).toBe(original(v));
    for (const v of values) expect(JSON.parse(plain(v))).toEqual(v);
    expect(fjs(Answer, { mode: 'standalone' })).toContain("require('fast-json-stringify/lib/validator')");
    expect(fjs(plainForSerializer(Answer) as object, { mode: 'standalone' })).not.toContain("require('fast-json-stringify/lib/validator')");
  });
});

describe('CompiledSchemas with plain serializers', () => {
  async function app(schemas: CompiledSchemas) {
    const a = Fastify({ schemaController: { compilersFactory: schemas.factories() } });
    a.get('/plain', { schema: { response: { 200: Answer } } }, async () => values[1]);
    const Odd = Type.Object({ odd: Type.Union([Type.Object({ a: Type.Number() }), Type.Array(Type.Number())]) });
    a.get('/odd', { schema: { response: { 200: Odd } } }, async () => ({ odd: [1, 2] }));
    await a.ready();
    return a;
  }

  it('writes code that the box loads back, counting the serializers that still need Ajv when they first answer', async () => {
    const dir = join(tmp.dir, 'code');
    const writer = new CompiledSchemas(dir, 'write');
    await (await app(writer)).close();
    expect(writer.counts.written).toBeGreaterThanOrEqual(2);
    const reader = new CompiledSchemas(dir);
    const served = await app(reader);
    expect(reader.counts).toMatchObject({ loaded: writer.counts.written, compiled: 0 });
    const plain = await served.inject({ method: 'GET', url: '/plain' });
    expect(plain.json()).toEqual(values[1]);
    const evaluated = reader.counts.evaluated;
    expect(evaluated).toBeGreaterThanOrEqual(1);
    expect(reader.counts.ajvSerializers).toBe(0);
    expect((await served.inject({ method: 'GET', url: '/odd' })).json()).toEqual({ odd: [1, 2] });
    expect(reader.counts.evaluated).toBe(evaluated + 1);
    expect(reader.counts.ajvSerializers).toBe(1);
    await served.close();
  });
});
