import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AuthService } from '../../auth/auth-service.js';
import { MAX_PASSWORD } from '../../auth/password.js';
import { AuthError } from '../../errors.js';
import type { WebDeps } from '../app.js';
import { SESSION_COOKIE, passwordRateLimit } from '../guard.js';
import { ErrorSchema } from '../schemas.js';

const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD, description: "the owner's password" });
const AuthStateSchema = Type.Object({
  setUp: Type.Boolean({ description: 'whether the owner password is set (false: the page asks for one)' }),
  loggedIn: Type.Boolean({ description: 'whether this request comes from the owner (session, token or the Unix socket)' }),
  via: Type.Optional(Type.Union([Type.Literal('session'), Type.Literal('token'), Type.Literal('socket')])),
  token: Type.Optional(Type.String({ description: "the token's name, when the request carries one" })),
  confirmedUntil: Type.Optional(Type.String({ description: 'until when dangerous actions need no password (session)' })),
});
const TokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created: Type.String({ format: 'date-time' }),
  lastUsed: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const NewTokenSchema = Type.Composite([TokenSchema, Type.Object({ token: Type.String({ description: 'the secret: shown this once, stored only as its hash' }) })]);
const SettingsSchema = Type.Object({ metricsPublic: Type.Boolean({ description: 'anyone on the network may read /metrics' }) }, { additionalProperties: false });
const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema };

function state(auth: AuthService, request: FastifyRequest) {
  const a = request.actor;
  const at = request.session?.get('confirmedAt');
  return {
    setUp: auth.hasOwner(),
    loggedIn: a !== undefined,
    ...(a && a.via !== 'anonymous' ? { via: a.via } : {}),
    ...(a?.token !== undefined ? { token: a.token } : {}),
    ...(a?.via === 'session' && typeof at === 'number' ? { confirmedUntil: new Date(at + 5 * 60_000).toISOString() } : {}),
  };
}

/** Log the owner in on this client: a new session id (no fixation), the password counts as a confirmation. */
async function startSession(request: FastifyRequest): Promise<void> {
  await request.session.regenerate();
  request.session.set('owner', true);
  request.session.set('confirmedAt', Date.now());
  request.actor = { user: 'owner', via: 'session', address: request.ip };
}

export const authRoutes: FastifyPluginAsyncTypebox<WebDeps & { auth: AuthService }> = async (app, { auth }) => {
  const limited = passwordRateLimit(app);

  app.get('/api/auth', { schema: { summary: 'Whether the owner password is set and whether this client is logged in', security: [], response: { 200: AuthStateSchema } } }, async (request) =>
    state(auth, request),
  );

  app.post(
    '/api/auth/setup',
    {
      ...limited,
      schema: {
        summary: 'Set the owner password (first visit only) and log in',
        description: 'Answers 409 already_set_up once a password exists. The password needs at least 8 characters.',
        security: [],
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 200: AuthStateSchema, 409: ErrorSchema, ...Errors },
      },
    },
    async (request) => {
      await auth.setOwnerPassword(request.body.password);
      await startSession(request);
      return state(auth, request);
    },
  );

  app.post(
    '/api/auth/login',
    {
      ...limited,
      schema: {
        summary: 'Log in with the owner password: sets an HttpOnly, SameSite=Strict session cookie',
        description: `At most 5 attempts a minute from one address and 20 from all together (429). The cookie is ${SESSION_COOKIE}.`,
        security: [],
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 200: AuthStateSchema, 409: ErrorSchema, ...Errors },
      },
    },
    async (request) => {
      if (!auth.hasOwner()) throw new AuthError('setup_required', 'no owner password yet: set one first', 409);
      if (!(await auth.checkPassword(request.body.password))) {
        auth.record('auth.login_failed', { address: request.ip });
        throw new AuthError('wrong_password', 'wrong password', 401);
      }
      await startSession(request);
      auth.record('auth.login', { address: request.ip });
      return state(auth, request);
    },
  );

  app.post(
    '/api/auth/logout',
    { schema: { summary: 'End this session', response: { 204: Type.Null(), ...Errors } } },
    async (request, reply) => {
      if (request.actor?.via === 'session') {
        auth.record('auth.logout');
        await request.session.destroy();
      }
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/auth/confirm',
    {
      ...limited,
      config: { ...limited.config, ownerOnly: true },
      schema: {
        summary: 'Enter the password again: 48V phantom power, MSD mode and firmware installs are allowed for 5 minutes',
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 200: AuthStateSchema, ...Errors },
      },
    },
    async (request) => {
      if (request.actor?.via !== 'session') throw new AuthError('session_required', 'confirmations belong to a session of the front panel', 403);
      if (!(await auth.checkPassword(request.body.password))) {
        auth.record('auth.confirm_failed', { address: request.ip });
        throw new AuthError('wrong_password', 'wrong password', 403);
      }
      request.session.set('confirmedAt', Date.now());
      return state(auth, request);
    },
  );

  app.put(
    '/api/auth/password',
    {
      ...limited,
      config: { ...limited.config, ownerOnly: true },
      schema: {
        summary: 'Change the owner password (needs the current one); every other session ends',
        body: Type.Object({ current: Password, password: Password }, { additionalProperties: false }),
        response: { 200: Type.Object({ sessionsEnded: Type.Integer() }), ...Errors },
      },
    },
    async (request) => auth.changePassword(request.body.current, request.body.password, request.actor?.via === 'session' ? request.session.sessionId : undefined),
  );

  app.get(
    '/api/auth/tokens',
    { config: { ownerOnly: true }, schema: { summary: 'The API tokens (never their secrets)', response: { 200: Type.Array(TokenSchema), ...Errors } } },
    async () => auth.tokens(),
  );

  app.post(
    '/api/auth/tokens',
    {
      config: { ownerOnly: true },
      schema: {
        summary: 'Create an API token; the secret is in this answer only (use it as Authorization: Bearer <token>)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]+$' }) }, { additionalProperties: false }),
        response: { 201: NewTokenSchema, 409: ErrorSchema, ...Errors },
      },
    },
    async (request, reply) => reply.code(201).send(auth.createToken(request.body.name)),
  );

  app.delete(
    '/api/auth/tokens/:id',
    {
      config: { ownerOnly: true },
      schema: { summary: 'Revoke an API token: it stops working at once', params: Type.Object({ id: Type.String() }), response: { 200: TokenSchema, 404: ErrorSchema, ...Errors } },
    },
    async (request) => auth.revokeToken(request.params.id),
  );

  app.get(
    '/api/auth/settings',
    { config: { ownerOnly: true }, schema: { summary: 'Access settings', response: { 200: SettingsSchema, ...Errors } } },
    async () => ({ metricsPublic: auth.metricsPublic() }),
  );

  app.put(
    '/api/auth/settings',
    {
      config: { ownerOnly: true },
      schema: { summary: 'Change access settings (anonymous /metrics)', body: SettingsSchema, response: { 200: SettingsSchema, ...Errors } },
    },
    async (request) => {
      auth.setMetricsPublic(request.body.metricsPublic);
      return { metricsPublic: auth.metricsPublic() };
    },
  );
};
