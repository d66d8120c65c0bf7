import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { dataReserveBytes, freeBytes } from '../../config/data-space.js';
import type { WebDeps } from '../app.js';
import { StatusSchema, type Status } from '../schemas.js';

export function currentStatus({ ctx, engine }: WebDeps): Status {
  return {
    deviceId: ctx.config.deviceId,
    name: ctx.config.name,
    version: ctx.version,
    uptimeS: Math.round((Date.now() - ctx.startedAt.getTime()) / 100) / 10,
    engine: engine.status(),
    telemetry: engine.telemetry(),
    params: Object.fromEntries(engine.params().map((p) => [p.id, p.value])),
    dataFull: (freeBytes(ctx.dataDir) ?? Infinity) < dataReserveBytes(),
  };
}

export const statusRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, deps) => {
  app.get(
    '/api/status',
    { schema: { summary: 'Engine state, stream settings, meters, heartbeats and parameters', response: { 200: StatusSchema } } },
    async () => currentStatus(deps),
  );
};
