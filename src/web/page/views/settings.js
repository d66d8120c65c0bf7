// Settings the API has: the I/O profile (with the latency each gives), the Scarlett's controls
// (48V after a confirmation), the device's name and MQTT broker (box-settings.js), the login Home
// Assistant uses on the box's broker,
// and the audio stream (issue 14).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { html } from '../html.js';
import { BrokerSettings, DeviceName } from './box-settings.js';
import { box, online, showMessage, useBox } from '../store.js';

function useLoad(url, deps = []) {
  const [data, setData] = useState(undefined);
  const [error, setError] = useState(null);
  const load = async () => {
    try {
      setData(await api('GET', url));
      setError(null);
    } catch (err) {
      setData(null);
      setError(err);
    }
  };
  useEffect(() => {
    if (online()) load();
  }, [box.connection, ...deps]);
  return [data, error, load, setData];
}

const bufferMs = (p) => ((p.frames * p.periods) / p.rate) * 1000;

function AudioSettings() {
  useBox('conn', 'engine');
  const [audio, error, load] = useLoad('/api/audio');
  const [busy, setBusy] = useState(null);
  if (error) return html`<p class="error">${error.message}</p>`;
  if (!audio) return html`<p class="dim">…</p>`;
  const choose = async (name) => {
    if (name === audio.profile) return;
    const yes = await confirmDialog({ id: 'profile', title: `Switch to ${name}?`, text: 'The engine restarts with the same parameters: the sound stops for a moment.', confirm: 'Switch' });
    if (!yes) return;
    setBusy(name);
    try {
      await api('PUT', '/api/audio', { profile: name });
      showMessage(`Profile ${name}`);
    } catch (err) {
      showMessage(err.message, true);
    }
    setBusy(null);
    load();
  };
  return html`<div id="audio-settings">
    <h3>I/O profile</h3>
    <div class="profiles" role="radiogroup" aria-label="I/O profile">
      ${Object.entries(audio.profiles).map(([name, p]) => html`<button type="button" role="radio" class="profile" data-profile=${name} aria-checked=${String(audio.profile === name)} disabled=${busy !== null} onClick=${() => choose(name)}>
        <strong>${name}</strong> <span class="latency">${bufferMs(p).toFixed(1)} ms buffer</span>
        <span class="dim">${p.rate / 1000} kHz · ${p.frames} × ${p.periods}${p.description ? ` · ${p.description}` : ''}</span>
        ${busy === name && html`<span class="dim">restarting…</span>`}
      </button>`)}
    </div>
    <p class="dim">Now: ${audio.profile}, ${audio.rate} Hz, ${audio.frames} × ${audio.periods} on ${audio.device} (${audio.backend})${box.telemetry ? `; the engine reports ${box.telemetry.latencyMs} ms` : ''}.</p>
  </div>`;
}

/** How often the open Scarlett card reads the interface again: its own knobs and buttons change it too. */
const SCARLETT_POLL_MS = 1500;

