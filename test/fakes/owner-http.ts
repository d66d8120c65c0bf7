// Tests that drive a running supervisor over HTTP as its owner: onboarded the way the page does it.
import { TEST_PASSWORD, sessionCookie } from './owner.js';

interface Owner {
  cookie: string;
  token: string;
}
const owners = new Map<string, Owner>();

/** Set the owner password on a fresh box (POST /api/auth/setup; log in on one set up already) and make a token; later ownerFetch calls to it use them. */
export async function onboardOwner(base: string): Promise<Owner> {
  const origin = new URL(base).origin;
  // A box restarted over the same data directory has its owner already: log in instead.
  const { setUp } = (await (await fetch(`${origin}/api/auth`)).json()) as { setUp: boolean };
  const setup = await fetch(`${origin}/api/auth/${setUp ? 'login' : 'setup'}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: TEST_PASSWORD }) });
  if (setup.status !== 200) throw new Error(`onboarding ${origin}: ${setup.status} ${await setup.text()}`);
  const cookie = sessionCookie(setup.headers.getSetCookie());
  const made = await fetch(`${origin}/api/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ name: `tests-${Date.now()}-${Math.random().toString(36).slice(2, 6)}` }) });
  if (made.status !== 201) throw new Error(`token for ${origin}: ${made.status} ${await made.text()}`);
  const owner = { cookie, token: ((await made.json()) as { token: string }).token };
  owners.set(origin, owner);
  return owner;
}

/** The owner's headers for a box onboarded with onboardOwner: its session cookie and the page's request header. */
export function ownerHeaders(url: string): Record<string, string> {
  const owner = owners.get(new URL(url).origin);
  if (!owner) throw new Error(`${url}: no owner onboarded there (onboardOwner first)`);
  return { cookie: owner.cookie, 'x-hushbox-request': '1' };
}

/** fetch as the owner (session cookie, fresh: dangerous actions are confirmed); the test's own headers win. */
export function ownerFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...ownerHeaders(url), ...(init.headers as Record<string, string> | undefined) } });
}
