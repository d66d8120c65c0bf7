import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EngineError } from '../../errors.js';
import { ScarlettControlsSchema, ScarlettPatchSchema, type ScarlettPatch } from '../../system/scarlett.js';
import { SystemReportSchema, type SystemService } from '../../system/system-service.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

function system(deps: WebDeps): SystemService {
  if (!deps.system) throw new EngineError('system_unavailable', 'the system service is not running');
  return deps.system;
}

/** 48V into a dynamic or ribbon mic, or the interface turned into a USB stick: the password again first. */
export function isDangerousScarlettPatch(patch: ScarlettPatch | undefined): boolean {
  return patch?.msd !== undefined || (patch?.inputs ?? []).some((i) => i.phantom !== undefined);
}

export const systemRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, deps) => {
  app.get(
    '/api/system',
    { schema: { summary: 'System tuning steps (done / skipped / failed, and why), the audio core, the audio interface', response: { 200: SystemReportSchema, 503: ErrorSchema } } },
    async () => system(deps).report(),
  );

  app.get(
    '/api/scarlett',
    {
      schema: {
        summary: "The Scarlett's hardware controls (scarlett2 mixer driver): input gain, Line/Inst, Air, 48V, direct monitor, MSD mode",
        response: { 200: ScarlettControlsSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async () => system(deps).requireMixer().read(),
  );

  app.put(
    '/api/scarlett',
    {
      config: { confirm: (request) => isDangerousScarlettPatch(request.body as ScarlettPatch | undefined) },
      schema: {
        summary: 'Set hardware controls; the whole change is checked before anything is written',
        description: '48V phantom power and MSD mode need a recent password (POST /api/auth/confirm, 5 minutes); a token cannot change them.',
        body: ScarlettPatchSchema,
        response: { 200: ScarlettControlsSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => system(deps).requireMixer().apply(request.body),
  );
};
