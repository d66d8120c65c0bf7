import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BoxSettingsPatchSchema, BoxSettingsSchema, type BoxSettings, type BoxSettingsPatch } from '../../config/box-settings.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

export interface SettingsAccess {
  get(): BoxSettings;
  apply(patch: BoxSettingsPatch): Promise<BoxSettings>;
}

/** A change of broker or login sends the box's commands and state elsewhere: the password again first. */
export function isBrokerChange(patch: BoxSettingsPatch | undefined): boolean {
  return patch?.mqtt !== undefined;
}

export const settingsRoutes: FastifyPluginAsyncTypebox<WebDeps & { settings: SettingsAccess }> = async (app, { settings }) => {
  app.get(
    '/api/settings/box',
    { schema: { summary: "The box's name and its MQTT broker (the address, the user, whether a password is set, whether connected)", response: { 200: BoxSettingsSchema } } },
    async () => settings.get(),
  );

  app.put(
    '/api/settings/box',
    {
      config: { confirm: (request) => isBrokerChange(request.body as BoxSettingsPatch | undefined) },
      schema: {
        summary: "Rename the box, or change its MQTT broker and login; applied at once (the client connects again) and kept in <data>/box-settings.json, over config.json",
        description: 'A change of broker or login needs a recent password (POST /api/auth/confirm); a token cannot make it. HUSHBOX_MQTT_URL in the environment still names the broker at the next start.',
        body: BoxSettingsPatchSchema,
        response: { 200: BoxSettingsSchema, 400: ErrorSchema, 403: ErrorSchema, 507: ErrorSchema },
      },
    },
    async (request) => settings.apply(request.body),
  );
};
