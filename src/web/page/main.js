// The front panel, built with Preact + htm (views) and uPlot (history): small, well kept, bundled by
// scripts/build-page.mjs and served by the box itself. Views by task, one module each; they render
// what the box says (store.js), which the live link (connection.js) keeps current.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { raw } from './api.js';
import { connect } from './connection.js';
import { DialogHost } from './dialog.js';
import { html } from './html.js';
import { box, notify, useBox } from './store.js';
import { AbCard } from './views/ab.js';
import { AccessCard, Gate } from './views/access.js';
import { Header } from './views/header.js';
import { DoctorCard, EngineCard, EventsCard, refreshDoctor, refreshHealth, SystemCard } from './views/health.js';
import { HistoryCard } from './views/history.js';
import { Meters, Reduction, Spectrum } from './views/meters.js';
import { MidiCard } from './views/midi.js';
import { PresetsCard } from './views/presets.js';
import { Processing } from './views/processing.js';
import { RecordingsCard } from './views/recordings.js';
import { SettingsCard } from './views/settings.js';
import { UpdatesCard } from './views/updates.js';

const VIEWS = [
  ['live', 'Live'],
  ['presets', 'Presets'],
  ['health', 'Health'],
  ['settings', 'Settings'],
];

function Message() {
  const { message } = useBox('message');
  if (!message) return null;
  return html`<p id="message" class=${`message ${message.error ? 'error' : ''}`} role=${message.error ? 'alert' : 'status'}>${message.text}</p>`;
}

function Panel({ owner }) {
  const { connection } = useBox('conn');
  const [view, setView] = useState(() => (location.hash.slice(1) || 'live'));
  const go = (v) => {
    setView(v);
    history.replaceState(null, '', `#${v}`);
    window.scrollTo(0, 0);
  };
  return html`
    <${Header} />
    <${Message} />
    <nav class="views" id="views" aria-label="Views">
      ${VIEWS.map(([k, label]) => html`<a href=${`#${k}`} data-view=${k} aria-current=${view === k ? 'page' : undefined} onClick=${(e) => { e.preventDefault(); go(k); }}>${label}</a>`)}
    </nav>
    <fieldset class="app" id="panel" disabled=${connection !== 'online'} data-view=${view}>
      <main>
        <div class="col side" data-views="live health">
          <section class="card" id="meters-card" aria-labelledby="meters-title" data-views="live">
            <h2 id="meters-title">Meters</h2>
            <${Meters} />
            <h2 class="sub">Gain reduction</h2>
            <${Reduction} />
            <${Spectrum} />
          </section>
          <div data-views="health"><${EngineCard} /></div>
          <div data-views="health"><${SystemCard} /></div>
        </div>
        <div class="col wide">
          <div data-views="live"><${Processing} /></div>
          <div data-views="presets"><${PresetsCard} /></div>
          <div data-views="presets"><${AbCard} /></div>
          <div data-views="health"><${DoctorCard} /></div>
          <div data-views="health"><${HistoryCard} /></div>
          <div data-views="health"><${EventsCard} /></div>
          <div data-views="live"><${RecordingsCard} /></div>
          <div data-views="settings"><${SettingsCard} /></div>
          <div data-views="settings"><${MidiCard} /></div>
          <div data-views="settings"><${UpdatesCard} /></div>
          <div data-views="settings"><${AccessCard} owner=${owner} /></div>
        </div>
      </main>
    </fieldset>
    <footer><a href="/docs">API documentation</a></footer>`;
}

function App() {
  const [owner, setOwner] = useState(null);
  const [gate, setGate] = useState(null);
  useEffect(() => {
    raw('GET', '/api/auth').then(({ data }) => {
      if (data?.loggedIn) start(data);
      else setGate(data?.setUp ? 'login' : 'setup');
    });
  }, []);
  const start = (o) => {
    setGate(null);
    setOwner(o);
    connect();
  };
  return html`${gate && html`<${Gate} kind=${gate} onDone=${start} />`}${owner && html`<${Panel} owner=${owner} />`}<${DialogHost} />`;
}

// Text views follow the telemetry about four times a second; the canvases draw every frame.
setInterval(() => box.telemetry && notify('slow'), 250);
setInterval(refreshHealth, 5000);
setInterval(refreshDoctor, 30_000);
let wasOnline = false;
setInterval(() => {
  const now = box.connection === 'online';
  if (now && !wasOnline) {
    refreshHealth();
    refreshDoctor();
  }
  wasOnline = now;
}, 200);

document.getElementById('app').replaceChildren();
render(html`<${App} />`, document.getElementById('app'));
