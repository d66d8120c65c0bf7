// The factory presets against the parameter table of the engine actually built.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defaultEngineBinary } from '../../src/paths.js';
import type { ParamDef } from '../../src/engine/params.js';
import { FACTORY_PRESETS } from '../../src/presets/factory.js';
import { checkPresetParams } from '../../src/presets/schema.js';

describe('factory presets', () => {
  const defs = JSON.parse(execFileSync(defaultEngineBinary(), ['params', '--json'], { encoding: 'utf8' })) as Array<Omit<ParamDef, 'index'>>;
  const table = new Map<string, ParamDef>(defs.map((d, index) => [d.id, { ...d, index }]));

  it.each(FACTORY_PRESETS.map((p) => [p.name, p] as const))('%s is within the ranges of the built engine (ids it lacks are only reported)', (_name, preset) => {
    const { unknown } = checkPresetParams(table, preset.params, `${preset.name}.params`);
    // whatever the engine has, the preset applies: at least the mic trim
    expect(Object.keys(preset.params).filter((id) => !unknown.includes(id))).toContain('mic.trim.gain');
  });

  it.each(FACTORY_PRESETS.map((p) => [p.name, p] as const))('%s sets the master limiter itself, so recalling it never inherits the last one\'s', (name, preset) => {
    for (const id of ['master.limit.bypass']) expect(table.has(id) && id in preset.params, id).toBe(true);
    if (name === 'Bypass') {
      expect(preset.params['master.limit.bypass']).toBe(1);  // every stage off: the signal as it comes in
    } else {
      expect(preset.params['master.limit.bypass']).toBe(0);
      // no looser than the mic's own limiter: the sum of the strips is held where one strip is
      expect(preset.params['master.limit.ceiling']).toBeLessThanOrEqual(preset.params['mic.limit.ceiling']!);
    }
  });
});
