import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EngineError } from '../../errors.js';
import { ScarlettControlsSchema, ScarlettPatchSchema } from '../../system/scarlett.js';
import { SystemReportSchema, type SystemService } from '../../system/system-service.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

function system(deps: WebDeps): SystemService {
  if (!deps.system) throw new EngineError('system_unavailable', 'the system service is not running');
  return deps.system;
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
      schema: {
        summary: 'Set hardware controls; the whole change is checked before anything is written',
        body: ScarlettPatchSchema,
        response: { 200: ScarlettControlsSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => system(deps).requireMixer().apply(request.body),
  );
};
