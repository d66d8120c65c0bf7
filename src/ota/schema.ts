import { Type, type Static, type TSchema } from '@sinclair/typebox';

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
  Type.Object({
    available: Type.Literal(false),
    reason: Type.String(),
    installed: Type.Optional(Type.Boolean({ description: 'true: this is an installed box (RAUC is configured), but rauc did not answer this time' })),
  }),
]);
export type RaucStatus = Static<typeof RaucStatusSchema>;

const Nullable = <T extends TSchema>(t: T, opts: { description?: string } = {}) => Type.Union([t, Type.Null()], opts);

export const AttemptResultSchema = Type.Union(
  [
    Type.Literal('running'),
    Type.Literal('installed'),
    Type.Literal('failed'),
    Type.Literal('trying'),
    Type.Literal('updated'),
    Type.Literal('fell_back'),
  ],
  {
    description:
      'running: being installed; installed: in the other slot, waiting for the reboot; failed: the install did not finish; ' +
      'trying: booted into the new slot, checking itself; updated: the new slot passed its self-check and is marked good; ' +
      'fell_back: the new slot never became good and the box runs the old one again',
  },
);

export const AttemptSchema = Type.Object({
  at: Type.String({ description: 'when the install started (ISO 8601)' }),
  finishedAt: Nullable(Type.String()),
  version: Type.String({ description: 'version of the bundle' }),
  compatible: Type.String(),
  result: AttemptResultSchema,
  message: Type.String(),
  source: Type.Optional(Type.Union([Type.Literal('upload'), Type.Literal('url'), Type.Literal('channel')])),
  /** Error code when result is failed. */
  code: Type.Optional(Type.String()),
  fromVersion: Type.Optional(Type.String({ description: 'version that was running when the install started' })),
  fromSlot: Type.Optional(Nullable(Type.String({ description: 'bootname of the slot that was running' }))),
  targetSlot: Type.Optional(Nullable(Type.String({ description: 'bootname of the slot the bundle went to' }))),
  bootId: Type.Optional(Type.String({ description: 'kernel boot id when the install finished (tells a restart from a reboot)' })),
  trialBootId: Type.Optional(Type.String({ description: 'boot id of the first boot into the new slot' })),
});
export type Attempt = Static<typeof AttemptSchema>;

/** What the data directory keeps between runs (<data>/ota.json). */
export const OtaStateFileSchema = Type.Object({ lastAttempt: Nullable(AttemptSchema) });
export type OtaStateFile = Static<typeof OtaStateFileSchema>;

export const UpdateSettingsSchema = Type.Object(
  {
    channelUrl: Nullable(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 }), {
      description: 'the update channel: a directory served over HTTP(S) holding manifest.json, or the manifest\'s own URL; null: no channel',
    }),
    checkIntervalMinutes: Type.Integer({ minimum: 1, maximum: 10080, description: 'how often the box checks the channel' }),
    autoInstall: Type.Boolean({ description: 'install a newer version from the channel as soon as it is seen' }),
    reboot: Type.Union([Type.Literal('immediate'), Type.Literal('manual')], {
      description: 'immediate: reboot into the new slot as soon as the install succeeds; manual: wait for POST /api/ota/reboot',
    }),
  },
  { additionalProperties: false },
);
export type UpdateSettings = Static<typeof UpdateSettingsSchema>;
export const UpdateSettingsPatchSchema = Type.Partial(UpdateSettingsSchema, { additionalProperties: false, minProperties: 1 });
export type UpdateSettingsPatch = Static<typeof UpdateSettingsPatchSchema>;

export const DEFAULT_UPDATE_SETTINGS: UpdateSettings = { channelUrl: null, checkIntervalMinutes: 24 * 60, autoInstall: false, reboot: 'immediate' };

/** The channel's manifest.json. */
export const ManifestSchema = Type.Object({
  version: Type.String({ minLength: 1, maxLength: 64 }),
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'the bundle, absolute or relative to the manifest' }),
  sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
  size: Type.Optional(Type.Integer({ minimum: 1 })),
  compatible: Type.Optional(Type.String()),
  notes: Type.Optional(Type.String({ maxLength: 4096 })),
});
export type Manifest = Static<typeof ManifestSchema>;

