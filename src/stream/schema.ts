import { Type, type Static } from '@sinclair/typebox';
import { StreamTelemetrySchema } from '../engine/telemetry.js';

export const StreamSourceSchema = Type.Union([Type.Literal('mic_raw'), Type.Literal('mic'), Type.Literal('mix')], {
  description: 'mic_raw: the mic before processing; mic: the mic strip after processing (the clean voice); mix: the output mix, as mono',
});

const fields = {
  source: StreamSourceSchema,
  rate: Type.Union([Type.Literal(16000), Type.Literal(48000)], { description: 'Hz a client gets unless it asks for the other' }),
  format: Type.Union([Type.Literal('s16le'), Type.Literal('f32')], { description: 's16le (Wyoming width 2) or f32 (width 4, data.format "f32le")' }),
  tcp: Type.Object(
    {
      enabled: Type.Boolean({ description: 'listen on TCP too (off by default); clients must send the stream token first' }),
      host: Type.String({ description: 'numeric address to listen on', pattern: '^[0-9a-fA-F.:]+$', maxLength: 64 }),
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
    },
    { additionalProperties: false },
  ),
  stuckMs: Type.Integer({ minimum: 500, maximum: 60000, description: 'a client that takes nothing this long is dropped' }),
  backlogMs: Type.Integer({ minimum: 100, maximum: 10000, description: 'audio kept for a slow client before its oldest is dropped' }),
};

/** The stream's settings, kept in <data>/stream.json. */
export const StreamSettingsSchema = Type.Object({ schema: Type.Literal(1), ...fields }, { additionalProperties: false });
export type StreamSettings = Static<typeof StreamSettingsSchema>;

export const StreamPatchSchema = Type.Object(
  {
    source: Type.Optional(fields.source),
    rate: Type.Optional(fields.rate),
    format: Type.Optional(fields.format),
    tcp: Type.Optional(Type.Partial(fields.tcp, { additionalProperties: false })),
    stuckMs: Type.Optional(fields.stuckMs),
    backlogMs: Type.Optional(fields.backlogMs),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type StreamPatch = Static<typeof StreamPatchSchema>;

export const StreamStatusSchema = Type.Object({
  settings: StreamSettingsSchema,
  socket: Type.String({ description: 'the Unix socket clients connect to' }),
  tokenSet: Type.Boolean({ description: 'a TCP stream token exists (POST /api/stream/token makes a new one)' }),
  engine: Type.Union([StreamTelemetrySchema, Type.Null()], { description: 'counters and clients; null while no engine runs' }),
});
export type StreamStatus = Static<typeof StreamStatusSchema>;

export const DEFAULT_STREAM_SETTINGS: StreamSettings = {
  schema: 1,
  source: 'mic',
  rate: 16000,
  format: 's16le',
  tcp: { enabled: false, host: '0.0.0.0', port: 10710 },
  stuckMs: 5000,
  backlogMs: 2000,
};
