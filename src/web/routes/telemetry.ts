import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WebDeps } from '../app.js';
import type { TelemetryMessage } from '../schemas.js';

const MAX_BUFFERED = 256 * 1024; // a slow client skips frames instead of queueing them

export const telemetryRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, { ctx, engine, ota }) => {
  app.get('/ws/telemetry', { websocket: true, schema: { summary: 'Meters and status about 50 times a second, parameter values and box state on change (WebSocket)' } }, (socket) => {
    const send = (msg: TelemetryMessage) => {
      if (socket.readyState === socket.OPEN && socket.bufferedAmount < MAX_BUFFERED) socket.send(JSON.stringify(msg));
    };
    send({ type: 'status', data: engine.status() });
    send({ type: 'params', data: Object.fromEntries(engine.params().map((p) => [p.id, p.value])) });
    if (ota) send({ type: 'ota', data: ota.summary() });
    const offs = [
      ctx.bus.on('telemetry', 'web', (frame) => send({ type: 'telemetry', data: frame })),
      ctx.bus.on('engineStatus', 'web', (status) => send({ type: 'status', data: status })),
      ctx.bus.on('paramsChanged', 'web', () => send({ type: 'params', data: Object.fromEntries(engine.params().map((p) => [p.id, p.value])) })),
      ctx.bus.on('stateChanged', 'web', (state) => send({ type: 'state', data: state })),
      ctx.bus.on('otaChanged', 'web', (summary) => send({ type: 'ota', data: summary })),
    ];
    socket.on('close', () => offs.forEach((off) => off()));
  });
};
