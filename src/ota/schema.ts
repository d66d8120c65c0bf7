import { Type, type Static } from '@sinclair/typebox';

export const SlotSchema = Type.Object({
  name: Type.String({ description: 'RAUC slot name, e.g. rootfs.0' }),
  class: Type.String(),
  bootname: Type.Union([Type.String(), Type.Null()], { description: 'A or B for a rootfs slot' }),
  state: Type.String({ description: 'booted, active or inactive' }),
  bootStatus: Type.Union([Type.String(), Type.Null()], { description: 'good or bad, as the bootloader has it' }),
  bundleVersion: Type.Union([Type.String(), Type.Null()], { description: 'version of the bundle last installed to it' }),
});

export const RaucStatusSchema = Type.Union([
  Type.Object({
    available: Type.Literal(true),
    compatible: Type.String(),
    booted: Type.Union([Type.String(), Type.Null()], { description: 'bootname of the slot running now' }),
    bootPrimary: Type.Union([Type.String(), Type.Null()], { description: 'slot the bootloader tries first' }),
    slots: Type.Array(SlotSchema),
  }),
  Type.Object({ available: Type.Literal(false), reason: Type.String() }),
]);
export type RaucStatus = Static<typeof RaucStatusSchema>;

export const AttemptSchema = Type.Object({
  at: Type.String({ description: 'when the install started (ISO 8601)' }),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  version: Type.String({ description: 'version of the bundle' }),
  compatible: Type.String(),
  result: Type.Union([Type.Literal('running'), Type.Literal('installed'), Type.Literal('failed')]),
  message: Type.String(),
});
export type Attempt = Static<typeof AttemptSchema>;

/** What the data directory keeps between runs (<data>/ota.json). */
export const OtaStateFileSchema = Type.Object({ lastAttempt: Type.Union([AttemptSchema, Type.Null()]) });
export type OtaStateFile = Static<typeof OtaStateFileSchema>;

export const InstallProgressSchema = Type.Object({
  running: Type.Boolean(),
  percent: Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
});

export const OtaStatusSchema = Type.Object({
  version: Type.String({ description: 'firmware version running now' }),
  compatible: Type.String({ description: 'the bundles this box takes (RAUC compatible)' }),
  maxBundleBytes: Type.Integer({ description: 'largest bundle upload accepted' }),
  rauc: RaucStatusSchema,
  install: InstallProgressSchema,
  lastAttempt: Type.Union([AttemptSchema, Type.Null()], { description: 'the last install attempt and its result, kept on the data partition' }),
});
export type OtaStatus = Static<typeof OtaStatusSchema>;

export const BundleCheckSchema = Type.Object({
  compatible: Type.String(),
  version: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  build: Type.Union([Type.String(), Type.Null()]),
  signer: Type.Union([Type.String(), Type.Null()], { description: 'subject of the certificate that signed the bundle' }),
  sizeBytes: Type.Integer(),
  images: Type.Array(Type.Object({ slotClass: Type.String(), filename: Type.String(), sizeBytes: Type.Integer(), sha256: Type.String() })),
  installedVersion: Type.String(),
  action: Type.Union([Type.Literal('upgrade'), Type.Literal('reinstall'), Type.Literal('downgrade')], {
    description: 'what installing it would be, against the version running now; a downgrade is refused unless asked for',
  }),
});
export type BundleCheck = Static<typeof BundleCheckSchema>;
