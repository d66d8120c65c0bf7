/**
 * Parameter values that make the DSP chain transparent but for its trims:
 * every stage bypassed (master.bypass excepted), the mic strip to output 1 and
 * the instrument strip to output 2. Tests that check a gain against the meters
 * apply these first; the chain's defaults process the sound.
 */
export function transparentParams(ids: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) if (id.endsWith('.bypass') && id !== 'master.bypass') out[id] = 1;
  out['mix.mic.pan'] = -100;
  out['mix.inst.pan'] = 100;
  return out;
}
