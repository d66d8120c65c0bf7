// The owner account on the page: onboarding (first password), login, logout, change password,
// API tokens (made, shown once, revoked), the anonymous /metrics setting, and the password asked
// again before a dangerous action. Its own module and its own card; app.js only calls request().
const HEADERS = { 'x-hushbox-request': '1' };

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

async function raw(method, url, body) {
  const res = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? HEADERS : { ...HEADERS, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  return { res, data };
}

class ApiError extends Error {
  constructor(status, data, fallback) {
    super(data?.message ?? fallback);
    this.status = status;
    this.code = data?.error;
  }
}

/**
 * One API call as the owner. A 401 (the session ended: logout elsewhere, password changed) shows the
 * login again; a 403 confirmation_required asks for the password and retries once.
 */
export async function request(method, url, body) {
  let { res, data } = await raw(method, url, body);
  if (res.status === 403 && data?.error === 'confirmation_required') {
    await confirmPassword(data.message);
    ({ res, data } = await raw(method, url, body));
  }
  if (res.status === 401 && !url.startsWith('/api/auth/')) {
    location.reload();
  }
  if (!res.ok) throw new ApiError(res.status, data, res.statusText);
  return data;
}

// ---------- onboarding and login: a page of its own before the panel ----------
function gate(kind) {
  return new Promise((resolve) => {
    const onboarding = kind === 'setup';
    const password = el('input', { type: 'password', id: 'gate-password', name: 'password', autocomplete: onboarding ? 'new-password' : 'current-password', required: true, minLength: onboarding ? 8 : 1 });
    const repeat = el('input', { type: 'password', id: 'gate-repeat', name: 'repeat', autocomplete: 'new-password', required: true, minLength: 8 });
    const error = el('p', { id: 'gate-error', className: 'error', role: 'alert', hidden: true });
    const submit = el('button', { type: 'submit', id: 'gate-submit' }, onboarding ? 'Set password' : 'Log in');
    const form = el(
      'form',
      { id: onboarding ? 'onboarding' : 'login', className: 'card gate-form' },
      el('h2', {}, onboarding ? 'Welcome to your hushbox' : 'Log in'),
      el('p', { className: 'dim' }, onboarding
        ? 'Choose the owner password. Only the owner can change anything on this box; automation uses tokens you make later.'
        : 'Enter the owner password. Forgot it? Put an empty file named hushbox-reset-password on the boot partition and restart the box.'),
      el('label', { htmlFor: 'gate-password' }, onboarding ? 'New password (at least 8 characters)' : 'Password'),
      password,
      ...(onboarding ? [el('label', { htmlFor: 'gate-repeat' }, 'Repeat it'), repeat] : []),
      error,
      submit,
    );
    const page = el('div', { id: 'gate', className: 'gate' }, form);
    document.body.append(page);
    document.body.classList.add('gated');
    password.focus();
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      if (onboarding && password.value !== repeat.value) {
        error.textContent = 'The two passwords differ.';
        error.hidden = false;
        return;
      }
      submit.disabled = true;
      const { res, data } = await raw('POST', onboarding ? '/api/auth/setup' : '/api/auth/login', { password: password.value });
      submit.disabled = false;
      if (res.ok) {
        page.remove();
        document.body.classList.remove('gated');
        resolve(data);
        return;
      }
      if (data?.error === 'already_set_up') {
        location.reload();
        return;
      }
      error.textContent = data?.message ?? res.statusText;
      error.hidden = false;
      password.select();
    });
  });
}

/** Resolves once this page is the owner's: onboarding on a new box, login otherwise. */
export async function ensureOwner() {
  const { data } = await raw('GET', '/api/auth');
  if (data?.loggedIn) return data;
  return gate(data?.setUp ? 'login' : 'setup');
}

// ---------- the password again, before 48V, MSD mode or a firmware install ----------
function confirmPassword(why) {
  return new Promise((resolve, reject) => {
    const password = el('input', { type: 'password', id: 'confirm-password', autocomplete: 'current-password', required: true });
    const error = el('p', { className: 'error', role: 'alert', hidden: true });
    const cancel = el('button', { type: 'button' }, 'Cancel');
    const form = el('form', { className: 'card gate-form', id: 'confirm' },
      el('h2', {}, 'Confirm with your password'),
      el('p', { className: 'dim' }, why ?? 'This action needs your password.'),
      password, error,
      el('div', { className: 'row' }, el('button', { type: 'submit' }, 'Confirm'), cancel));
    const page = el('div', { className: 'gate' }, form);
    document.body.append(page);
    password.focus();
    cancel.addEventListener('click', () => {
      page.remove();
      reject(new Error('not confirmed'));
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const { res, data } = await raw('POST', '/api/auth/confirm', { password: password.value });
      if (res.ok) {
        page.remove();
        resolve();
      } else {
        error.textContent = data?.message ?? res.statusText;
        error.hidden = false;
      }
    });
  });
}

