import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { engineHealth } from '../../health/health.js';
import type { WebDeps } from '../app.js';
import type { TelemetryMessage, WholeState } from '../schemas.js';

const MAX_BUFFERED = 256 * 1024; // a slow client skips frames instead of queueing them

const MIDI_EVERY_MS = 100; // MIDI activity reaches the page at most 10 times a second, however fast it comes

/** Events sent with the whole state. */
const SNAPSHOT_EVENTS = 50;

/** Everything the page shows, as the box has it now. */
export function wholeState(deps: WebDeps): WholeState {
  const { ctx, engine, presets, ota, midi, health, doctor, history, latency } = deps;
  const h = health?.latest() ?? null;
  return {
    deviceId: ctx.config.deviceId,
    name: ctx.config.name,
    version: ctx.version,
    status: engine.status(),
    telemetry: engine.telemetry(),
    params: Object.fromEntries(engine.params().map((p) => [p.id, p.value])),
    state: presets?.state() ?? null,
    presets: presets?.list() ?? null,
    ab: presets ? { ...presets.abState(), diff: presets.abDiff() } : null,
    ota: ota?.summary() ?? null,
    midi: midi?.status() ?? null,
    // The system part as last sampled; the engine part live.
    health: h ? { ...h, engine: engineHealth(engine.status(), engine.telemetry()) } : null,
    doctor: doctor?.summary() ?? null,
    events: history?.eventList(0, SNAPSHOT_EVENTS) ?? [],
    xruns: history?.xrunCounts() ?? null,
    log: history?.logStateNow() ?? null,
    latency: latency?.settings() ?? null,
  };
}

export const telemetryRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, deps) => {
  const { ctx, engine, ota, midi, presets } = deps;
  app.get(
    '/ws/telemetry',
    {
      websocket: true,
      schema: {
        summary: 'The whole state first (type "snapshot"), then meters and status about 50 times a second, the spectrum about 20, parameter values, box state, presets, events, doctor, the box\'s name on change (WebSocket)',
      },
    },
    (socket) => {
      const send = (msg: TelemetryMessage) => {
        if (socket.readyState === socket.OPEN && socket.bufferedAmount < MAX_BUFFERED) socket.send(JSON.stringify(msg));
      };
      // Whole state first, so a page that (re)connects replaces everything it shows; then the
      // messages an older page expects first.
      send({ type: 'snapshot', data: wholeState(deps) });
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
      const sendAb = () => {
        if (presets) send({ type: 'ab', data: { ...presets.abState(), diff: presets.abDiff() } });
      };
      const offs = [
        ctx.bus.on('midiActivity', 'web', sendMidi),
        ctx.bus.on('midiChanged', 'web', sendMidi),
        ctx.bus.on('telemetry', 'web', (frame) => send({ type: 'telemetry', data: frame })),
        ctx.bus.on('spectrum', 'web', (spectrum) => send({ type: 'spectrum', data: spectrum })),
        ctx.bus.on('engineStatus', 'web', (status) => send({ type: 'status', data: status })),
        ctx.bus.on('paramsChanged', 'web', () => send({ type: 'params', data: Object.fromEntries(engine.params().map((p) => [p.id, p.value])) })),
        ctx.bus.on('stateChanged', 'web', (state) => {
          send({ type: 'state', data: state });
          sendAb();
        }),
        ctx.bus.on('presetsChanged', 'web', () => {
          if (presets) send({ type: 'presets', data: presets.list() });
          sendAb();
        }),
        ctx.bus.on('otaChanged', 'web', (summary) => send({ type: 'ota', data: summary })),
        ctx.bus.on('health', 'web', (h) => send({ type: 'health', data: h })),
        ctx.bus.on('doctor', 'web', (d) => send({ type: 'doctor', data: d })),
        ctx.bus.on('boxEvent', 'web', (e) => send({ type: 'event', data: e })),
        ctx.bus.on('xrunCounts', 'web', (x) => send({ type: 'xruns', data: x })),
        ctx.bus.on('latencyMeasured', 'web', (l) => send({ type: 'latency', data: l })),
        ctx.bus.on('boxInfo', 'web', (info) => send({ type: 'info', data: info })),
      ];
      socket.on('close', () => {
        offs.forEach((off) => off());
        clearTimeout(midiTimer);
      });
    },
  );
};
