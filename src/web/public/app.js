// The front panel: meters and state over /ws/telemetry; controls derived from
// the engine's parameter table (/api/params); presets, A/B and bypass through
// the HTTP API; system health from /api/health.
import { ensureConfirmed, ensureOwner, mountAccess, request } from './account.js';
import { initMidi, learn as midiLearn, renderMidi } from './midi.js';
import { initUpdates, onSummary as renderOta } from './updates.js';
import { initRecordings } from './recordings.js';

const $ = (sel) => document.querySelector(sel);
const CHANNEL_NAMES = ['Mic', 'Inst', 'Ch 3', 'Ch 4', 'Ch 5', 'Ch 6', 'Ch 7', 'Ch 8'];
// Outputs are after the 2-in/2-out mix: left and right, not the strips.
const OUT_NAMES = ['L', 'R'];
const FLOOR_DB = -60;
const STRIPS = { mic: 'Mic', inst: 'Instrument', out: 'Output' };
const STAGES = {
  trim: 'Input', hpf: 'High-pass', hum: 'Hum removal', ns: 'Noise suppression', gate: 'Gate',
  comp: 'Compressor', eq: 'EQ', limit: 'Limiter', out: 'Output trim', mic: 'Mic → mix', inst: 'Instrument → mix', gain: 'Master',
  'master.limit': 'Master limiter',
};

const state = { params: [], byId: new Map(), meterEls: [], frames: 0, strip: 'mic', presets: [], box: null };
window.hushbox = state;

// ---------- helpers ----------
function pct(db) {
  return Math.max(0, Math.min(100, ((db - FLOOR_DB) / -FLOOR_DB) * 100));
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function showMessage(text, isError = false) {
  const m = $('#message');
  m.textContent = text;
  m.classList.toggle('error', isError);
  m.hidden = false;
  clearTimeout(showMessage.timer);
  showMessage.timer = setTimeout(() => (m.hidden = true), isError ? 8000 : 3000);
}

// Every call goes as the owner (account.js: the session, the request header, login again on 401).
const api = request;

function formatValue(p, v) {
  if (!p) return String(v);
  v = Number(v);
  if (p.scale === 'bool') return v ? 'on' : 'off';
  if (p.scale === 'enum') return `${Math.round(v)} ${p.unit}`.trim();
  if (p.unit === 'Hz' && v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 1 : 2)} kHz`;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(p.unit === 'dB' || p.unit === 'dBFS' ? 1 : digits)} ${p.unit}`.trim();
}

/** "Mic mains (0 auto, 1 50 Hz, 2 60 Hz)" gives labelled options. */
function enumOptions(p) {
  const m = /\(([^)]*)\)\s*$/.exec(p.name);
  if (m) {
    const opts = m[1].split(',').map((s) => /^\s*(-?\d+)\s+(.*)$/.exec(s)).filter(Boolean);
    if (opts.length) return opts.map(([, v, label]) => [Number(v), label.trim()]);
  }
  const step = p.step || 1;
  const out = [];
  for (let v = p.min; v <= p.max + 1e-9 && out.length < 64; v += step) out.push([v, formatValue(p, v)]);
  return out;
}

/** "Mic compressor threshold" shows as "Threshold" inside the Compressor group. */
function shortLabel(p) {
  let name = p.name.replace(/\s*\([^)]*\)\s*$/, '');
  for (const prefix of ['Mic ', 'Instrument ', 'Mix: ']) if (name.startsWith(prefix)) name = name.slice(prefix.length);
  for (const stage of ['high-pass ', 'hum removal ', 'hum ', 'noise suppression ', 'gate ', 'compressor ', 'eq ', 'limiter ', 'master limiter ']) {
    if (name.toLowerCase().startsWith(stage) && name.length > stage.length) name = name.slice(stage.length);
  }
  return name.charAt(0).toUpperCase() + name.slice(1);
}

