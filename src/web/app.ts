import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HushboxError } from '../errors.js';
import type { AuthService } from '../auth/auth-service.js';
import type { EngineService } from '../engine/engine-service.js';
import type { HealthService } from '../health/health-service.js';
import type { OtaService } from '../ota/ota-service.js';
import type { SystemService } from '../system/system-service.js';
import type { PresetsService } from '../presets/presets-service.js';
import type { ServiceContext } from '../service.js';
import { installGuard, SESSION_COOKIE } from './guard.js';
import { audioRoutes } from './routes/audio.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { otaRoutes } from './routes/ota.js';
import { paramsRoutes } from './routes/params.js';
import { systemRoutes } from './routes/system.js';
import { presetsRoutes } from './routes/presets.js';
import { statusRoutes } from './routes/status.js';
import { staticRoutes } from './routes/static.js';
import { telemetryRoutes } from './routes/telemetry.js';

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
}

export type App = FastifyInstance;

/** The HTTP app as a plugin tree, built without listening; tests use inject(). */
export async function buildApp(deps: WebDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Request logs (info) stay quiet; warnings and errors from handlers still show.
    loggerInstance: deps.ctx.log.child({ service: 'web' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

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
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket);

  app.setErrorHandler((err: FastifyError | HushboxError, request, reply) => {
    if (err instanceof HushboxError) {
      if (err.statusCode >= 500) request.log.warn({ code: err.code }, err.message);
      return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    }
    if (err.validation) {
      return reply.code(400).send({ error: 'invalid_input', message: `${err.validationContext ?? 'request'} ${err.message}` });
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
  if (deps.ota) await app.register(otaRoutes, { ...deps, ota: deps.ota });
  await app.register(staticRoutes);
  return app;
}
