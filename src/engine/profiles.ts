import { execFileSync } from 'node:child_process';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { EngineError } from '../errors.js';

/**
 * I/O profiles (PRODUCT.md): changing one restarts the engine. The names are
 * the contract; what each sets comes from the engine (`hushbox-engine profiles
 * --json`), which declares them once with their processing defaults.
 */
export const PROFILE_NAMES = ['studio', 'balanced', 'streaming', 'lowlatency'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const ProfileNameSchema = Type.Union(
  PROFILE_NAMES.map((k) => Type.Literal(k)),
  { description: 'an I/O profile; GET /api/audio lists what each sets' },
);

export const ProfileSettingsSchema = Type.Object({
  rate: Type.Integer({ minimum: 8000, maximum: 384000 }),
  frames: Type.Integer({ minimum: 16, maximum: 4096 }),
  periods: Type.Integer({ minimum: 2, maximum: 16 }),
});
export type ProfileSettings = Static<typeof ProfileSettingsSchema>;

const EngineProfileSchema = Type.Composite([
  ProfileSettingsSchema,
  Type.Object({ name: Type.String(), description: Type.String() }),
]);

export type ProfileTable = Record<ProfileName, ProfileSettings & { description: string }>;

const cache = new Map<string, ProfileTable>();

/** The profiles the engine at `binary` declares (read once per binary). */
export function engineProfiles(binary: string): ProfileTable {
  const hit = cache.get(binary);
  if (hit) return hit;
  let list: unknown;
  try {
    list = JSON.parse(execFileSync(binary, ['profiles', '--json'], { encoding: 'utf8', timeout: 5000 }));
  } catch (err) {
    throw new EngineError('profiles_unavailable', `cannot read the profiles from ${binary}: ${(err as Error).message.split('\n')[0]}`);
  }
  const table: Partial<ProfileTable> = {};
  for (const p of Array.isArray(list) ? list : []) {
    if (!Value.Check(EngineProfileSchema, p)) continue;
    if ((PROFILE_NAMES as readonly string[]).includes(p.name)) {
      table[p.name as ProfileName] = { rate: p.rate, frames: p.frames, periods: p.periods, description: p.description };
    }
  }
  const missing = PROFILE_NAMES.filter((n) => !table[n]);
  if (missing.length) throw new EngineError('profiles_unavailable', `${binary} does not declare the profiles ${missing.join(', ')}`);
  cache.set(binary, table as ProfileTable);
  return table as ProfileTable;
}

/** The profile these settings match, or 'custom'. */
export function profileOf(s: ProfileSettings, profiles: ProfileTable): ProfileName | 'custom' {
  for (const name of PROFILE_NAMES) {
    const p = profiles[name];
    if (p.rate === s.rate && p.frames === s.frames && p.periods === s.periods) return name;
  }
  return 'custom';
}
