// The processing controls, derived from the engine's parameter table: a tab per strip, a stage per
// collapsible group (closed by default on a phone), switches for on/off, buttons for discrete
// choices, sliders with musical steps. Every control shows what the box says, except the one under
// the user's hand; a change the box refuses is undone on screen, with the box's error beside it.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { notify, paramErrors, useBox } from '../store.js';
import { learn } from './midi.js';
import { EqCurve } from './eq-curve.js';
import {
  enumOptions, formatValue, fromSlider, isLog, linearStep, LOG_POSITIONS, shortLabel, STAGES, stageOf, stripOf, toSlider,
} from '../format.js';

const STRIPS = { mic: 'Mic', inst: 'Instrument', out: 'Output' };

// ---------- sending: at most one request in flight per parameter, the latest value queued ----------
const sending = new Map(); // id -> {busy, next}

export function sendParam(id, value) {
  let s = sending.get(id);
  if (!s) sending.set(id, (s = { busy: false, next: undefined, done: [] }));
  s.next = value;
  return new Promise((resolve) => {
    s.done.push(resolve);
    if (!s.busy) pump(id, s);
  });
}

async function pump(id, s) {
  s.busy = true;
  let ok = true;
  while (s.next !== undefined) {
    const value = s.next;
    s.next = undefined;
    try {
      await api('PUT', `/api/params/${encodeURIComponent(id)}`, { value });
      paramErrors.delete(id);
    } catch (err) {
      ok = false;
      paramErrors.set(id, err.message);
    }
  }
  s.busy = false;
  const done = s.done.splice(0);
  notify('params');
  for (const r of done) r(ok);
}

/** Tracks whether the user's hand is on a control: a pointer held, or a change of theirs in flight. */
function useHand() {
  const [held, setHeld] = useState(false);
  const [inFlight, setInFlight] = useState(0);
  useEffect(() => {
    if (!held) return undefined;
    const up = () => setHeld(false);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);
    return () => {
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', up);
    };
  }, [held]);
  const send = async (id, v) => {
    setInFlight((n) => n + 1);
    await sendParam(id, v);
    setInFlight((n) => n - 1);
  };
  return { busy: held || inFlight > 0, hold: () => setHeld(true), send };
}

function ErrorLine({ id }) {
  const msg = paramErrors.get(id);
  return msg ? html`<p class="error param-error" role="alert" data-param=${id}>${msg}</p>` : null;
}

function LearnButton({ p }) {
  return html`<button type="button" class="learn" title=${`MIDI learn: click, then move a knob or press a switch for ${p.name}`}
    onClick=${() => learn({ action: p.scale === 'bool' ? 'toggle' : 'param', param: p.id })}>MIDI</button>`;
}

function Slider({ p }) {
  const { values } = useBox('params', 'conn');
  const hand = useHand();
  const input = useRef(null);
  const boxValue = values[p.id];
  const [shown, setShown] = useState(boxValue);
  // The box's value wins whenever the user's hand is off this control (at once, not after a paint).
  useLayoutEffect(() => {
    if (hand.busy || !input.current) return;
    input.current.value = String(toSlider(p, boxValue));
    setShown(boxValue);
  }, [boxValue, hand.busy]);
  const id = `param-${p.id}`;
  const log = isLog(p);
  const onInput = () => {
    const v = fromSlider(p, input.current.value);
    setShown(v);
    hand.send(p.id, v);
  };
  const reset = () => {
    input.current.value = String(toSlider(p, p.default));
    onInput();
  };
  return html`<div class="control" data-param=${p.id} data-kind="slider">
    <label for=${id}>${shortLabel(p)}</label>
    <input type="range" ref=${input} id=${id} name=${p.id}
      min=${log ? 0 : p.min} max=${log ? LOG_POSITIONS : p.max} step=${log ? 1 : linearStep(p)}
      onPointerDown=${hand.hold} onInput=${onInput} onDblClick=${reset}
      title="double-click for the default" aria-valuetext=${formatValue(p, shown)} />
    <output for=${id}>${formatValue(p, shown)}</output>
    <${LearnButton} p=${p} />
    <${ErrorLine} id=${p.id} />
  </div>`;
}

