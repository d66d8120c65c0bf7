// The box's name and its MQTT broker (address, user, password, on/off), from /api/settings/box:
// applied at once by the box (its MQTT client connects again) and kept over config.json. A change
// of broker asks for the password again (the box's commands and state go wherever it points).
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { box, online, showMessage, useBox } from '../store.js';

function useSettings() {
  useBox('conn');
  const [s, setS] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    try {
      setS(await api('GET', '/api/settings/box'));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    if (online()) load();
  }, [box.connection]);
  return [s, error, load, setS];
}

/** The name: the header follows the box (another page may rename it); the field is the user's while they edit it. */
export function DeviceName() {
  const { info } = useBox('info', 'conn');
  const [draft, setDraft] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const value = draft ?? info?.name ?? '';
  const save = async (e) => {
    e.preventDefault();
    if (!value.trim()) {
      setError('Give the box a name.');
      return;
    }
    setBusy(true);
    try {
      const r = await api('PUT', '/api/settings/box', { name: value });
      setDraft(null);
      setError(null);
      showMessage(`Renamed to ${r.name}`);
    } catch (err) {
      setError(err.message);
    }
    setBusy(false);
  };
  return html`<form id="device-name-form" class="stack" onSubmit=${save}>
    <label for="device-name-input">Device name <span class="dim small">(Home Assistant's device, the page's title)</span></label>
    <div class="row">
      <input type="text" id="device-name-input" name="device-name" maxlength="64" autocomplete="off" value=${value} disabled=${!online() || busy} onInput=${(e) => setDraft(e.target.value)} />
      <button type="submit" id="device-name-save" disabled=${!online() || busy || draft === null || draft === info?.name}>Rename</button>
    </div>
    ${error && html`<p class="error" id="device-name-error">${error}</p>`}
  </form>`;
}

function brokerStatus(m) {
  if (!m.enabled) return 'MQTT is off: Home Assistant does not see the box.';
  const who = m.ownBroker ? " (the box's own broker)" : m.username ? ` as ${m.username}` : '';
  return m.connected ? `Connected to ${m.url}${who}.` : `Not connected to ${m.url}${who}: the box keeps trying.`;
}

/** The broker the box's MQTT client uses, and its login. */
export function BrokerSettings() {
  const [s, error, load, setS] = useSettings();
  const [form, setForm] = useState(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState(null);
  if (error) return html`<p class="dim">${error.message}</p>`;
  if (!s) return html`<p class="dim">…</p>`;
  const m = s.mqtt;
  const f = form ?? { enabled: m.enabled, url: m.url, username: m.username, password: '' };
  const edit = (k) => (e) => setForm({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setFormError(null);
    try {
      const patch = { enabled: f.enabled, url: f.url.trim(), username: f.username.trim() };
      if (f.password !== '') patch.password = f.password;
      const r = await api('PUT', '/api/settings/box', { mqtt: patch });
      setS(r);
      setForm(null);
      showMessage(r.mqtt.enabled ? (r.mqtt.connected ? `MQTT connected to ${r.mqtt.url}` : `MQTT set to ${r.mqtt.url}; not connected yet`) : 'MQTT off', r.mqtt.enabled && !r.mqtt.connected);
      // The client may need a few seconds more: ask again.
      if (r.mqtt.enabled && !r.mqtt.connected) setTimeout(load, 3000);
    } catch (err) {
      setFormError(err.message);
    }
    setBusy(false);
  };
  const off = !online() || busy;
  return html`<form id="mqtt-form" class="stack" onSubmit=${save}>
    <p id="mqtt-status" data-connected=${String(m.enabled && m.connected)}>${brokerStatus(m)}</p>
    ${m.fromEnvironment && html`<p class="dim small" id="mqtt-env">HUSHBOX_MQTT_URL in the box's environment names the broker again at each start.</p>`}
    <label class="switch"><input type="checkbox" role="switch" name="mqtt-enabled" checked=${f.enabled} disabled=${off} onChange=${edit('enabled')} /><span class="knob"></span>MQTT on</label>
    <label for="mqtt-url">Broker address</label>
    <input type="text" inputmode="url" spellcheck="false" id="mqtt-url" name="mqtt-url" placeholder="mqtt://homeassistant.local:1883" autocomplete="off" value=${f.url} disabled=${off} onInput=${edit('url')} />
    <label for="mqtt-username">Username <span class="dim small">(empty: none${m.ownBroker || !m.username ? "; on the box's own broker, its own user" : ''})</span></label>
    <input type="text" id="mqtt-username" name="mqtt-username" autocomplete="off" value=${f.username} disabled=${off} onInput=${edit('username')} />
    <label for="mqtt-password">Password ${m.passwordSet && html`<span class="dim small">(set; leave empty to keep it)</span>`}</label>
    <input type="password" id="mqtt-password" name="mqtt-password" autocomplete="new-password" value=${f.password} disabled=${off} onInput=${edit('password')} />
    ${formError && html`<p class="error" id="mqtt-error">${formError}</p>`}
    <div class="row wrap">
      <button type="submit" id="mqtt-save" disabled=${off || form === null}>${busy ? 'Connecting…' : 'Save and connect'}</button>
      ${form !== null && html`<button type="button" id="mqtt-cancel" disabled=${busy} onClick=${() => { setForm(null); setFormError(null); }}>Cancel</button>`}
    </div>
  </form>`;
}