export const ChannelStatusSchema = Type.Object({
  url: Nullable(Type.String(), { description: 'manifest URL checked' }),
  checkedAt: Nullable(Type.String()),
  latest: Nullable(
    Type.Object({
      version: Type.String(),
      url: Type.String({ description: 'the bundle (absolute)' }),
      sha256: Type.String(),
      size: Nullable(Type.Integer()),
      notes: Nullable(Type.String()),
    }),
  ),
  updateAvailable: Type.Boolean({ description: 'the channel offers a newer version than the one running' }),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() }), { description: 'why the last check failed' }),
});
export type ChannelStatus = Static<typeof ChannelStatusSchema>;

export const InstallPhaseSchema = Type.Union([
  Type.Literal('idle'),
  Type.Literal('receiving'),
  Type.Literal('downloading'),
  Type.Literal('verifying'),
  Type.Literal('installing'),
  Type.Literal('installed'),
  Type.Literal('rebooting'),
  Type.Literal('failed'),
]);
export type InstallPhase = Static<typeof InstallPhaseSchema>;

export const InstallProgressSchema = Type.Object({
  running: Type.Boolean(),
  phase: InstallPhaseSchema,
  percent: Nullable(Type.Integer({ minimum: 0, maximum: 100 }), { description: 'of the phase (download, then install)' }),
  message: Nullable(Type.String()),
  version: Nullable(Type.String(), { description: 'version being installed' }),
});
export type InstallProgress = Static<typeof InstallProgressSchema>;

export const OutcomeSchema = Type.Object({
  kind: Type.Union([Type.Literal('updated'), Type.Literal('fell_back'), Type.Literal('install_failed'), Type.Literal('pending_reboot'), Type.Literal('checking')]),
  version: Type.String({ description: 'version the update was to' }),
  running: Type.String({ description: 'version running now' }),
  message: Type.String({ description: 'e.g. "updated to 1.3.0" or "update to 1.3.0 failed, running 1.2.0 again"' }),
});
export type Outcome = Static<typeof OutcomeSchema>;

export const OtaStatusSchema = Type.Object({
  version: Type.String({ description: 'firmware version running now' }),
  compatible: Type.String({ description: 'the bundles this box takes (RAUC compatible)' }),
  maxBundleBytes: Type.Integer({ description: 'largest bundle upload accepted' }),
  rauc: RaucStatusSchema,
  install: InstallProgressSchema,
  lastAttempt: Nullable(AttemptSchema, { description: 'the last install attempt and its result, kept on the data partition' }),
  outcome: Nullable(OutcomeSchema, { description: 'what became of the last update, in words for the page, MQTT and Home Assistant' }),
  rebootRequired: Type.Boolean({ description: 'an update is installed and runs after the next reboot (POST /api/ota/reboot)' }),
  settings: UpdateSettingsSchema,
  channel: ChannelStatusSchema,
  bootCheck: Type.Object(
    {
      state: Type.Union([Type.Literal('pending'), Type.Literal('checking'), Type.Literal('good'), Type.Literal('failed'), Type.Literal('not_a_box')]),
      detail: Nullable(Type.String()),
      at: Nullable(Type.String()),
    },
    { description: "this boot's self-check: good once it passed and RAUC marked the running slot good" },
  ),
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

/** What changes during an update, pushed on the bus (telemetry WebSocket `{type: "ota"}`, MQTT `<base>/update`). */
export const OtaSummarySchema = Type.Object({
  installedVersion: Type.String(),
  latestVersion: Type.String({ description: "the channel's version when it is newer, else the installed one" }),
  notes: Nullable(Type.String(), { description: "the channel's release notes for latestVersion" }),
  install: InstallProgressSchema,
  outcome: Nullable(OutcomeSchema),
  rebootRequired: Type.Boolean(),
});
export type OtaSummary = Static<typeof OtaSummarySchema>;