function Scarlett() {
  useBox('conn');
  const [s, error, load, setS] = useLoad('/api/scarlett');
  // A change on its way, or a slider under the user's hand, waits; otherwise the card follows the interface.
  const writing = useRef(0);
  const held = useRef(false);
  useEffect(() => {
    const release = () => (held.current = false);
    const t = setInterval(() => {
      // Only while it is on screen (its card open, in the view shown).
      const card = document.getElementById('scarlett-card');
      if (online() && writing.current === 0 && !held.current && !document.hidden && card?.open && card.offsetParent !== null) load();
    }, SCARLETT_POLL_MS);
    window.addEventListener('pointerup', release);
    window.addEventListener('pointercancel', release);
    return () => {
      clearInterval(t);
      window.removeEventListener('pointerup', release);
      window.removeEventListener('pointercancel', release);
    };
  }, []);
  if (error) return html`<p class="dim" id="scarlett-none">${error.status === 404 ? 'No Scarlett interface found.' : error.message}</p>`;
  if (!s) return html`<p class="dim">…</p>`;
  const put = async (patch) => {
    writing.current++;
    try {
      setS(await api('PUT', '/api/scarlett', patch));
    } catch (err) {
      showMessage(err.message, true);
      load();
    } finally {
      writing.current--;
    }
  };
  const phantom = async (input, on) => {
    if (on) {
      const yes = await confirmDialog({ id: 'phantom', title: `Turn on 48V for input ${input}?`, text: 'Phantom power can damage ribbon microphones and some other gear. Only turn it on for a condenser mic that needs it.', confirm: 'Turn on 48V', danger: true });
      if (!yes) return;
    }
    await put({ inputs: [{ input, phantom: on }] });
  };
  return html`<div id="scarlett" onPointerDown=${() => (held.current = true)}>
    ${s.inputs.map((i) => html`<fieldset class="scarlett-input" data-input=${i.input}>
      <legend>Input ${i.input}</legend>
      ${i.gain && html`<label>Gain <input type="range" name=${`scarlett-gain-${i.input}`} min=${i.gain.min} max=${i.gain.max} step="1" value=${i.gain.value} onChange=${(e) => put({ inputs: [{ input: i.input, gain: Number(e.target.value) }] })} /> <output>${i.gain.value}</output></label>`}
      ${i.levelOptions && html`<div class="segmented" role="radiogroup" aria-label="Level">${i.levelOptions.map((o) => html`<button type="button" role="radio" aria-checked=${String(o === i.level)} onClick=${() => put({ inputs: [{ input: i.input, level: o }] })}>${o}</button>`)}</div>`}
      ${i.airOptions && html`<div class="segmented" role="radiogroup" aria-label="Air">${i.airOptions.map((o) => html`<button type="button" role="radio" aria-checked=${String(o === i.air)} onClick=${() => put({ inputs: [{ input: i.input, air: o }] })}>Air ${o}</button>`)}</div>`}
      ${i.phantom !== undefined && html`<label class="switch danger"><input type="checkbox" role="switch" name=${`scarlett-phantom-${i.input}`} checked=${i.phantom} onChange=${(e) => { const want = e.target.checked; e.target.checked = i.phantom; phantom(i.input, want); }} /><span class="knob"></span>48V</label>`}
    </fieldset>`)}
    ${s.directMonitorOptions && html`<div class="control-row"><span>Direct monitor</span><div class="segmented" role="radiogroup" aria-label="Direct monitor">${s.directMonitorOptions.map((o) => html`<button type="button" role="radio" aria-checked=${String(o === s.directMonitor)} onClick=${() => put({ directMonitor: o })}>${o}</button>`)}</div></div>`}
  </div>`;
}

function Identity() {
  const { info } = useBox('info', 'conn');
  const [creds, error] = useLoad('/api/mqtt/credentials');
  const [reveal, setReveal] = useState(false);
  return html`<div id="identity">
    <${DeviceName} />
    <dl class="facts">
      <div class="fact"><dt>Device id</dt><dd id="device-id-setting">${info?.deviceId ?? '—'}</dd></div>
    </dl>
    <h3>MQTT broker</h3>
    <${BrokerSettings} />
    <h3>Home Assistant's login on the box's broker</h3>
    ${error
      ? html`<p class="dim" id="mqtt-creds-none">${error.status === 404 ? 'The box uses another broker (above): Home Assistant logs in there with its own user.' : error.message}</p>`
      : creds && html`<dl class="facts" id="mqtt-creds">
          <div class="fact"><dt>Broker</dt><dd>${location.hostname}:${creds.port}</dd></div>
          <div class="fact"><dt>Username</dt><dd>${creds.username}</dd></div>
          <div class="fact"><dt>Password</dt><dd><code>${reveal ? creds.password : '••••••••'}</code> <button type="button" onClick=${() => setReveal(!reveal)}>${reveal ? 'Hide' : 'Show'}</button></dd></div>
        </dl>`}
  </div>`;
}

