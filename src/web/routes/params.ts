import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HushboxError, NotFoundError } from '../../errors.js';
import type { EngineService } from '../../engine/engine-service.js';
import { ParamSchema } from '../../engine/params.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema, ParamErrorSchema, ParamIdSchema, ParamListSchema, ParamPatchSchema, ParamsAppliedSchema, ParamValueSchema } from '../schemas.js';

/** Apply, or answer the error with the values the box still has (the page puts its controls back to them). */
async function setOrAnswer(
  engine: EngineService,
  values: Record<string, unknown>,
  reply: { code(n: number): unknown },
): Promise<{ applied: Record<string, number> } | { error: string; message: string; current: Record<string, number> }> {
  try {
    return { applied: await engine.setParams(values, 'http') };
  } catch (err) {
    if (!(err instanceof HushboxError)) throw err;
    const now = new Map(engine.params().map((p) => [p.id, p.value]));
    const current = Object.fromEntries(Object.keys(values).filter((id) => now.has(id)).map((id) => [id, now.get(id)!]));
    reply.code(err.statusCode);
    return { error: err.code, message: err.message, current };
  }
}

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
        description: 'An error answer carries `current`: the value the box still has, to put the control back.',
        response: { 200: ParamsAppliedSchema, 400: ParamErrorSchema, 404: ParamErrorSchema, 503: ParamErrorSchema },
      },
    },
    async (request, reply) => setOrAnswer(engine, { [request.params.id]: request.body.value }, reply),
  );

  app.patch(
    '/api/params',
    {
      schema: {
        summary: 'Set several parameters at once, applied together at one block boundary',
        body: ParamPatchSchema,
        description: 'An error answer carries `current`: the values the box still has for the parameters named, to put the controls back.',
        response: { 200: ParamsAppliedSchema, 400: ParamErrorSchema, 404: ParamErrorSchema, 503: ParamErrorSchema },
      },
    },
    async (request, reply) => setOrAnswer(engine, request.body.values, reply),
  );
};