// Log-scaled parameters move along their slider geometrically.
const SLIDER_STEPS = 1000;
function toSlider(p, v) {
  if (p.scale !== 'log' || p.min <= 0) return v;
  return Math.round((Math.log(v / p.min) / Math.log(p.max / p.min)) * SLIDER_STEPS);
}
function fromSlider(p, x) {
  if (p.scale !== 'log' || p.min <= 0) return Number(x);
  const v = p.min * Math.pow(p.max / p.min, Number(x) / SLIDER_STEPS);
  return Number(v.toPrecision(3));
}

// ---------- meters ----------
function buildMeters(channels) {
  const root = $('#meters');
  root.replaceChildren();
  state.meterEls = [];
  for (const dir of ['in', 'out']) {
    for (let c = 0; c < channels; c++) {
      const rms = el('div', { className: 'rms' });
      const peak = el('div', { className: 'peak' });
      const value = el('span', { className: 'value' }, '-∞');
      root.append(el('div', { className: 'meter', dataset: { dir, channel: String(c) } },
        el('span', {}, dir === 'in' ? `${CHANNEL_NAMES[c]} in` : `Out ${OUT_NAMES[c] ?? c + 1}`), el('div', { className: 'bar' }, rms, peak), value));
      state.meterEls.push({ dir, c, rms, peak, value });
    }
  }
}

function renderReduction(strips, master) {
  const root = $('#reduction');
  const names = ['Mic', 'Inst'];
  const cells = [el('span', { className: 'head' }, ''), ...['NS', 'Gate', 'Comp', 'Limit'].map((h) => el('span', { className: 'head gr' }, h))];
  const gr = (strip, stage, v) =>
    el('span', { className: 'gr', dataset: { strip, stage, active: String(v >= 0.5), db: String(v) } }, v >= 0.05 ? `−${v.toFixed(1)}` : '0');
  strips.slice(0, 2).forEach((m, i) => {
    cells.push(el('span', {}, names[i]));
    for (const [key, v] of [['ns', m.nsDb], ['gate', m.gateDb], ['comp', m.compDb], ['limit', m.limitDb]]) cells.push(gr(String(i), key, v));
    if (m.humHz > 0) cells.push(el('span', {}, ''), el('span', { className: 'hum' }, `removing ${m.humHz.toFixed(2)} Hz mains hum`));
    if (m.tonesHz?.length) {
      const list = m.tonesHz.map((hz) => hz.toFixed(1)).join(', ');
      cells.push(el('span', {}, ''), el('span', { className: 'hum tones', dataset: { strip: String(i) } }, `notching steady tones at ${list} Hz`));
    }
  });
  // The master limiter acts on the outputs after the mix: one figure, in the Limit column.
  if (master) cells.push(el('span', {}, 'Master'), el('span', {}), el('span', {}), el('span', {}), gr('master', 'limit', master.limitDb));
  root.replaceChildren(...cells);
}

