import { Type, type Static } from '@sinclair/typebox';
import { NotFoundError, ValidationError } from '../errors.js';

/** One entry of the engine's parameter table, as the engine declares it. */
export const ParamSchema = Type.Object({
  id: Type.String({ description: 'e.g. mic.trim.gain' }),
  name: Type.String(),
  unit: Type.String(),
  scale: Type.Union([Type.Literal('linear'), Type.Literal('db'), Type.Literal('log'), Type.Literal('bool'), Type.Literal('enum')]),
  min: Type.Number(),
  max: Type.Number(),
  default: Type.Number(),
  value: Type.Number({ description: 'the value the engine runs with now' }),
});
export type Param = Static<typeof ParamSchema>;

export type ParamDef = Omit<Param, 'value'> & { index: number };

/**
 * Check a set of changes against the table: every id known, every value a
 * finite number in range. Throws before anything is applied.
 */
export function validateParamValues(table: ReadonlyMap<string, ParamDef>, values: Record<string, unknown>): Array<[ParamDef, number]> {
  const entries = Object.entries(values);
  if (entries.length === 0) throw new ValidationError('no parameters given');
  const unknown = entries.filter(([id]) => !table.has(id)).map(([id]) => id);
  if (unknown.length) throw new NotFoundError(`unknown parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  const out: Array<[ParamDef, number]> = [];
  const problems: string[] = [];
  for (const [id, raw] of entries) {
    const def = table.get(id)!;
    if (typeof raw !== 'number' && typeof raw !== 'boolean') {
      problems.push(`${id}: expected a number, got ${JSON.stringify(raw)}`);
      continue;
    }
    if (typeof raw === 'boolean' && def.scale !== 'bool') {
      problems.push(`${id}: expected a number${def.unit ? ` in ${def.unit}` : ''}, got ${raw} (true/false is for on/off parameters)`);
      continue;
    }
    const value = typeof raw === 'boolean' ? (raw ? 1 : 0) : raw;
    if (!Number.isFinite(value)) problems.push(`${id}: expected a finite number`);
    else if (value < def.min || value > def.max) problems.push(`${id}: ${value} is outside ${def.min}..${def.max} ${def.unit}`.trimEnd());
    else if ((def.scale === 'bool' || def.scale === 'enum') && !Number.isInteger(value)) problems.push(`${id}: expected a whole number`);
    else out.push([def, value]);
  }
  if (problems.length) throw new ValidationError(problems.join('; '), problems);
  return out;
}
