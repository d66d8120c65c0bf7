import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../errors.js';
import type { HistoryService } from '../../history/history-service.js';
import {
  EventListSchema,
  EventQuerySchema,
  HistoryQuerySchema,
  HistoryRangeSchema,
  SessionFileNameSchema,
  SessionListSchema,
  XrunCountsSchema,
} from '../../history/schema.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

const TYPES = { jsonl: 'application/x-ndjson', csv: 'text/csv; charset=utf-8' } as const;

export const historyRoutes: FastifyPluginAsyncTypebox<WebDeps & { history: HistoryService }> = async (app, { history }) => {
  app.get(
    '/api/history',
    {
      schema: {
        summary: 'A range of the session log, downsampled, columnar (uPlot): levels, gain reduction, DSP load, xruns, latency, temperature, restarts, drift',
        description: 'Without from/to: the last hour. The last two hours come from memory; older ranges from the files on /data.',
        querystring: HistoryQuerySchema,
        response: { 200: HistoryRangeSchema, 400: ErrorSchema },
      },
    },
    async (request) => history.query(request.query),
  );

  app.get(
    '/api/history/sessions',
    { schema: { summary: 'The session logs on /data (one session per supervisor start; JSON lines and CSV, rotated parts gzipped) and whether the log writes', response: { 200: SessionListSchema } } },
    async () => ({ log: await history.logState(), sessions: await history.sessions() }),
  );

  app.get(
    '/api/history/sessions/:name',
    {
      schema: {
        summary: 'Download one session log file (JSON lines or CSV, gzip for rotated parts), as an attachment',
        params: SessionFileNameSchema,
        produces: ['application/x-ndjson', 'text/csv', 'application/gzip'],
        response: {
          200: {
            description: 'the file',
            content: { 'application/x-ndjson': { schema: Type.String() }, 'text/csv': { schema: Type.String() }, 'application/gzip': { schema: Type.String() } },
          },
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const path = await history.file(name);
      const s = path ? await stat(path).catch(() => null) : null;
      if (!path || !s) throw new NotFoundError(`no session log ${name}`);
      reply
        .type(name.endsWith('.gz') ? 'application/gzip' : TYPES[name.includes('.csv') ? 'csv' : 'jsonl'])
        .header('content-disposition', `attachment; filename="${name}"`);
      // The file being written grows while it is sent: its length is not promised.
      if (name.endsWith('.gz')) reply.header('content-length', String(s.size));
      return reply.send(createReadStream(path) as unknown as string);
    },
  );

  app.get(
    '/api/events',
    {
      schema: {
        summary: 'What happened on the box, newest last: xruns (gathered), engine restarts and crashes, device lost/back, updates, presets applied, a full data partition, settings changed on the page',
        description: 'Kept on /data across restarts (the last 500). Also pushed on /ws/telemetry as {type: "event"}; an event that gathers more (xruns) is sent again with the same id.',
        querystring: EventQuerySchema,
        response: { 200: EventListSchema, 400: ErrorSchema },
      },
    },
    async (request) => ({ events: history.eventList(Number(request.query.since ?? 0), request.query.limit === undefined ? undefined : Math.max(1, Number(request.query.limit))), max: history.eventMax() }),
  );

  app.get(
    '/api/xruns',
    { schema: { summary: 'Xruns since the supervisor started and since the box was set up (the total survives restarts)', response: { 200: XrunCountsSchema } } },
    async () => history.xrunCounts(),
  );
};