function facts(dl, entries) {
  dl.replaceChildren(...entries.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function renderTelemetry(t) {
  state.frames++;
  if (state.meterEls.length !== t.channels * 2) buildMeters(t.channels);
  for (const m of state.meterEls) {
    const v = t.meters[m.dir][m.c];
    if (!v) continue;
    const w = pct(v.rmsDb);
    m.rms.style.width = `${w}%`;
    // Keep the green-yellow-red gradient fixed to the dB scale, not to the bar's width.
    m.rms.style.backgroundSize = `${w > 0 ? 10000 / w : 100}% 100%`;
    m.peak.style.left = `calc(${pct(v.peakDb)}% - 2px)`;
    m.value.textContent = v.peakDb <= -120 ? '-∞' : `${v.peakDb.toFixed(1)} dB`;
    m.value.dataset.peakDb = String(v.peakDb);
  }
  if (t.reduction && state.frames % 5 === 0) renderReduction(t.reduction, t.masterReduction);
  facts($('#engine-facts'), [
    ['Sample rate', `${t.rate} Hz`],
    ['Period', `${t.frames} × ${t.periods}`],
    ['Latency', `${t.latencyMs} ms (${t.latencyFrames} frames)`],
    ['DSP load', `${(t.dspLoad * 100).toFixed(1)} % (max ${(t.dspLoadMax * 100).toFixed(1)} %)`],
    ['Wake-up jitter', `${t.jitterUs.toFixed(0)} µs (max ${t.jitterMaxUs.toFixed(0)} µs)`],
    ['Xruns', String(t.xruns)],
    ['Real-time', t.realtime ? 'SCHED_FIFO' : 'no (not permitted)'],
    ['Heartbeat', t.heartbeats.audio.ageMs === null ? '—' : `${t.heartbeats.audio.ageMs.toFixed(0)} ms ago`],
  ]);
}

function renderStatus(s) {
  const badge = $('#engine-state');
  badge.dataset.state = s.state;
  badge.textContent = s.state.replaceAll('_', ' ');
  badge.title = s.reason ?? '';
}

async function refreshHealth() {
  try {
    const h = await api('GET', '/api/health');
    const gib = (b) => `${(b / 2 ** 30).toFixed(1)} GiB`;
    facts($('#health-facts'), [
      ['CPU', `${h.cpu.loadPercent?.toFixed?.(0) ?? '—'} % · load ${h.cpu.load1?.toFixed?.(2) ?? '—'}`],
      ['Temperature', h.cpu.temperatureC == null ? '—' : `${h.cpu.temperatureC.toFixed(1)} °C`],
      ['Throttling', h.throttling == null ? '—' : h.throttling.throttledNow ? 'throttled' : 'no'],
      ['Memory', `${h.memory.usedPercent.toFixed(0)} % of ${gib(h.memory.totalBytes)}`],
      ['Data disk', `${h.disk.usedPercent.toFixed(0)} % of ${gib(h.disk.totalBytes)}`],
      ['Uptime', `${(h.uptimeS / 3600).toFixed(1)} h`],
    ]);
  } catch {
    /* the next poll tries again */
  }
}

// ---------- controls ----------
function stripOf(id) {
  const s = id.split('.')[0];
  return s === 'mic' || s === 'inst' ? s : 'out';
}

function buildTabs() {
  const nav = $('#strip-tabs');
  nav.replaceChildren(...Object.entries(STRIPS).map(([key, label]) => {
    const b = el('button', { type: 'button', role: 'tab', dataset: { strip: key } }, label);
    b.setAttribute('aria-selected', String(key === state.strip));
    b.addEventListener('click', () => {
      state.strip = key;
      buildTabs();
      buildControls();
    });
    return b;
  }));
}

let pending = new Map();
function sendParam(id, value) {
  clearTimeout(pending.get(id));
  pending.set(id, setTimeout(async () => {
    try {
      await api('PUT', `/api/params/${encodeURIComponent(id)}`, { value });
      $('#control-error').hidden = true;
    } catch (err) {
      $('#control-error').textContent = err.message;
      $('#control-error').hidden = false;
    }
  }, 30));
}

/** "MIDI" beside a control: learn the next knob (or switch, for on/off) for it. */
function learnButton(p) {
  const b = el('button', { type: 'button', className: 'learn', title: `MIDI learn: click, then move a knob or press a switch for ${p.name}` }, 'MIDI');
  b.addEventListener('click', () => midiLearn({ action: p.scale === 'bool' ? 'toggle' : 'param', param: p.id }));
  return b;
}

function controlFor(p) {
  const id = `param-${p.id}`;
  const wrap = el('div', { className: 'control', dataset: { param: p.id } });
  const label = el('label', { htmlFor: id }, shortLabel(p));
  if (p.scale === 'bool') {
    const box = el('input', { type: 'checkbox', id, name: p.id, checked: p.value >= 0.5 });
    box.addEventListener('change', () => sendParam(p.id, box.checked ? 1 : 0));
    wrap.append(el('label', { className: 'switch', htmlFor: id }, box, shortLabel(p)), learnButton(p));
    return wrap;
  }
  if (p.scale === 'enum' && enumOptions(p).length <= 12) {
    const sel = el('select', { id, name: p.id }, ...enumOptions(p).map(([v, text]) => el('option', { value: String(v) }, text)));
    sel.value = String(p.value);
    sel.addEventListener('change', () => sendParam(p.id, Number(sel.value)));
    wrap.append(label, sel);
    return wrap;
  }
  const log = p.scale === 'log' && p.min > 0;
  const input = el('input', {
    type: 'range', id, name: p.id,
    min: String(log ? 0 : p.min), max: String(log ? SLIDER_STEPS : p.max),
    step: String(log ? 1 : p.step || (p.scale === 'enum' ? 1 : (p.max - p.min) / 480)),
  });
  input.value = String(toSlider(p, p.value));
  const out = el('output', { htmlFor: id }, formatValue(p, p.value));
  input.addEventListener('input', () => {
    const v = fromSlider(p, input.value);
    out.textContent = formatValue(p, v);
    sendParam(p.id, v);
  });
  input.addEventListener('dblclick', () => {
    input.value = String(toSlider(p, p.default));
    input.dispatchEvent(new Event('input'));
  });
  input.title = 'double-click for the default';
  wrap.append(label, input, out, learnButton(p));
  return wrap;
}

function buildControls() {
  const form = $('#controls');
  form.replaceChildren();
  const groups = new Map();
  for (const p of state.params) {
    if (stripOf(p.id) !== state.strip || p.id === 'master.bypass') continue;
    const parts = p.id.split('.');
    // master.gain sits in the Master group; master.limit.* is a stage of its own, with its own on/off.
    const stage = parts[0] === 'master' ? (parts.length > 2 ? `master.${parts[1]}` : 'gain') : parts[1];
    if (!groups.has(stage)) groups.set(stage, []);
    groups.get(stage).push(p);
  }
  for (const [stage, params] of groups) {
    const bypass = params.find((p) => p.id.endsWith('.bypass'));
    const legend = el('legend', {}, STAGES[stage] ?? stage);
    const fs = el('fieldset', { className: 'stage', dataset: { stage, bypassed: String(bypass?.value >= 0.5) } }, legend);
    if (bypass) {
      const on = el('input', { type: 'checkbox', name: bypass.id, checked: bypass.value < 0.5, title: `${STAGES[stage] ?? stage} on/off` });
      on.addEventListener('change', () => {
        fs.dataset.bypassed = String(!on.checked);
        sendParam(bypass.id, on.checked ? 0 : 1);
      });
      legend.append(el('label', { className: 'switch' }, on, 'on'));
    }
    for (const p of params) if (p !== bypass) fs.append(controlFor(p));
    form.append(fs);
  }
}

/** New values from the engine: move every control not under the user's hand. */
function renderParamValues(values) {
  for (const [id, value] of Object.entries(values)) {
    const p = state.byId.get(id);
    if (!p) continue;
    p.value = value;
    for (const input of document.getElementsByName(id)) {
      if (input === document.activeElement && input.type === 'range') continue;
      if (input.type === 'checkbox') input.checked = input.closest('legend') ? value < 0.5 : value >= 0.5;
      else input.value = String(input.type === 'range' ? toSlider(p, value) : value);
      const out = input.parentElement.querySelector('output');
      if (out) out.textContent = formatValue(p, value);
      const fs = input.closest('legend') && input.closest('fieldset');
      if (fs) fs.dataset.bypassed = String(value >= 0.5);
    }
  }
  const bypass = values['master.bypass'];
  if (bypass !== undefined) $('#bypass').setAttribute('aria-pressed', String(bypass >= 0.5));
}

// ---------- presets, A/B, bypass ----------
async function loadPresets() {
  try {
    state.presets = await api('GET', '/api/presets');
  } catch {
    state.presets = [];
  }
  const sel = $('#preset-select');
  sel.replaceChildren(el('option', { value: '' }, 'Preset…'), ...state.presets.map((p) => el('option', { value: p.id }, p.name)));
  renderBoxState(state.box);
}

function renderBoxState(box) {
  if (!box) return;
  state.box = box;
  $('#preset-select').value = box.preset_id ?? '';
  $('#preset-modified').hidden = !box.preset_modified;
  $('#ab-toggle').dataset.active = box.ab_active ?? '';
  if (box.bypass !== null && box.bypass !== undefined) $('#bypass').setAttribute('aria-pressed', String(box.bypass));
}

function wireToolbar() {
  $('#preset-select').addEventListener('change', async (ev) => {
    const id = ev.target.value;
    if (!id) return;
    try {
      const r = await api('POST', `/api/presets/${encodeURIComponent(id)}/apply`);
      const missing = r?.unknown?.length ? ` (${r.unknown.length} parameters this engine lacks were skipped)` : '';
      showMessage(`${state.presets.find((p) => p.id === id)?.name ?? id} recalled${missing}`);
    } catch (err) {
      showMessage(err.message, true);
    }
  });
  $('#preset-save').addEventListener('click', async () => {
    const name = window.prompt('Name of the new preset');
    if (!name) return;
    try {
      await api('POST', '/api/presets', { name });
      await loadPresets();
      showMessage(`Saved as ${name}`);
    } catch (err) {
      showMessage(err.message, true);
    }
  });
  for (const slot of ['A', 'B']) {
    $(`#ab-store-${slot.toLowerCase()}`).addEventListener('click', async () => {
      try {
        await api('POST', `/api/ab/${slot}/store`);
        showMessage(`Stored in ${slot}`);
      } catch (err) {
        showMessage(err.message, true);
      }
    });
  }
  $('#ab-toggle').addEventListener('click', async () => {
    try {
      const r = await api('POST', '/api/ab/toggle');
      showMessage(`Now on ${r.active}`);
    } catch (err) {
      showMessage(err.message, true);
    }
  });
  $('#bypass').addEventListener('click', () => {
    const on = $('#bypass').getAttribute('aria-pressed') !== 'true';
    $('#bypass').setAttribute('aria-pressed', String(on));
    sendParam('master.bypass', on ? 1 : 0);
  });
}

// ---------- live connection ----------
function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/telemetry`);
  const conn = $('#connection');
  ws.addEventListener('open', () => {
    conn.dataset.state = 'online';
    conn.textContent = 'live';
  });
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'telemetry') renderTelemetry(msg.data);
    else if (msg.type === 'status') renderStatus(msg.data);
    else if (msg.type === 'params') renderParamValues(msg.data);
    else if (msg.type === 'state') renderBoxState(msg.data);
    else if (msg.type === 'ota') renderOta(msg.data);
    else if (msg.type === 'midi') renderMidi(msg.data);
  });
  ws.addEventListener('close', () => {
    conn.dataset.state = 'stopped';
    conn.textContent = 'offline';
    setTimeout(connect, 1000);
  });
}

async function init() {
  const owner = await ensureOwner();
  const status = await api('GET', '/api/status');
  $('#device-name').textContent = `${status.name} · ${status.deviceId} · v${status.version}`;
  renderStatus(status.engine);
  buildMeters(status.telemetry?.channels ?? 2);
  state.params = await api('GET', '/api/params');
  state.byId = new Map(state.params.map((p) => [p.id, p]));
  if (!state.byId.has('master.bypass')) $('#bypass').hidden = true;
  buildTabs();
  buildControls();
  wireToolbar();
  renderParamValues(Object.fromEntries(state.params.map((p) => [p.id, p.value])));
  try {
    renderBoxState(await api('GET', '/api/state'));
  } catch {
    /* no presets service */
  }
  await loadPresets();
  refreshHealth();
  setInterval(refreshHealth, 5000);
  initUpdates({ api, el, showMessage, ensureConfirmed });
  initMidi({ api, el, showMessage });
  initRecordings({ api, el, showMessage });
  connect();
  await mountAccess($('.side'), owner);
}

init();
