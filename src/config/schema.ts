import { Type, type Static } from '@sinclair/typebox';

export const EngineConfigSchema = Type.Object(
  {
    binary: Type.String({ minLength: 1, description: 'path of hushbox-engine' }),
    backend: Type.Union([Type.Literal('sim'), Type.Literal('alsa'), Type.Literal('file')]),
    device: Type.String({ description: 'ALSA device, e.g. hw:Gen' }),
    input: Type.String({ description: 'sim backend input: demo, tone, tone:HZ[:DBFS], noise, silence or a WAV path' }),
    rate: Type.Integer({ minimum: 8000, maximum: 384000 }),
    frames: Type.Integer({ minimum: 16, maximum: 4096 }),
    periods: Type.Integer({ minimum: 2, maximum: 16 }),
    channels: Type.Integer({ minimum: 1, maximum: 8 }),
    priority: Type.Integer({ minimum: 0, maximum: 99, description: 'SCHED_FIFO priority of the audio thread; 0 for none' }),
    cpu: Type.Integer({ minimum: -1, description: 'CPU for the audio thread; -1 to leave it free' }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    deviceId: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'MQTT base topic and unique ids' }),
    name: Type.String({ minLength: 1, maxLength: 64 }),
    http: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Type.Integer({ minimum: 0, maximum: 65535 }),
      },
      { additionalProperties: false },
    ),
    engine: EngineConfigSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type EngineConfig = Static<typeof EngineConfigSchema>;
