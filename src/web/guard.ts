// Who may do what over HTTP, in one place: the Host the request names, cross-site and bodiless
// writes, the owner's session or a bearer token, fresh confirmations for dangerous hardware
// actions, and the audit line saying who changed what. Every route goes through it; the list of
// routes anyone may call is PUBLIC below.
import type { Socket } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import session, { type FastifySessionOptions } from '@fastify/session';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CONFIRM_TTL_MS, SESSION_TTL_MS, type AuthService } from '../auth/auth-service.js';
import { runAs, type Actor } from '../auth/actor.js';
import { AuthError } from '../errors.js';
import type { ServiceContext } from '../service.js';

export const SESSION_COOKIE = 'hushbox_session';
/** The header a script sends on a write without a JSON body (a browser cannot send it cross-site without CORS). */
export const REQUEST_HEADER = 'x-hushbox-request';

declare module 'fastify' {
  interface Session {
    owner?: boolean;
    confirmedAt?: number;
  }
  interface FastifyRequest {
    /** Who is asking: set by the guard before any route runs (undefined on public routes when nobody logged in). */
    actor: Actor | undefined;
  }
  interface FastifyInstance {
    /** Every route the guard saw registered (method, pattern): what the tests walk to prove none is left open. */
    guardedRoutes: () => Array<{ method: string; url: string; websocket: boolean }>;
  }
  interface FastifyContextConfig {
    /** A dangerous action (48V, MSD mode, firmware install): needs a password entered within 5 minutes. */
    confirm?: boolean | ((request: FastifyRequest) => boolean);
    /** Only the owner (page session or the box's shell), never a token: password, tokens. */
    ownerOnly?: boolean;
  }
}

/** Sockets accepted on the box's Unix socket: requests on them are the owner's. */
export const localSockets = new WeakSet<Socket>();

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Routes anyone may call (method + route pattern). Everything else needs the owner's session or a
 * token; /metrics needs one unless the owner made it public.
 */
export function isPublic(method: string, url: string): boolean {
  if (method === 'GET' || method === 'HEAD') {
    if (url === '/' || url === '/assets/:file') return true; // the page itself, to log in or onboard
    // Read-only status, as the issue allows: the engine and stream state, the box's figures (CPU,
    // memory, disk, temperature) and the doctor's problems with their fixes. No secrets, no settings:
    // a box that cannot be onboarded or logged in to (a full /data) can still say what is wrong.
    if (url === '/api/status' || url === '/api/health' || url === '/api/doctor/summary') return true;
    if (url === '/api/auth') return true; // whether a password is set and whether this client is logged in
    if (url === '/docs' || url.startsWith('/docs/')) return true; // the API's documentation
  }
  if (method === 'POST' && (url === '/api/auth/login' || url === '/api/auth/setup')) return true;
  return false;
}

/** Writes the route audits itself (presets service, coalesced parameter changes): no generic line. */
const SELF_AUDITED = /^\/api\/(params|presets|ab)(\/|$)/;

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

/** "[::1]:8080" → "::1", "Box.local.:80" → "box.local". */
export function hostName(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  if (colon > 0 && h.indexOf(':') === colon) h = h.slice(0, colon);
  return h.replace(/\.$/, '');
}

/** The names this box answers to: its hostname (and .local), hushbox.local, localhost, its addresses, configured extras. */
export class HostNames {
  private cached: { at: number; names: Set<string> } | undefined;

  constructor(private readonly ctx: ServiceContext) {}

  names(): Set<string> {
    const now = Date.now();
    // Addresses change (DHCP, a cable plugged in): asked again every few seconds.
    if (this.cached && now - this.cached.at < 5000) return this.cached.names;
    const h = hostname().toLowerCase();
    const names = new Set([h, `${h}.local`, 'hushbox.local', 'localhost', '127.0.0.1', '::1']);
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address.toLowerCase().split('%')[0]);
    const bound = this.ctx.config.http.host;
    if (bound !== '0.0.0.0' && bound !== '::') names.add(bound.toLowerCase());
    for (const extra of this.ctx.config.auth?.allowedHosts ?? []) names.add(hostName(extra));
    this.cached = { at: now, names };
    return names;
  }

  allows(host: string | undefined): boolean {
    return host !== undefined && host !== '' && this.names().has(hostName(host));
  }
}

