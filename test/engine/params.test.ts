import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import { validateParamValues, type ParamDef } from '../../src/engine/params.js';

const table = new Map<string, ParamDef>([
  ['mic.trim.gain', { index: 0, id: 'mic.trim.gain', name: 'Mic trim', unit: 'dB', scale: 'db', min: -24, max: 24, default: 0 }],
  ['mic.hpf.bypass', { index: 1, id: 'mic.hpf.bypass', name: 'HPF bypass', unit: '', scale: 'bool', min: 0, max: 1, default: 0 }],
]);

describe('parameter validation', () => {
  it('accepts values in range and booleans for bool parameters', () => {
    const out = validateParamValues(table, { 'mic.trim.gain': -6.5, 'mic.hpf.bypass': true });
    expect(out.map(([d, v]) => [d.id, v])).toEqual([
      ['mic.trim.gain', -6.5],
      ['mic.hpf.bypass', 1],
    ]);
  });

  it('names unknown ids', () => {
    expect(() => validateParamValues(table, { 'mic.nope': 1, 'x.y': 2 })).toThrow(NotFoundError);
    expect(() => validateParamValues(table, { 'mic.nope': 1, 'x.y': 2 })).toThrow('unknown parameters: mic.nope, x.y');
  });

  it('names every value that is out of range or not a number', () => {
    try {
      validateParamValues(table, { 'mic.trim.gain': 30, 'mic.hpf.bypass': 0.5 });
      throw new Error('expected an error');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toBe('mic.trim.gain: 30 is outside -24..24 dB; mic.hpf.bypass: expected a whole number');
    }
    expect(() => validateParamValues(table, { 'mic.trim.gain': 'loud' })).toThrow('expected a number, got "loud"');
    expect(() => validateParamValues(table, { 'mic.trim.gain': Number.NaN })).toThrow('finite');
    expect(() => validateParamValues(table, {})).toThrow('no parameters given');
  });
});
