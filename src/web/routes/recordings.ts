import { createReadStream } from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CurrentTakeSchema, RecordingsSchema, StartTakeSchema, TakeNameSchema } from '../../recording/schema.js';
import type { RecordingsService } from '../../recording/recordings-service.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

const NameParams = Type.Object({ name: TakeNameSchema });

export const recordingsRoutes: FastifyPluginAsyncTypebox<WebDeps & { recordings: RecordingsService }> = async (app, { recordings }) => {
  app.get(
    '/api/recordings',
    { schema: { summary: 'The takes on the data partition, the current (or last) take, and the free space', response: { 200: RecordingsSchema } } },
    async () => recordings.list(),
  );

  app.post(
    '/api/recordings/start',
    {
      schema: {
        summary: 'Start a take (source mic by default, WAV 24-bit by default), named by date and preset',
        body: Type.Optional(StartTakeSchema),
        response: { 200: CurrentTakeSchema, 400: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => recordings.startTake(request.body ?? {}),
  );

  app.post(
    '/api/recordings/stop',
    { schema: { summary: 'Stop the take; answers once the file is finished', response: { 200: CurrentTakeSchema, 409: ErrorSchema, 503: ErrorSchema } } },
    async () => recordings.stopTake(),
  );

  app.get(
    '/api/recordings/:name',
    {
      schema: {
        summary: 'A take (audio/wav or audio/flac); ?download=1 as an attachment',
        params: NameParams,
        querystring: Type.Object({ download: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0')])) }),
        produces: ['audio/wav', 'audio/flac'],
        response: { 200: { description: 'the file', content: { 'audio/wav': { schema: Type.String() }, 'audio/flac': { schema: Type.String() } } }, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const f = recordings.file(request.params.name);
      reply.type(f.format === 'flac' ? 'audio/flac' : 'audio/wav').header('content-length', String(f.bytes));
      if (request.query.download === '1') reply.header('content-disposition', `attachment; filename="${request.params.name}"`);
      // A stream, not the schema's string: fastify sends it as it reads (a take can be gigabytes).
      return reply.send(createReadStream(f.path) as unknown as string);
    },
  );

  app.delete(
    '/api/recordings/:name',
    { schema: { summary: 'Delete a take (not the one recording)', params: NameParams, response: { 204: Type.Null(), 404: ErrorSchema, 409: ErrorSchema } } },
    async (request, reply) => {
      recordings.remove(request.params.name);
      return reply.code(204).send(null);
    },
  );
};
