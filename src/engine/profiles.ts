import { Type, type Static } from '@sinclair/typebox';

/** I/O profiles (PRODUCT.md): changing one restarts the engine. */
export const PROFILES = {
  lowlatency: { rate: 48000, frames: 32, periods: 2 },
  studio: { rate: 48000, frames: 64, periods: 2 },
  balanced: { rate: 48000, frames: 128, periods: 2 },
  streaming: { rate: 48000, frames: 256, periods: 3 },
} as const;

export type ProfileName = keyof typeof PROFILES;

export const ProfileNameSchema = Type.Union(
  (Object.keys(PROFILES) as ProfileName[]).map((k) => Type.Literal(k)),
  { description: 'lowlatency 48k/32x2, studio 48k/64x2, balanced 48k/128x2, streaming 48k/256x3' },
);

export const ProfileSettingsSchema = Type.Object({
  rate: Type.Integer({ minimum: 8000, maximum: 384000 }),
  frames: Type.Integer({ minimum: 16, maximum: 4096 }),
  periods: Type.Integer({ minimum: 2, maximum: 16 }),
});
export type ProfileSettings = Static<typeof ProfileSettingsSchema>;

/** The profile these settings match, or 'custom'. */
export function profileOf(s: ProfileSettings): ProfileName | 'custom' {
  for (const [name, p] of Object.entries(PROFILES)) {
    if (p.rate === s.rate && p.frames === s.frames && p.periods === s.periods) return name as ProfileName;
  }
  return 'custom';
}
