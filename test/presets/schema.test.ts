import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import type { ParamDef } from '../../src/engine/params.js';
import { FACTORY_PRESETS } from '../../src/presets/factory.js';
import { checkPresetParams, migratePreset, paramsSchemaFor, PresetV1Schema, slugify } from '../../src/presets/schema.js';
import { FULL_TABLE, SKELETON_TABLE } from '../fakes/table-engine.js';

const tableOf = (defs: typeof FULL_TABLE) => new Map<string, ParamDef>(defs.map((d, index) => [d.id, { ...d, index }]));
const now = '2026-11-22T01:02:03.000Z';

describe('preset schema', () => {
  it('migrates a v0 preset (flat params, no schema) to v1', () => {
    const v1 = migratePreset({ name: 'Old one', tags: ['x'], 'mic.trim.gain': 3, 'master.gain': -2 }, 'old.json', { now });
    expect(v1).toEqual({
      schema: 1,
      id: 'old-one',
      name: 'Old one',
      tags: ['x'],
      notes: '',
      created: now,
      modified: now,
      params: { 'mic.trim.gain': 3, 'master.gain': -2 },
    });
  });

  it('refuses a v0 preset whose values are not numbers, naming the field', () => {
    expect(() => migratePreset({ name: 'Bad', 'mic.trim.gain': 'loud' }, 'bad.json', { now })).toThrow(/bad\.json.*mic\.trim\.gain/);
  });

  it('refuses an unknown schema version and a v1 preset missing fields', () => {
    expect(() => migratePreset({ schema: 7, name: 'x' }, 'p', { now })).toThrow(/unknown preset schema version 7/);
    expect(() => migratePreset({ schema: 1, name: 'x', params: {} }, 'p', { now })).toThrow(/not a valid preset.*tags/);
    expect(() => migratePreset([1, 2], 'p', { now })).toThrow(/expected a JSON object/);
  });

  it('takes the id from the file name over the one inside', () => {
    const p = migratePreset({ ...FACTORY_PRESETS[0], id: 'other' }, 'x.json', { id: 'from-file', now });
    expect(p.id).toBe('from-file');
  });

  it('reports ids the engine lacks but keeps them, and refuses out-of-range values', () => {
    const table = tableOf(SKELETON_TABLE);
    expect(checkPresetParams(table, { 'mic.trim.gain': 3, 'mic.comp.ratio': 4 })).toEqual({ unknown: ['mic.comp.ratio'] });
    expect(() => checkPresetParams(table, { 'mic.trim.gain': 30 })).toThrow(/params\.mic\.trim\.gain: 30 is outside -24\.\.24 dB/);
    expect(() => checkPresetParams(table, { 'mic.trim.gain': Number.NaN })).toThrow(/expected a finite number/);
  });

  it('requires whole numbers for bool parameters', () => {
    expect(() => checkPresetParams(tableOf(FULL_TABLE), { 'master.bypass': 0.5 })).toThrow(/master\.bypass.*whole numbers/);
  });

  it('derives the params schema from the live table: ids, ranges, descriptions', () => {
    const schema = paramsSchemaFor(tableOf(FULL_TABLE).values()) as unknown as { properties: Record<string, { minimum: number; maximum: number; type: string }> };
    expect(Object.keys(schema.properties)).toEqual(FULL_TABLE.map((d) => d.id));
    expect(schema.properties['master.gain']).toMatchObject({ minimum: -60, maximum: 12, type: 'number' });
    expect(schema.properties['master.bypass']).toMatchObject({ type: 'integer' });
  });

  it('makes file-name-safe ids from names', () => {
    expect(slugify('Studio voice')).toBe('studio-voice');
    expect(slugify('  Café / Läuten!! ')).toBe('cafe-lauten');
    expect(slugify('***')).toBe('preset');
  });

  it('ships the four factory presets as valid v1 presets using PARAMS.md ids', () => {
    expect(FACTORY_PRESETS.map((p) => p.name)).toEqual(['Podcast', 'Streaming', 'Studio voice', 'Bypass']);
    for (const p of FACTORY_PRESETS) {
      expect(Value.Check(PresetV1Schema, p)).toBe(true);
      for (const id of Object.keys(p.params)) expect(id).toMatch(/^(mic|inst)\.[a-z0-9.]+$|^(master|mix)\./);
      // Every factory preset sets something the skeleton engine has.
      expect(p.params['mic.trim.gain']).toBeTypeOf('number');
    }
  });
});
