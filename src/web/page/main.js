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

/** A view's cards are made the first time the view is shown, then kept (hidden) so they keep their state. */
function Lazy({ view, seen, children }) {
  return seen.has(view) ? children : null;
}

function Panel({ owner }) {
  const { connection } = useBox('conn');
  const [view, setView] = useState(() => (location.hash.slice(1) || 'live'));
  const [seen, setSeen] = useState(() => new Set([location.hash.slice(1) || 'live']));
  const go = (v) => {
    setSeen((s) => new Set(s).add(v));
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
          <div data-views="health"><${Lazy} view="health" seen=${seen}><${EngineCard} /></${Lazy}></div>
          <div data-views="health"><${Lazy} view="health" seen=${seen}><${SystemCard} /></${Lazy}></div>
        </div>
        <div class="col wide">
          <div data-views="live"><${Lazy} view="live" seen=${seen}><${Processing} /></${Lazy}></div>
          <div data-views="presets"><${Lazy} view="presets" seen=${seen}><${PresetsCard} /></${Lazy}></div>
          <div data-views="presets"><${Lazy} view="presets" seen=${seen}><${AbCard} /></${Lazy}></div>
          <div data-views="health"><${Lazy} view="health" seen=${seen}><${DoctorCard} /></${Lazy}></div>
          <div data-views="health"><${Lazy} view="health" seen=${seen}><${HistoryCard} /></${Lazy}></div>
          <div data-views="health"><${Lazy} view="health" seen=${seen}><${EventsCard} /></${Lazy}></div>
          <div data-views="live"><${Lazy} view="live" seen=${seen}><${RecordingsCard} /></${Lazy}></div>
          <div data-views="settings"><${Lazy} view="settings" seen=${seen}><${SettingsCard} /></${Lazy}></div>
          <div data-views="settings"><${Lazy} view="settings" seen=${seen}><${MidiCard} /></${Lazy}></div>
          <div data-views="settings"><${Lazy} view="settings" seen=${seen}><${UpdatesCard} /></${Lazy}></div>
          <div data-views="settings"><${Lazy} view="settings" seen=${seen}><${AccessCard} owner=${owner} /></${Lazy}></div>
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
// The box pushes health and the doctor's summary (whole state, then on change); a box that does not
// gets asked: health every 5 s, the doctor (which runs every check) once.
setInterval(() => {
  if (box.connection === 'online' && !box.healthPushed) refreshHealth();
}, 5000);
let askedDoctor = false;
setInterval(() => {
  if (box.connection === 'online' && !box.doctor && !askedDoctor) {
    askedDoctor = true;
    refreshDoctor();
  }
}, 2000);

document.getElementById('app').replaceChildren();
render(html`<${App} />`, document.getElementById('app'));