/** Ask for the password unless this session confirmed it within the last minutes (before an upload, which cannot be retried). */
export async function ensureConfirmed() {
  const { data } = await raw('GET', '/api/auth');
  if (data?.via !== 'session') return;
  if (data.confirmedUntil && Date.parse(data.confirmedUntil) - Date.now() > 30_000) return;
  await confirmPassword('Installing firmware needs your password.');
}

// ---------- the Access card: logout, password, tokens, /metrics ----------
function fmtTime(iso) {
  return iso ? new Date(iso).toLocaleString() : 'never';
}

async function renderTokens(list, note) {
  const tokens = await request('GET', '/api/auth/tokens');
  list.replaceChildren(
    ...(tokens.length
      ? tokens.map((t) => {
          const revoke = el('button', { type: 'button', className: 'revoke', title: `Revoke ${t.name}` }, 'Revoke');
          revoke.addEventListener('click', async () => {
            await request('DELETE', `/api/auth/tokens/${encodeURIComponent(t.id)}`);
            note.hidden = true;
            await renderTokens(list, note);
          });
          return el('li', { className: 'token' },
            el('span', { className: 'token-name' }, t.name),
            el('span', { className: 'dim' }, `made ${fmtTime(t.created)} · last used ${fmtTime(t.lastUsed)}`),
            revoke);
        })
      : [el('li', { className: 'dim' }, 'No tokens.')]),
  );
}

/** The Access card, appended to `parent`. */
export async function mountAccess(parent, owner) {
  const status = el('p', { className: 'dim', id: 'access-who' }, owner.via === 'session' ? 'Logged in as the owner.' : `Using ${owner.via}.`);
  const logout = el('button', { type: 'button', id: 'logout' }, 'Log out');
  logout.addEventListener('click', async () => {
    await raw('POST', '/api/auth/logout');
    location.reload();
  });

  const current = el('input', { type: 'password', id: 'pw-current', autocomplete: 'current-password', required: true });
  const next = el('input', { type: 'password', id: 'pw-new', autocomplete: 'new-password', required: true, minLength: 8 });
  const pwMsg = el('p', { id: 'pw-message', role: 'status', hidden: true });
  const pwForm = el('form', { id: 'password-form', className: 'stack' },
    el('label', { htmlFor: 'pw-current' }, 'Current password'), current,
    el('label', { htmlFor: 'pw-new' }, 'New password'), next,
    el('button', { type: 'submit' }, 'Change password'), pwMsg);
  pwForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await request('PUT', '/api/auth/password', { current: current.value, password: next.value });
      pwMsg.className = '';
      pwMsg.textContent = `Password changed; ${r.sessionsEnded} other session(s) ended.`;
      current.value = next.value = '';
    } catch (err) {
      pwMsg.className = 'error';
      pwMsg.textContent = err.message;
    }
    pwMsg.hidden = false;
  });

  const list = el('ul', { id: 'tokens', className: 'tokens' });
  const name = el('input', { type: 'text', id: 'token-name', placeholder: 'e.g. home-assistant', required: true, maxLength: 64 });
  const secret = el('input', { type: 'text', id: 'token-secret', readOnly: true });
  const note = el('div', { id: 'token-new', className: 'token-new', hidden: true },
    el('p', {}, 'Copy this token now: it is shown only once. Send it as Authorization: Bearer <token>.'), secret);
  const tokenForm = el('form', { id: 'token-form', className: 'row' }, el('label', { htmlFor: 'token-name', className: 'sr-only' }, 'Token name'), name, el('button', { type: 'submit' }, 'Make token'));
  tokenForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const t = await request('POST', '/api/auth/tokens', { name: name.value });
      secret.value = t.token;
      note.hidden = false;
      name.value = '';
      secret.select();
      await renderTokens(list, note);
    } catch (err) {
      secret.value = '';
      note.hidden = false;
      note.firstChild.textContent = err.message;
    }
  });

  const metrics = el('input', { type: 'checkbox', id: 'metrics-public' });
  metrics.addEventListener('change', async () => {
    try {
      const s = await request('PUT', '/api/auth/settings', { metricsPublic: metrics.checked });
      metrics.checked = s.metricsPublic;
    } catch {
      metrics.checked = !metrics.checked;
    }
  });

  const card = el('section', { className: 'card', id: 'access', 'aria-labelledby': 'access-title' },
    el('h2', { id: 'access-title' }, 'Access'),
    el('div', { className: 'row' }, status, logout),
    el('h2', { className: 'sub' }, 'Password'), pwForm,
    el('h2', { className: 'sub' }, 'API tokens'), list, tokenForm, note,
    el('h2', { className: 'sub' }, 'Metrics'),
    el('label', { className: 'switch', htmlFor: 'metrics-public' }, metrics, 'Anyone on the network may read /metrics'));
  parent.append(card);
  if (owner.via === 'token') return; // tokens cannot manage tokens; the shell and the page can
  metrics.checked = (await request('GET', '/api/auth/settings')).metricsPublic;
  await renderTokens(list, note);
}
