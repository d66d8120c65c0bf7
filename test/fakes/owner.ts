// Tests that call the API as the owner: the real guard, onboarded the way the page does it.
import type { FastifyInstance, InjectOptions } from 'fastify';
import { AuthService } from '../../src/auth/auth-service.js';
import { buildApp, type WebDeps } from '../../src/web/app.js';

export const TEST_PASSWORD = 'correct horse battery staple';

/** The session cookie ("name=value") from a set-cookie header. */
export function sessionCookie(setCookie: string | string[] | undefined): string {
  const first = (Array.isArray(setCookie) ? setCookie : [setCookie ?? '']).find((c) => c.startsWith('hushbox_session='));
  if (!first) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`);
  return first.split(';')[0];
}

/** An AuthService over the context's data directory, started. */
export async function startedAuth(ctx: WebDeps['ctx']): Promise<AuthService> {
  const auth = new AuthService(ctx);
  await auth.start();
  return auth;
}

/**
 * buildApp with the owner onboarded (POST /api/auth/setup, as the page does) and every inject()
 * sent with the owner's session cookie and the request header of the page, unless the test sets
 * them itself. The session is fresh, so dangerous actions are confirmed for 5 minutes.
 */
export async function buildOwnerApp(deps: Omit<WebDeps, 'auth'> & { auth?: AuthService }): Promise<FastifyInstance & { ownerCookie: string; auth: AuthService }> {
  const auth = deps.auth ?? (await startedAuth(deps.ctx));
  const app = await buildApp({ ...deps, auth });
  // A second app over the same data directory finds the owner set up already: it logs in.
  const res = await app.inject({ method: 'POST', url: auth.hasOwner() ? '/api/auth/login' : '/api/auth/setup', payload: { password: TEST_PASSWORD } });
  if (res.statusCode !== 200) throw new Error(`onboarding failed: ${res.statusCode} ${res.body}`);
  const cookie = sessionCookie(res.headers['set-cookie']);
  const raw = app.inject.bind(app) as (o: InjectOptions) => ReturnType<FastifyInstance['inject']>;
  const inject = (o: InjectOptions | string) => {
    const opts = typeof o === 'string' ? { url: o } : o;
    return raw({ ...opts, headers: { cookie, 'x-hushbox-request': '1', ...opts.headers } });
  };
  return Object.assign(app, { inject, ownerCookie: cookie, auth }) as unknown as FastifyInstance & { ownerCookie: string; auth: AuthService };
}
