import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WebDeps } from '../app.js';
import type { TelemetryMessage } from '../schemas.js';

const MAX_BUFFERED = 256 * 1024; // a slow client skips frames instead of queueing them

const MIDI_EVERY_MS = 100; // MIDI activity reaches the page at most 10 times a second, however fast it comes

export const telemetryRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, { ctx, engine, ota, midi }) => {
  app.get('/ws/telemetry', { websocket: true, schema: { summary: 'Meters and status about 50 times a second, the spectrum about 20, parameter values and box state on change (WebSocket)' } }, (socket) => {
    const send = (msg: TelemetryMessage) => {
      if (socket.readyState === socket.OPEN && socket.bufferedAmount < MAX_BUFFERED) socket.send(JSON.stringify(msg));
    };
    send({ type: 'status', data: engine.status() });
    send({ type: 'params', data: Object.fromEntries(engine.params().map((p) => [p.id, p.value])) });
    if (ota) send({ type: 'ota', data: ota.summary() });
    if (midi) send({ type: 'midi', data: midi.status() });
    let midiTimer: NodeJS.Timeout | undefined;
    const sendMidi = () => {
      if (!midi || midiTimer) return;
      midiTimer = setTimeout(() => {
        midiTimer = undefined;
        send({ type: 'midi', data: midi.status() });
      }, MIDI_EVERY_MS);
    };
    const offs = [
      ctx.bus.on('midiActivity', 'web', sendMidi),
      ctx.bus.on('midiChanged', 'web', sendMidi),
      ctx.bus.on('telemetry', 'web', (frame) => send({ type: 'telemetry', data: frame })),
      ctx.bus.on('spectrum', 'web', (spectrum) => send({ type: 'spectrum', data: spectrum })),
      ctx.bus.on('engineStatus', 'web', (status) => send({ type: 'status', data: status })),
      ctx.bus.on('paramsChanged', 'web', () => send({ type: 'params', data: Object.fromEntries(engine.params().map((p) => [p.id, p.value])) })),
      ctx.bus.on('stateChanged', 'web', (state) => send({ type: 'state', data: state })),
      ctx.bus.on('otaChanged', 'web', (summary) => send({ type: 'ota', data: summary })),
    ];
    socket.on('close', () => {
      offs.forEach((off) => off());
      clearTimeout(midiTimer);
    });
  });
};