function Choice({ p }) {
  const { values } = useBox('params', 'conn');
  const hand = useHand();
  const opts = enumOptions(p);
  const [pending, setPending] = useState(null);
  const v = pending ?? Math.round(values[p.id]);
  const pick = async (x) => {
    setPending(x);
    await hand.send(p.id, x);
    setPending(null);
  };
  if (opts.length > 5) {
    return html`<div class="control" data-param=${p.id} data-kind="select">
      <label for=${`param-${p.id}`}>${shortLabel(p)}</label>
      <select id=${`param-${p.id}`} name=${p.id} value=${String(v)} onChange=${(e) => pick(Number(e.target.value))}>
        ${opts.map(([x, t]) => html`<option value=${String(x)}>${t}</option>`)}
      </select>
      <span></span><${LearnButton} p=${p} /><${ErrorLine} id=${p.id} />
    </div>`;
  }
  return html`<div class="control" data-param=${p.id} data-kind="choice">
    <span class="label" id=${`label-${p.id}`}>${shortLabel(p)}</span>
    <div class="segmented" role="radiogroup" aria-labelledby=${`label-${p.id}`}>
      ${opts.map(([x, t]) => html`<button type="button" role="radio" name=${p.id} value=${String(x)} aria-checked=${String(x === v)} onClick=${() => pick(x)}>${t}</button>`)}
    </div>
    <span></span><${LearnButton} p=${p} /><${ErrorLine} id=${p.id} />
  </div>`;
}

function Switch({ p, inverted = false, label }) {
  const { values } = useBox('params', 'conn');
  const hand = useHand();
  const [pending, setPending] = useState(null);
  const on = pending ?? (inverted ? values[p.id] < 0.5 : values[p.id] >= 0.5);
  const flip = async (e) => {
    const want = e.target.checked;
    setPending(want);
    await hand.send(p.id, (inverted ? !want : want) ? 1 : 0);
    setPending(null);
  };
  return html`<label class="switch" title=${p.name}>
    <input type="checkbox" role="switch" name=${p.id} checked=${on} onChange=${flip} />
    <span class="knob" aria-hidden="true"></span>${label ?? shortLabel(p)}
  </label>`;
}

function ControlFor({ p }) {
  if (p.scale === 'bool') {
    return html`<div class="control" data-param=${p.id} data-kind="switch"><${Switch} p=${p} /><span></span><span></span><${LearnButton} p=${p} /><${ErrorLine} id=${p.id} /></div>`;
  }
  if (p.scale === 'enum') return html`<${Choice} p=${p} />`;
  return html`<${Slider} p=${p} />`;
}

function Stage({ stage, params, strip }) {
  const { values } = useBox('params');
  const bypass = params.find((p) => p.id.endsWith('.bypass'));
  const bypassed = bypass ? values[bypass.id] >= 0.5 : false;
  const key = `hushbox.open.${strip}.${stage}`;
  const [open, setOpen] = useState(() => localStorage.getItem(key) === '1' || (localStorage.getItem(key) === null && window.innerWidth >= 900));
  const toggle = (e) => {
    setOpen(e.target.open);
    localStorage.setItem(key, e.target.open ? '1' : '0');
  };
  const rest = params.filter((p) => p !== bypass);
  const summary = rest.slice(0, 2).map((p) => `${shortLabel(p)} ${formatValue(p, values[p.id])}`).join(' · ');
  return html`<details class="stage" data-stage=${stage} data-bypassed=${String(bypassed)} open=${open} onToggle=${toggle}>
    <summary>
      <span class="stage-name">${STAGES[stage] ?? stage}</span>
      <span class="stage-summary dim">${bypassed ? 'off' : summary}</span>
    </summary>
    ${bypass && html`<div class="stage-on"><${Switch} p=${bypass} inverted=${true} label="on" /><${ErrorLine} id=${bypass.id} /></div>`}
    ${stage === 'eq' && html`<${EqCurve} strip=${strip} />`}
    ${rest.map((p) => html`<${ControlFor} key=${p.id} p=${p} />`)}
  </details>`;
}

export function Processing() {
  const { params } = useBox('params');
  const [strip, setStrip] = useState('mic');
  const groups = new Map();
  for (const p of params) {
    if (stripOf(p.id) !== strip || p.id === 'master.bypass') continue;
    const stage = stageOf(p.id);
    if (!groups.has(stage)) groups.set(stage, []);
    groups.get(stage).push(p);
  }
  return html`<section class="card" id="processing" aria-labelledby="controls-title">
    <h2 id="controls-title">Processing</h2>
    <nav id="strip-tabs" class="tabs" role="tablist">
      ${Object.entries(STRIPS).map(([key, label]) => html`<button type="button" role="tab" data-strip=${key} aria-selected=${String(key === strip)} onClick=${() => setStrip(key)}>${label}</button>`)}
    </nav>
    <div id="controls" class="controls">
      ${[...groups].map(([stage, ps]) => html`<${Stage} key=${`${strip}.${stage}`} stage=${stage} params=${ps} strip=${strip} />`)}
    </div>
  </section>`;
}