function Stream() {
  useBox('conn');
  const [s, error, , setS] = useLoad('/api/stream');
  const [token, setToken] = useState(null);
  if (error) return html`<p class="dim">${error.message}</p>`;
  if (!s) return html`<p class="dim">…</p>`;
  const put = async (patch) => {
    try {
      setS(await api('PUT', '/api/stream', patch));
    } catch (err) {
      showMessage(err.message, true);
    }
  };
  const seg = (label, key, opts, cur) => html`<div class="control-row"><span>${label}</span><div class="segmented" role="radiogroup" aria-label=${label}>
    ${opts.map(([v, t]) => html`<button type="button" role="radio" name=${`stream-${key}`} aria-checked=${String(v === cur)} onClick=${() => put({ [key]: v })}>${t}</button>`)}</div></div>`;
  const clients = s.engine?.clients.length ?? 0;
  return html`<div id="stream-settings">
    ${seg('Source', 'source', [['mic', 'Clean mic'], ['mic_raw', 'Raw mic'], ['mix', 'Output mix']], s.settings.source)}
    ${seg('Rate', 'rate', [[16000, '16 kHz'], [48000, '48 kHz']], s.settings.rate)}
    ${seg('Format', 'format', [['s16le', '16-bit'], ['f32', 'float']], s.settings.format)}
    <label class="switch"><input type="checkbox" role="switch" name="stream-tcp" checked=${s.settings.tcp.enabled} onChange=${(e) => put({ tcp: { enabled: e.target.checked } })} /><span class="knob"></span>Also on TCP port ${s.settings.tcp.port} (clients send the token first)</label>
    <div class="row"><button type="button" id="stream-token" onClick=${async () => setToken((await api('POST', '/api/stream/token')).token)}>${s.tokenSet ? 'New TCP token' : 'Make a TCP token'}</button>
      ${token && html`<input type="text" readonly value=${token} id="stream-token-value" />`}</div>
    <p class="dim" id="stream-status">On ${s.socket}: ${clients} client${clients === 1 ? '' : 's'}${s.engine?.ringDroppedFrames ? `, ${s.engine.ringDroppedFrames} frames dropped` : ''}.</p>
  </div>`;
}

function latencyText(r) {
  if (!r) return 'not measured yet';
  const when = new Date(r.measuredAt).toLocaleString();
  if (!r.found) return `${when}: the test signal did not come back (is a cable connected from an output to an input?)`;
  const reported = ((r.reportedFrames / r.rate) * 1000).toFixed(2);
  return `${when}: ${r.roundTripMs.toFixed(2)} ms round trip (${r.roundTripFrames} frames at ${r.rate / 1000} kHz, ${r.profile}); the engine reports ${reported} ms${r.xruns ? `; ${r.xruns} xruns during it, less sure` : ''}${r.bitExact ? '; digital loopback' : ''}`;
}

/** The round trip measured through a cable from an output to an input (the engine's loopback measurement). */
function Latency() {
  const { latency } = useBox('conn', 'latency');
  const [data, error, load] = useLoad('/api/audio/latency');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (latency) load();
  }, [latency]);
  if (error) return html`<p class="dim" id="latency-none">${error.status === 404 ? 'This box cannot measure the round trip from the page yet: run hushbox-engine latency on the box.' : error.message}</p>`;
  const measure = async () => {
    const yes = await confirmDialog({ id: 'latency', title: 'Measure the round trip?', text: 'Connect a cable from an output to an input first. The sound stops for about a second while a test signal plays.', confirm: 'Measure' });
    if (!yes) return;
    setBusy(true);
    try {
      await api('POST', '/api/audio/latency');
    } catch (err) {
      showMessage(err.message, true);
    }
    setBusy(false);
    load();
  };
  return html`<div id="latency">
    <p id="latency-last">${busy ? 'Measuring…' : latencyText(data?.last)}</p>
    ${data?.good && data.good !== data.last && data.good.measuredAt !== data?.last?.measuredAt && html`<p class="dim">Last good: ${latencyText(data.good)}</p>`}
    <button type="button" id="latency-measure" disabled=${busy} onClick=${measure}>Measure round trip</button>
  </div>`;
}

export function SettingsCard() {
  return html`<section class="card" id="settings" aria-labelledby="settings-title">
    <h2 id="settings-title">Settings</h2>
    <details open><summary><h3 class="inline">Audio</h3></summary><${AudioSettings} /></details>
    <details id="scarlett-card"><summary><h3 class="inline">Scarlett</h3></summary><${Scarlett} /></details>
    <details id="box-settings"><summary><h3 class="inline">Box name and MQTT</h3></summary><${Identity} /></details>
    <details><summary><h3 class="inline">Audio stream (Wyoming)</h3></summary><${Stream} /></details>
    <details><summary><h3 class="inline">Latency (round trip)</h3></summary><${Latency} /></details>
  </section>`;
}
