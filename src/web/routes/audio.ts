import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ProfileNameSchema, ProfileSettingsSchema, engineProfiles, profileOf } from '../../engine/profiles.js';
import { EngineStatusSchema } from '../../engine/telemetry.js';
import type { EngineService, EngineIoPatch } from '../../engine/engine-service.js';
import { LatencyResultSchema, LatencySettingsSchema } from '../../engine/latency-measure.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

export const AudioSettingsSchema = Type.Object({
  profile: Type.Union([ProfileNameSchema, Type.Literal('custom')]),
  rate: Type.Integer(),
  frames: Type.Integer(),
  periods: Type.Integer(),
  device: Type.String({ description: 'ALSA device, e.g. hw:Gen' }),
  backend: Type.String(),
  profiles: Type.Record(Type.String(), Type.Composite([ProfileSettingsSchema, Type.Object({ description: Type.String() })]), {
    description: 'what each profile sets, as the engine declares it',
  }),
  engine: EngineStatusSchema,
});
export type AudioSettings = Static<typeof AudioSettingsSchema>;

export const AudioPatchSchema = Type.Object(
  {
    profile: Type.Optional(ProfileNameSchema),
    rate: Type.Optional(Type.Integer({ minimum: 8000, maximum: 384000 })),
    frames: Type.Optional(Type.Integer({ minimum: 16, maximum: 4096 })),
    periods: Type.Optional(Type.Integer({ minimum: 2, maximum: 16 })),
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_:,=.-]+$' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export function audioSettings(engine: EngineService): AudioSettings {
  const c = engine.ioConfig();
  const profiles = engineProfiles(c.binary);
  return {
    profile: profileOf(c, profiles),
    rate: c.rate,
    frames: c.frames,
    periods: c.periods,
    device: c.device,
    backend: c.backend,
    profiles: { ...profiles },
    engine: engine.status(),
  };
}

export const audioRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, { engine, latency }) => {
  app.get(
    '/api/audio',
    { schema: { summary: 'The I/O profile (rate, period, periods) and the audio device', response: { 200: AudioSettingsSchema } } },
    async () => audioSettings(engine),
  );

  app.put(
    '/api/audio',
    {
      schema: {
        summary: 'Change the profile and/or the device; the engine restarts with the same parameters',
        description: 'A profile sets rate, frames and periods; explicit rate/frames/periods override it. Answers once the engine runs again.',
        body: AudioPatchSchema,
        response: { 200: AudioSettingsSchema, 400: ErrorSchema, 422: ErrorSchema, 500: ErrorSchema, 503: ErrorSchema, 507: ErrorSchema },
      },
    },
    async (request) => {
      const { profile, ...rest } = request.body;
      let patch: EngineIoPatch = { ...rest };
      if (profile) {
        const { rate, frames, periods } = engineProfiles(engine.ioConfig().binary)[profile];
        patch = { rate, frames, periods, ...rest };
      }
      await engine.reconfigure(patch, profile ? `profile ${profile}` : 'audio settings changed');
      return audioSettings(engine);
    },
  );

  if (!latency) return;

  app.get(
    '/api/audio/latency',
    { schema: { summary: 'The last round-trip measurement, and the last one that found the signal (kept on /data)', response: { 200: LatencySettingsSchema } } },
    async () => latency.settings(),
  );

  app.post(
    '/api/audio/latency',
    {
      schema: {
        summary: 'Measure the round trip (output to input, through a cable): the engine stops for about a second, then runs again with the same parameters',
        description:
          'hushbox-engine latency: a maximum-length sequence is played and found in the input by cross-correlation. Answers the result (also kept, GET /api/audio/latency); 422 latency_not_found when the signal did not come back (no cable); 409 on a backend other than ALSA (or the sim device, whose simulated cable the tests use).',
        response: { 200: LatencyResultSchema, 409: ErrorSchema, 422: ErrorSchema, 500: ErrorSchema, 503: ErrorSchema, 507: ErrorSchema },
      },
    },
    async () => latency.measure(),
  );
};
