import { Type, type Static } from '@sinclair/typebox';
import { ParamSchema } from '../engine/params.js';
import { BoxStateSchema } from '../presets/state.js';
import { EngineStatusSchema, TelemetryFrameSchema } from '../engine/telemetry.js';
import { OtaSummarySchema } from '../ota/schema.js';
import { MidiStatusSchema } from '../midi/schema.js';

export const ErrorSchema = Type.Object({
  error: Type.String({ description: 'stable error code' }),
  message: Type.String({ description: 'what was wrong, for people' }),
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

/** A message on /ws/telemetry. */
export const TelemetryMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('telemetry'), data: TelemetryFrameSchema }),
  Type.Object({ type: Type.Literal('status'), data: EngineStatusSchema }),
  Type.Object({ type: Type.Literal('params'), data: Type.Record(Type.String(), Type.Number()) }),
  Type.Object({ type: Type.Literal('state'), data: BoxStateSchema }),
  Type.Object({ type: Type.Literal('ota'), data: OtaSummarySchema }),
  Type.Object({ type: Type.Literal('midi'), data: MidiStatusSchema }),
]);
export type TelemetryMessage = Static<typeof TelemetryMessageSchema>;