/** At most `max` attempts within `windowMs` from everybody together (the per-address limit is @fastify/rate-limit's). */
class GlobalWindow {
  private stamps: number[] = [];
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}
  take(): number | undefined {
    const now = Date.now();
    this.stamps = this.stamps.filter((t) => now - t < this.windowMs);
    if (this.stamps.length >= this.max) return Math.ceil((this.stamps[0] + this.windowMs - now) / 1000);
    this.stamps.push(now);
    return undefined;
  }
}

export interface GuardOptions {
  ctx: ServiceContext;
  auth: AuthService;
}

/** Password attempts per client address per minute (login, setup, confirm, password change). */
export const PASSWORD_ATTEMPTS_PER_ADDRESS = 5;
/** Password attempts per minute from all addresses together. */
export const PASSWORD_ATTEMPTS_GLOBAL = 20;

/** The preHandler that rate-limits a password route: per address (@fastify/rate-limit) and for everybody. */
export function passwordRateLimit(app: FastifyInstance): { config: { rateLimit: object }; onRequest: (r: FastifyRequest) => Promise<void> } {
  const global = (app as unknown as { hushboxGlobalLimit: GlobalWindow }).hushboxGlobalLimit;
  return {
    config: {
      rateLimit: {
        max: PASSWORD_ATTEMPTS_PER_ADDRESS,
        timeWindow: 60_000,
        errorResponseBuilder: (_req: FastifyRequest, c: { after: string }) =>
          new AuthError('rate_limited', `too many password attempts from this address; try again in ${c.after}`, 429),
      },
    },
    onRequest: async () => {
      const wait = global.take();
      if (wait !== undefined) throw new AuthError('rate_limited', `too many password attempts on this box; try again in ${wait} s`, 429);
    },
  };
}

