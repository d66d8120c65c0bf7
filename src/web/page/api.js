// One API call as the owner: the session cookie, the request header the guard wants on writes, the
// login again on 401, and the password asked again on 403 confirmation_required (then retried once).
import { ask } from './dialog.js';

const HEADERS = { 'x-hushbox-request': '1' };

export class ApiError extends Error {
  constructor(status, data, fallback) {
    super(data?.message ?? fallback);
    this.status = status;
    this.code = data?.error;
  }
}

export async function raw(method, url, body, { timeoutMs = 0 } = {}) {
  const abort = timeoutMs ? new AbortController() : undefined;
  const timer = abort && setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? HEADERS : { ...HEADERS, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: abort?.signal,
    });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    return { res, data };
  } finally {
    clearTimeout(timer);
  }
}

/** Ask for the owner's password and confirm it for dangerous actions (48V, MSD, firmware). */
export async function confirmPassword(why) {
  const v = await ask({
    id: 'confirm',
    title: 'Confirm with your password',
    text: why ?? 'This action needs your password.',
    fields: [{ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', required: true }],
    confirm: 'Confirm',
    check: async ({ password }) => {
      const { res, data } = await raw('POST', '/api/auth/confirm', { password });
      return res.ok ? null : (data?.message ?? res.statusText);
    },
  });
  if (!v) throw new ApiError(403, { error: 'not_confirmed', message: 'not confirmed' });
}

export async function api(method, url, body) {
  let { res, data } = await raw(method, url, body);
  if (res.status === 403 && data?.error === 'confirmation_required') {
    await confirmPassword(data.message);
    ({ res, data } = await raw(method, url, body));
  }
  if (res.status === 401 && !url.startsWith('/api/auth/')) location.reload();
  if (!res.ok) throw new ApiError(res.status, data, res.statusText);
  return data;
}

/** Ask for the password unless this session confirmed it within the last minutes (before an upload, which cannot be retried). */
export async function ensureConfirmed(why = 'Installing firmware needs your password.') {
  const { data } = await raw('GET', '/api/auth');
  if (data?.via !== 'session') return;
  if (data.confirmedUntil && Date.parse(data.confirmedUntil) - Date.now() > 30_000) return;
  await confirmPassword(why);
}
