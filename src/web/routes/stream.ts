import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { StreamPatchSchema, StreamStatusSchema } from '../../stream/schema.js';
import type { StreamService } from '../../stream/stream-service.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

export const streamRoutes: FastifyPluginAsyncTypebox<WebDeps & { stream: StreamService }> = async (app, { stream }) => {
  app.get(
    '/api/stream',
    { schema: { summary: 'The audio stream (Wyoming): settings, socket, counters and clients', response: { 200: StreamStatusSchema } } },
    async () => stream.status(),
  );

  app.put(
    '/api/stream',
    {
      schema: {
        summary: 'Change the stream settings',
        description: 'A new source applies at once; rate, format, TCP and timeouts restart the engine. Kept in <data>/stream.json.',
        body: StreamPatchSchema,
        response: { 200: StreamStatusSchema, 400: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => stream.update(request.body),
  );

  app.post(
    '/api/stream/token',
    {
      schema: {
        summary: 'Make a new TCP stream token and answer it (once); the old one stops working',
        description: 'A TCP client sends {"type": "hushbox-auth", "data": {"token": "..."}} as its first Wyoming event.',
        response: { 200: Type.Object({ token: Type.String() }) },
      },
    },
    async () => ({ token: stream.rotateToken() }),
  );
};
