// The sticky header: the box's name, the engine's state and the link's, mini meters, the preset
// menu and Bypass, always in reach while adjusting on a phone. The offline banner sits under it.
import { useEffect } from 'preact/hooks';
import { html } from '../html.js';
import { box, paramErrors, useBox } from '../store.js';
import { MiniMeters } from './meters.js';
import { PresetMenu } from './presets.js';
import { sendParam } from './processing.js';

export function engineStateText() {
  if (box.connection !== 'online') return 'unknown';
  return box.engine?.state ?? 'unknown';
}

function BypassButton() {
  const { values, byId } = useBox('params', 'conn');
  if (!byId.has('master.bypass')) return null;
  const on = values['master.bypass'] >= 0.5;
  return html`<button type="button" id="bypass" class="bypass" aria-pressed=${String(on)}
    title=${on ? 'Bypassed: each input goes out unprocessed. Click to process again.' : 'Bypass: send each input out unprocessed (no stages, mix, master gain or limiter)'}
    onClick=${() => sendParam('master.bypass', on ? 0 : 1)}>${on ? 'Bypassed' : 'Bypass'}</button>`;
}

export function Header() {
  const { info, connection, engine } = useBox('info', 'conn', 'engine');
  const state = engineStateText();
  // The tab (and a phone's home-screen switcher) says which box: the name follows the box.
  useEffect(() => {
    if (info?.name) document.title = `${info.name} · hushbox`;
  }, [info?.name]);
  return html`<header class="top">
    <div class="row top-row">
      <h1><img src="/assets/icon.svg" alt="" width="22" height="22" /> hushbox</h1>
      <span id="device-name" class="dim">${info ? `${info.name} · ${info.deviceId} · v${info.version}` : ''}</span>
      <span id="engine-state" class="badge" data-state=${state} title=${engine?.reason ?? ''}>${state.replaceAll('_', ' ')}</span>
      <span id="connection" class="badge" data-state=${connection === 'online' ? 'online' : 'stopped'}>${connection === 'online' ? 'live' : connection === 'connecting' ? 'connecting…' : 'offline'}</span>
    </div>
    <fieldset class="row top-controls" disabled=${connection !== 'online'}>
      <${MiniMeters} />
      <${PresetMenu} />
      <${BypassButton} />
    </fieldset>
    ${connection === 'offline' && html`<p id="offline" class="banner" role="alert">The box does not answer. What you see may be out of date; controls are off until it is back.</p>`}
    ${paramErrors.get('master.bypass') && html`<p class="error" role="alert">${paramErrors.get('master.bypass')}</p>`}
  </header>`;
}
