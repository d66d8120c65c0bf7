// The owner account: onboarding (first password) and login before the panel, then the Access card:
// logout, change password, API tokens (made, shown once, revoked), anonymous /metrics.
import { useEffect, useState } from 'preact/hooks';
import { api, raw } from '../api.js';
import { html } from '../html.js';

export function Gate({ kind, onDone }) {
  const onboarding = kind === 'setup';
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    setError('');
    if (onboarding && password !== repeat) return setError('The two passwords differ.');
    setBusy(true);
    const { res, data } = await raw('POST', onboarding ? '/api/auth/setup' : '/api/auth/login', { password });
    setBusy(false);
    if (res.ok) return onDone(data);
    if (data?.error === 'already_set_up') return location.reload();
    setError(data?.message ?? res.statusText);
  };
  return html`<div id="gate" class="gate">
    <form id=${onboarding ? 'onboarding' : 'login'} class="card gate-form" onSubmit=${submit}>
      <h2>${onboarding ? 'Welcome to your hushbox' : 'Log in'}</h2>
      <p class="dim">${onboarding
        ? 'Choose the owner password. Only the owner can change anything on this box; automation uses tokens you make later.'
        : 'Enter the owner password. Forgot it? Put an empty file named hushbox-reset-password on the boot partition and restart the box.'}</p>
      <label for="gate-password">${onboarding ? 'New password (at least 8 characters)' : 'Password'}</label>
      <input type="password" id="gate-password" name="password" autocomplete=${onboarding ? 'new-password' : 'current-password'} required minlength=${onboarding ? 8 : 1} autofocus
        value=${password} onInput=${(e) => setPassword(e.target.value)} />
      ${onboarding && html`<label for="gate-repeat">Repeat it</label>
        <input type="password" id="gate-repeat" name="repeat" autocomplete="new-password" required minlength="8" value=${repeat} onInput=${(e) => setRepeat(e.target.value)} />`}
      <p id="gate-error" class="error" role="alert" hidden=${!error}>${error}</p>
      <button type="submit" id="gate-submit" class="primary" disabled=${busy}>${onboarding ? 'Set password' : 'Log in'}</button>
    </form>
  </div>`;
}

const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');

export function AccessCard({ owner }) {
  const [tokens, setTokens] = useState([]);
  const [secret, setSecret] = useState(null);
  const [tokenError, setTokenError] = useState('');
  const [name, setName] = useState('');
  const [pw, setPw] = useState({ current: '', next: '', msg: '', error: false });
  const [metrics, setMetrics] = useState(false);
  const manage = owner.via !== 'token';
  const loadTokens = async () => setTokens(await api('GET', '/api/auth/tokens'));
  useEffect(() => {
    if (!manage) return;
    loadTokens();
    api('GET', '/api/auth/settings').then((s) => setMetrics(s.metricsPublic), () => {});
  }, []);
  const changePassword = async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('PUT', '/api/auth/password', { current: pw.current, password: pw.next });
      setPw({ current: '', next: '', msg: `Password changed; ${r.sessionsEnded} other session(s) ended.`, error: false });
    } catch (err) {
      setPw({ ...pw, msg: err.message, error: true });
    }
  };
  const makeToken = async (ev) => {
    ev.preventDefault();
    setTokenError('');
    try {
      const t = await api('POST', '/api/auth/tokens', { name });
      setSecret(t.token);
      setName('');
      await loadTokens();
    } catch (err) {
      setSecret(null);
      setTokenError(err.message);
    }
  };
  return html`<section class="card" id="access" aria-labelledby="access-title">
    <h2 id="access-title">Access</h2>
    <div class="row"><p class="dim" id="access-who">${owner.via === 'session' ? 'Logged in as the owner.' : `Using ${owner.via}.`}</p>
      <button type="button" id="logout" onClick=${async () => { await raw('POST', '/api/auth/logout'); location.reload(); }}>Log out</button></div>
    <h3>Password</h3>
    <form id="password-form" class="stack" onSubmit=${changePassword}>
      <label for="pw-current">Current password</label>
      <input type="password" id="pw-current" autocomplete="current-password" required value=${pw.current} onInput=${(e) => setPw({ ...pw, current: e.target.value })} />
      <label for="pw-new">New password</label>
      <input type="password" id="pw-new" autocomplete="new-password" required minlength="8" value=${pw.next} onInput=${(e) => setPw({ ...pw, next: e.target.value })} />
      <button type="submit">Change password</button>
      ${pw.msg && html`<p id="pw-message" role="status" class=${pw.error ? 'error' : ''}>${pw.msg}</p>`}
    </form>
    <h3>API tokens</h3>
    <ul id="tokens" class="tokens">
      ${tokens.length === 0 && html`<li class="dim">No tokens.</li>`}
      ${tokens.map((t) => html`<li class="token"><span class="token-name">${t.name}</span>
        <span class="dim">made ${fmtTime(t.created)} · last used ${fmtTime(t.lastUsed)}</span>
        <button type="button" class="revoke" title=${`Revoke ${t.name}`} onClick=${async () => { await api('DELETE', `/api/auth/tokens/${encodeURIComponent(t.id)}`); setSecret(null); await loadTokens(); }}>Revoke</button></li>`)}
    </ul>
    <form id="token-form" class="row" onSubmit=${makeToken}>
      <label for="token-name" class="sr-only">Token name</label>
      <input type="text" id="token-name" placeholder="e.g. home-assistant" required maxlength="64" value=${name} onInput=${(e) => setName(e.target.value)} />
      <button type="submit">Make token</button>
    </form>
    ${(secret || tokenError) && html`<div id="token-new" class="token-new">
      <p>${tokenError || 'Copy this token now: it is shown only once. Send it as Authorization: Bearer <token>.'}</p>
      ${secret && html`<input type="text" id="token-secret" readonly value=${secret} onFocus=${(e) => e.target.select()} />`}
    </div>`}
    <h3>Metrics</h3>
    <label class="switch" for="metrics-public"><input type="checkbox" role="switch" id="metrics-public" checked=${metrics} onChange=${async (e) => {
      const want = e.target.checked;
      try {
        setMetrics((await api('PUT', '/api/auth/settings', { metricsPublic: want })).metricsPublic);
      } catch {
        setMetrics(!want);
      }
    }} /><span class="knob"></span>Anyone on the network may read /metrics</label>
  </section>`;
}
