import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { noSpaceError } from '../config/data-space.js';
import { HushboxError } from '../errors.js';
import type { AuthService } from '../auth/auth-service.js';
import type { EngineService } from '../engine/engine-service.js';
import type { LatencyMeasure } from '../engine/latency-measure.js';
import type { DoctorWatch } from '../health/doctor-watch.js';
import type { HealthService } from '../health/health-service.js';
import type { HistoryService } from '../history/history-service.js';
import type { MidiService } from '../midi/midi-service.js';
import type { OtaService } from '../ota/ota-service.js';
import type { SystemService } from '../system/system-service.js';
import type { PresetsService } from '../presets/presets-service.js';
import type { ServiceContext } from '../service.js';
import { CompiledSchemas, compiledSchemasDir } from './compiled-schemas.js';
import { installGuard, SESSION_COOKIE } from './guard.js';
import { audioRoutes } from './routes/audio.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { midiRoutes } from './routes/midi.js';
import { mqttRoutes } from './routes/mqtt.js';
import { otaRoutes } from './routes/ota.js';
import { paramsRoutes } from './routes/params.js';
import { systemRoutes } from './routes/system.js';
import { presetsRoutes } from './routes/presets.js';
import { statusRoutes } from './routes/status.js';
import { streamRoutes } from './routes/stream.js';
import { recordingsRoutes } from './routes/recordings.js';
import type { RecordingsService } from '../recording/recordings-service.js';
import type { StreamService } from '../stream/stream-service.js';
import { staticRoutes } from './routes/static.js';
import { telemetryRoutes } from './routes/telemetry.js';
import { historyRoutes } from './routes/history.js';
import { settingsRoutes, type SettingsAccess } from './routes/settings.js';

/** What the routes need from the rest of the supervisor. */
export interface WebDeps {
  ctx: ServiceContext;
  engine: EngineService;
  /** The owner account: every route but the public ones needs its session or a token (src/web/guard.ts). */
  auth: AuthService;
  /** Health sampling; /api/health answers 503 without it. */
  health?: HealthService;
  /** System tuning and the Scarlett; /api/system and /api/scarlett answer 503 without it. */
  system?: SystemService;
  /** Absent in tests of other routes; then /api/presets, /api/ab and /api/state are not served. */
  presets?: PresetsService;
  /** The MQTT connection; /metrics leaves hushbox_mqtt_connected out without it. */
  mqtt?: { connected(): boolean };
  /** Update bundles; /api/ota is not served without it. */
  ota?: OtaService;
  /** MIDI control; /api/midi is not served without it. */
  midi?: MidiService;
  /** The audio stream; /api/stream is not served without it. */
  stream?: StreamService;
  /** Recording takes; /api/recordings is not served without it. */
  recordings?: RecordingsService;
  /** Session logs, events, xrun totals; /api/history, /api/events and /api/xruns are not served without it. */
  history?: HistoryService;
  /** The round-trip measurement; /api/audio/latency is not served without it. */
  latency?: LatencyMeasure;
  /** The doctor run now and then: its warnings in the whole state and /api/doctor/summary. */
  doctor?: DoctorWatch;
  /** The box's name and MQTT broker (the front panel's Settings); /api/settings/box is not served without it. */
  settings?: SettingsAccess;
  /** The routes' validators and serializers compiled ahead (the image's build/web-schemas; src/web/compiled-schemas.ts). */
  schemas?: CompiledSchemas;
}

export type App = FastifyInstance;

/** Largest WebSocket message a client may send. */
export const WS_MAX_PAYLOAD_BYTES = 4096;

/** Server timeouts (Node's http server; fastify leaves requestTimeout off by default). */
export const HTTP_TIMEOUTS = {
  /** The whole request, body included: a 1 GiB bundle at 1.2 MB/s. */
  requestMs: 15 * 60_000,
  headersMs: 20_000,
  keepAliveMs: 5_000,
};

interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * What was wrong with a request, for people: one clause per field, e.g.
 * "body.value: must be number or boolean; body: unexpected property 'x'"
 * (ajv's own text reads "body body/value must be number, body/value must be
 * boolean, body/value must match a schema in anyOf").
 */
export function validationMessage(context: string, errors: readonly SchemaError[]): string {
  const byField = new Map<string, string[]>();
  const add = (field: string, text: string) => {
    const list = byField.get(field) ?? [];
    if (!list.includes(text)) list.push(text);
    byField.set(field, list);
  };
  for (const e of errors) {
    const field = `${context}${e.instancePath.replace(/\//g, '.').replace(/~1/g, '/').replace(/~0/g, '~')}`;
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') continue; // said by the errors of its branches
    if (e.keyword === 'additionalProperties') add(field, `unexpected property '${String(e.params.additionalProperty)}'`);
    else if (e.keyword === 'required') add(`${field}.${String(e.params.missingProperty)}`, 'is required');
    else if (e.keyword === 'type') add(field, `must be ${String(e.params.type)}`);
    else if (e.keyword === 'const' || e.keyword === 'enum') add(field, `must be ${JSON.stringify(e.params.allowedValue ?? e.params.allowedValues)}`);
    else add(field, e.message ?? e.keyword);
  }
  if (byField.size === 0) return `${context}: not valid`;
  return [...byField]
    .slice(0, 8)
    .map(([field, texts]) => {
      const types = texts.filter((t) => t.startsWith('must be ')).map((t) => t.slice('must be '.length));
      const rest = texts.filter((t) => !t.startsWith('must be '));
      return `${field}: ${[...(types.length ? [`must be ${types.join(' or ')}`] : []), ...rest].join(', ')}`;
    })
    .join('; ');
}

/** The HTTP app as a plugin tree, built without listening; tests use inject(). */
export async function buildApp(deps: WebDeps): Promise<FastifyInstance> {
  const schemas = deps.schemas ?? new CompiledSchemas(compiledSchemasDir);
  const app = Fastify({
    // Request logs (info) stay quiet; warnings and errors from handlers still show.
    loggerInstance: deps.ctx.log.child({ service: 'web' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Nothing from outside holds a connection for ever. The whole request (an update bundle included)
    // must arrive within requestTimeout; its headers within headersTimeout (below); an idle kept-alive
    // connection closes after keepAliveTimeout. A bundle upload that stalls is cut sooner (ota/bundle.ts).
    requestTimeout: HTTP_TIMEOUTS.requestMs,
    keepAliveTimeout: HTTP_TIMEOUTS.keepAliveMs,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    // The image's compiled validators and serializers, when it has them: most of building this app.
    ...(schemas.present() ? { schemaController: { compilersFactory: schemas.factories() } } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.server.headersTimeout = HTTP_TIMEOUTS.headersMs;

  // First, so that every route registered after it (swagger-ui's too) goes through it.
  await installGuard(app, { ctx: deps.ctx, auth: deps.auth });

  await app.register(swagger, {
    openapi: {
      servers: [{ url: '/', description: 'this box' }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'the owner session, from POST /api/auth/login' },
          token: { type: 'http', scheme: 'bearer', description: 'an API token made on the front panel or with POST /api/auth/tokens' },
        },
      },
      security: [{ session: [] }, { token: [] }],
      info: {
        title: 'hushbox',
        description:
          'The front panel and automation API of a hushbox. Live meters and status: WebSocket /ws/telemetry ' +
          '(JSON messages {type: "telemetry"|"status"|"params", data}, about 50 per second).',
        version: deps.ctx.version,
      },
    },
  });
  // BaseLayout: swagger-ui's default top bar draws its logo as an inline SVG holding a <style>, which
  // the box's CSP (style-src 'self', no unsafe-inline) refuses; the top bar's other use, loading another
  // document by URL, is nothing the box's own docs need.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { layout: 'BaseLayout' } });
  // The telemetry socket only sends; a client message larger than this closes it (1009) as soon as its
  // frame header says so, before any of it is buffered (a 90 MB frame would otherwise be held whole).
  await app.register(websocket, { options: { maxPayload: WS_MAX_PAYLOAD_BYTES } });

  app.setErrorHandler((err: FastifyError | HushboxError, request, reply) => {
    if (err instanceof HushboxError) {
      if (err.statusCode >= 500) request.log.warn({ code: err.code }, err.message);
      return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
      const e = noSpaceError(deps.ctx.dataDir, `${request.method} ${request.url.split('?')[0]}`);
      request.log.warn({ code: e.code }, e.message);
      return reply.code(e.statusCode).send({ error: e.code, message: e.message });
    }
    if (err.validation) {
      return reply.code(400).send({ error: 'invalid_input', message: validationMessage(err.validationContext ?? 'request', err.validation) });
    }
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? 'bad_request', message: err.message });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  await app.register(authRoutes, deps);
  await app.register(statusRoutes, deps);
  await app.register(paramsRoutes, deps);
  if (deps.presets) await app.register(presetsRoutes, { ...deps, presets: deps.presets });
  await app.register(telemetryRoutes, deps);
  await app.register(audioRoutes, deps);
  await app.register(healthRoutes, deps);
  await app.register(systemRoutes, deps);
  await app.register(metricsRoutes, deps);
  await app.register(mqttRoutes, deps);
  if (deps.ota) await app.register(otaRoutes, { ...deps, ota: deps.ota });
  if (deps.midi) await app.register(midiRoutes, { ...deps, midi: deps.midi });
  if (deps.stream) await app.register(streamRoutes, { ...deps, stream: deps.stream });
  if (deps.recordings) await app.register(recordingsRoutes, { ...deps, recordings: deps.recordings });
  if (deps.history) await app.register(historyRoutes, { ...deps, history: deps.history });
  if (deps.settings) await app.register(settingsRoutes, { ...deps, settings: deps.settings });
  await app.register(staticRoutes);
  return app;
}
