import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../errors.js';
import { ParamSchema } from '../../engine/params.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema, ParamIdSchema, ParamListSchema, ParamPatchSchema, ParamsAppliedSchema, ParamValueSchema } from '../schemas.js';

export const paramsRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, { engine }) => {
  app.get('/api/params', { schema: { summary: 'The parameter table with current values', response: { 200: ParamListSchema } } }, async () =>
    engine.params(),
  );

  app.get(
    '/api/params/:id',
    { schema: { summary: 'One parameter', params: ParamIdSchema, response: { 200: ParamSchema, 404: ErrorSchema } } },
    async (request) => {
      const p = engine.params().find((x) => x.id === request.params.id);
      if (!p) throw new NotFoundError(`unknown parameter: ${request.params.id}`);
      return p;
    },
  );

  app.put(
    '/api/params/:id',
    {
      schema: {
        summary: 'Set one parameter; answers once the engine applied it (ramped, no click)',
        params: ParamIdSchema,
        body: ParamValueSchema,
        response: { 200: ParamsAppliedSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => ({ applied: await engine.setParams({ [request.params.id]: request.body.value }, 'http') }),
  );

  app.patch(
    '/api/params',
    {
      schema: {
        summary: 'Set several parameters at once, applied together at one block boundary',
        body: ParamPatchSchema,
        response: { 200: ParamsAppliedSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => ({ applied: await engine.setParams(request.body.values, 'http') }),
  );
};
