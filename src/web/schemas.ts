import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ParamSchema } from '../engine/params.js';
import { BoxStateSchema } from '../presets/state.js';
import { EngineStatusSchema, SpectrumSchema, TelemetryFrameSchema } from '../engine/telemetry.js';
import { OtaSummarySchema } from '../ota/schema.js';
import { MidiStatusSchema } from '../midi/schema.js';
import { AbDiffSchema, AbStateSchema, PresetEntrySchema } from '../presets/presets-service.js';
import { HealthSchema } from '../health/health.js';
import { LatencySettingsSchema } from '../engine/latency-measure.js';
import { DoctorSummarySchema } from '../health/doctor-watch.js';
import { BoxEventSchema, LogStateSchema, XrunCountsSchema } from '../history/schema.js';

export const ErrorSchema = Type.Object({
  error: Type.String({ description: 'stable error code' }),
  message: Type.String({ description: 'what was wrong, for people' }),
});

/** A parameter change that failed: the error, and the values the box still has, so the page can put its controls back. */
export const ParamErrorSchema = Type.Object({
  error: Type.String({ description: 'stable error code' }),
  message: Type.String({ description: 'what was wrong, for people' }),
  current: Type.Optional(
    Type.Record(Type.String(), Type.Number(), {
      description: 'the parameters the request named (those that exist), with the values the box runs with; absent when the request itself was malformed',
    }),
  ),
});

export const StatusSchema = Type.Object({
  deviceId: Type.String(),
  name: Type.String(),
  version: Type.String(),
  uptimeS: Type.Number(),
  engine: EngineStatusSchema,
  telemetry: Type.Union([TelemetryFrameSchema, Type.Null()]),
  params: Type.Record(Type.String(), Type.Number(), { description: 'every parameter and its value' }),
  dataFull: Type.Boolean({
    description: 'the data partition is below the reserve kept for settings: settings may not be saved, new presets, imports and uploads are refused (507); /api/health says how much is free',
  }),
});
export type Status = Static<typeof StatusSchema>;

export const ParamListSchema = Type.Array(ParamSchema);

export const ParamIdSchema = Type.Object({ id: Type.String({ description: 'parameter id, e.g. mic.trim.gain' }) });

export const ParamValueSchema = Type.Object(
  { value: Type.Union([Type.Number(), Type.Boolean()]) },
  { additionalProperties: false },
);

export const ParamPatchSchema = Type.Object(
  { values: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Boolean()]), { minProperties: 1 }) },
  { additionalProperties: false },
);

export const ParamsAppliedSchema = Type.Object({
  applied: Type.Record(Type.String(), Type.Number()),
});

const OrNull = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** Everything the page shows, sent first on every (re)connect of /ws/telemetry: a page that reconnects is never stale. */
export const WholeStateSchema = Type.Object({
  deviceId: Type.String(),
  name: Type.String(),
  version: Type.String(),
  status: EngineStatusSchema,
  telemetry: OrNull(TelemetryFrameSchema),
  params: Type.Record(Type.String(), Type.Number(), { description: 'every parameter and its value' }),
  state: OrNull(BoxStateSchema),
  presets: OrNull(Type.Array(PresetEntrySchema)),
  ab: OrNull(Type.Composite([AbStateSchema, Type.Object({ diff: AbDiffSchema })])),
  ota: OrNull(OtaSummarySchema),
  midi: OrNull(MidiStatusSchema),
  health: OrNull(HealthSchema),
  doctor: OrNull(DoctorSummarySchema),
  events: Type.Array(BoxEventSchema, { description: 'the latest events, newest last' }),
  xruns: OrNull(XrunCountsSchema),
  log: OrNull(Type.Omit(LogStateSchema, ['bytes'])),
  latency: OrNull(LatencySettingsSchema),
});
export type WholeState = Static<typeof WholeStateSchema>;

/** A message on /ws/telemetry. */
export const TelemetryMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('snapshot'), data: WholeStateSchema }),
  Type.Object({ type: Type.Literal('telemetry'), data: TelemetryFrameSchema }),
  Type.Object({ type: Type.Literal('spectrum'), data: SpectrumSchema }),
  Type.Object({ type: Type.Literal('status'), data: EngineStatusSchema }),
  Type.Object({ type: Type.Literal('params'), data: Type.Record(Type.String(), Type.Number()) }),
  Type.Object({ type: Type.Literal('state'), data: BoxStateSchema }),
  Type.Object({ type: Type.Literal('ota'), data: OtaSummarySchema }),
  Type.Object({ type: Type.Literal('midi'), data: MidiStatusSchema }),
  Type.Object({ type: Type.Literal('presets'), data: Type.Array(PresetEntrySchema) }),
  Type.Object({ type: Type.Literal('ab'), data: Type.Composite([AbStateSchema, Type.Object({ diff: AbDiffSchema })]) }),
  Type.Object({ type: Type.Literal('health'), data: HealthSchema }),
  Type.Object({ type: Type.Literal('doctor'), data: DoctorSummarySchema }),
  Type.Object({ type: Type.Literal('event'), data: BoxEventSchema }),
  Type.Object({ type: Type.Literal('xruns'), data: XrunCountsSchema }),
  Type.Object({ type: Type.Literal('latency'), data: LatencySettingsSchema }),
  Type.Object({ type: Type.Literal('info'), data: Type.Object({ name: Type.String(), deviceId: Type.String(), version: Type.String() }) }),
]);
export type TelemetryMessage = Static<typeof TelemetryMessageSchema>;