/** Install the guard on the root app, before any route is registered. */
export async function installGuard(app: FastifyInstance, { ctx, auth }: GuardOptions): Promise<void> {
  const hosts = new HostNames(ctx);
  app.decorate('hushboxGlobalLimit', new GlobalWindow(PASSWORD_ATTEMPTS_GLOBAL, 60_000));
  await app.register(helmet, {
    // The page and /docs load only their own scripts, styles and connections; nothing from outside.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // The box speaks plain HTTP on the LAN: no HSTS, no upgrade of its own requests to https.
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  });
  await app.register(rateLimit, { global: false });
  await app.register(cookie);
  await app.register(session, {
    secret: auth.sessionSecret(),
    cookieName: SESSION_COOKIE,
    // Our store keeps the owner's sessions on the data partition; its data is plain JSON.
    store: auth.sessions as unknown as NonNullable<FastifySessionOptions['store']>,
    saveUninitialized: false,
    rolling: false,
    // secure: the box has no TLS of its own; SameSite=Strict keeps the cookie off every cross-site request.
    cookie: { httpOnly: true, sameSite: 'strict', secure: false, path: '/', maxAge: SESSION_TTL_MS },
  });
  app.decorateRequest('actor', undefined);
  const routes: Array<{ method: string; url: string; websocket: boolean }> = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, websocket: (r as { websocket?: boolean }).websocket === true });
  });
  app.decorate('guardedRoutes', () => [...routes]);

  app.addHook('onRequest', async (request) => {
    const local = localSockets.has(request.raw.socket);
    const method = request.method;
    const upgrade = (request.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if (!local) {
      // DNS rebinding: a page of evil.example resolved to this box still names evil.example.
      if (!hosts.allows(request.headers.host)) {
        throw new AuthError('forbidden_host', `Host '${request.headers.host ?? ''}' is not a name of this box (use its name, hushbox.local or its address)`, 403);
      }
      if (MUTATING.has(method) || upgrade) {
        const origin = request.headers.origin;
        if (origin !== undefined) {
          let same = false;
          try {
            // Through URL on both sides, so that "http://[::1]" and Host "[::1]:80" compare equal.
            same = new URL(origin).host === new URL(`${new URL(origin).protocol}//${request.headers.host ?? ''}`).host;
          } catch {
            // 'null' and other non-URLs are not this box
          }
          if (!same) throw new AuthError('cross_origin', `requests from ${origin} may not change this box`, 403);
        }
        const site = request.headers['sec-fetch-site'];
        if (site !== undefined && site !== 'same-origin' && site !== 'none') {
          throw new AuthError('cross_origin', `a ${site} request may not change this box`, 403);
        }
      }
    }
    if (MUTATING.has(method) && mediaType(request.headers['content-type']) !== 'application/json' && request.headers[REQUEST_HEADER] !== '1') {
      // A form or text/plain POST is what another site can make a browser send; JSON and custom headers need CORS, which the box never grants.
      throw new AuthError('request_header_required', `send a JSON body (content-type: application/json) or the header '${REQUEST_HEADER}: 1'`, 403);
    }

    request.actor = identify(request, local);
    const url = request.routeOptions.url;
    if (url === undefined) return; // no such route: the 404 answers
    if (request.actor === undefined) {
      if (isPublic(method, url) || (url === '/metrics' && auth.metricsPublic())) return;
      if (!auth.hasOwner()) throw new AuthError('setup_required', 'no owner password yet: open the front panel to set one', 401);
      throw new AuthError('unauthorized', 'log in on the front panel, or send Authorization: Bearer <token>', 401);
    }
    if (request.actor.via === 'token' && request.routeOptions.config.ownerOnly) {
      throw new AuthError('owner_only', 'a token cannot do this: log in on the front panel (or use the shell on the box)', 403);
    }
  });

  function identify(request: FastifyRequest, local: boolean): Actor | undefined {
    if (local) return { user: 'owner', via: 'socket' };
    const address = request.ip;
    const authz = request.headers.authorization;
    if (authz !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
      const token = m ? auth.authenticateToken(m[1]) : undefined;
      if (!token) throw new AuthError('invalid_token', 'the bearer token is unknown or revoked', 401);
      return { token: token.name, via: 'token', address };
    }
    if (request.session?.get('owner') === true && auth.hasOwner()) return { user: 'owner', via: 'session', address };
    return undefined;
  }

  // After the body is parsed and validated: dangerous actions, then the route runs as its actor
  // (AsyncLocalStorage), so the audit lines written while it runs say who.
  app.addHook('preHandler', (request, _reply, done) => {
    const confirm = request.routeOptions.config.confirm;
    const actor = request.actor;
    if (confirm && actor && actor.via !== 'socket' && (confirm === true || confirm(request))) {
      if (actor.via === 'token') {
        return done(new AuthError('confirmation_required', 'tokens cannot switch 48V phantom power or MSD mode, install firmware or change the MQTT broker: do it on the front panel or in the shell on the box', 403));
      }
      const at = request.session.get('confirmedAt');
      if (typeof at !== 'number' || Date.now() - at > CONFIRM_TTL_MS) {
        return done(new AuthError('confirmation_required', 'enter the password again to confirm this (POST /api/auth/confirm); a confirmation lasts 5 minutes', 403));
      }
    }
    if (!actor) return done();
    runAs(actor, () => done());
  });

  // Who changed what, for every write that succeeded and does not audit itself.
  app.addHook('onResponse', async (request, reply) => {
    // A refused WebSocket upgrade: its socket left HTTP's hands at the upgrade, so nothing else would close it.
    if ((request.headers.upgrade ?? '').toLowerCase() === 'websocket' && reply.statusCode >= 400) request.raw.socket.destroySoon();
    const url = request.routeOptions.url;
    if (!MUTATING.has(request.method) || url === undefined || reply.statusCode >= 400 || SELF_AUDITED.test(url) || url.startsWith('/api/auth')) return;
    const actor = request.actor;
    runAs(actor ?? { via: 'anonymous', address: request.ip }, () =>
      auth.record('http.request', { method: request.method, route: url, url: request.url, status: reply.statusCode }),
    );
  });
}
