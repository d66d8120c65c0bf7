import { Type, type Static } from '@sinclair/typebox';

export const RecordSourceSchema = Type.Union([Type.Literal('mic_raw'), Type.Literal('mic'), Type.Literal('mix'), Type.Literal('all')], {
  description: 'mic_raw: the mic before processing; mic: after (the clean voice); mix: the outputs; all: raw mic, clean mic and the outputs as separate channels',
});
export const RecordFormatSchema = Type.Union([Type.Literal('wav'), Type.Literal('flac')], { description: 'WAV 24-bit PCM or FLAC 24-bit, at the engine rate' });

export const StartTakeSchema = Type.Object(
  { source: Type.Optional(RecordSourceSchema), format: Type.Optional(RecordFormatSchema) },
  { additionalProperties: false },
);
export type StartTake = Static<typeof StartTakeSchema>;

/** A take's file name: what the box makes, and all a request may name. */
export const TakeNameSchema = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,150}\\.(wav|flac)$', description: 'a file in the recordings directory' });

export const TakeSchema = Type.Object({
  name: TakeNameSchema,
  format: RecordFormatSchema,
  bytes: Type.Integer(),
  createdAt: Type.String({ description: 'ISO time the file was last written' }),
  rate: Type.Union([Type.Integer(), Type.Null()]),
  channels: Type.Union([Type.Integer(), Type.Null()]),
  durationS: Type.Union([Type.Number(), Type.Null()], { description: 'from the header; null when it does not say' }),
  recording: Type.Boolean({ description: 'the take in progress' }),
});
export type Take = Static<typeof TakeSchema>;

export const CurrentTakeSchema = Type.Object({
  state: Type.Union([Type.Literal('idle'), Type.Literal('recording'), Type.Literal('stopped'), Type.Literal('failed')]),
  reason: Type.Union([
    Type.Literal('requested'),
    Type.Literal('disk_full'),
    Type.Literal('engine_stop'),
    Type.Literal('write_error'),
    Type.Literal('open_error'),
    Type.Null(),
  ], { description: 'why the last take ended' }),
  name: Type.Union([Type.String(), Type.Null()]),
  source: RecordSourceSchema,
  format: RecordFormatSchema,
  channels: Type.Integer(),
  rate: Type.Integer(),
  seconds: Type.Number({ description: 'audio in the file, gaps included' }),
  gaps: Type.Number({ description: 'write stalls longer than the ring, each written as silence' }),
  gapSeconds: Type.Number(),
  ringSeconds: Type.Number({ description: 'the longest write stall the take absorbs' }),
});
export type CurrentTake = Static<typeof CurrentTakeSchema>;

export const RecordingsSchema = Type.Object({
  current: Type.Union([CurrentTakeSchema, Type.Null()], { description: 'the take in progress or the last one; null while no engine runs' }),
  takes: Type.Array(TakeSchema),
  disk: Type.Object({
    freeBytes: Type.Number(),
    totalBytes: Type.Number(),
    marginBytes: Type.Number({ description: 'a take stops before free space falls under this' }),
  }),
});
export type Recordings = Static<typeof RecordingsSchema>;
