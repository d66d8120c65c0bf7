// Meters people can read: per channel a peak bar (instant rise, 20 dB/s fall) with the RMS inside
// it, a peak-hold tick that waits 1.5 s and then falls, the held peak as a number (steady, not 50
// changes a second), a latching clip light (click to clear) and a dB scale. Gain reduction as bars
// per stage with the last 8 seconds behind them; the spectrum when the engine sends one. Drawn from
// the latest telemetry at the display's frame rate; blank while the box is offline.
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { box, useBox } from '../store.js';

export const FLOOR_DB = -60;
const SCALE = [-60, -48, -36, -24, -12, -6, 0];
const HOLD_MS = 1500;
const FALL_DB_PER_S = 20;
const CLIP_DB = -0.5;
const IN_NAMES = ['Mic', 'Inst', 'Ch 3', 'Ch 4'];
const OUT_NAMES = ['L', 'R', '3', '4'];
const STAGE_KEYS = [['ns', 'nsDb', 'NS', '#5aa9ff'], ['gate', 'gateDb', 'Gate', '#b28cff'], ['comp', 'compDb', 'Comp', '#f5c451'], ['limit', 'limitDb', 'Limit', '#ef5b5b']];
const GR_RANGE_DB = 24;
const HISTORY_S = 8;
const STALE_MS = 1000;

export const pct = (db) => Math.max(0, Math.min(1, (db - FLOOR_DB) / -FLOOR_DB));

// ---------- one loop for every canvas ----------
const drawers = new Set();
let lastFrame = 0;
function loop(now) {
  const dt = lastFrame ? Math.min(0.1, (now - lastFrame) / 1000) : 0;
  lastFrame = now;
  // Telemetry that stopped coming (the engine crashed, or lost its device, while the box answers) is
  // not drawn: no frozen meters that look alive.
  const t = box.connection === 'online' && now - box.telemetryAt < STALE_MS ? box.telemetry : null;
  for (const d of drawers) d(t, now, dt);
  box.drawn++;
  requestAnimationFrame(loop);
}
requestAnimationFrame(loop);

function useDrawer(fn, deps = []) {
  useEffect(() => {
    drawers.add(fn);
    return () => drawers.delete(fn);
  }, deps);
}

function fitCanvas(c) {
  const r = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(c.clientWidth * r));
  const h = Math.max(1, Math.round(c.clientHeight * r));
  if (c.width !== w || c.height !== h) {
    c.width = w;
    c.height = h;
  }
  return { ctx: c.getContext('2d'), w, h, r };
}

/** Peak ballistics and hold for one channel. */
export function ballistics() {
  return { bar: -120, hold: -120, holdAt: 0, shown: -120, shownAt: 0, clip: false };
}

export function step(b, peakDb, now, dt) {
  b.bar = Math.max(peakDb, b.bar - FALL_DB_PER_S * dt);
  if (peakDb >= b.hold || now - b.holdAt > HOLD_MS) {
    if (peakDb >= b.hold) {
      b.hold = peakDb;
      b.holdAt = now;
    } else b.hold = Math.max(peakDb, b.hold - FALL_DB_PER_S * dt);
  }
  if (peakDb >= CLIP_DB) b.clip = true;
}

function Meter({ dir, channel, label }) {
  const root = useRef(null);
  const canvas = useRef(null);
  const value = useRef(null);
  const b = useRef(ballistics()).current;
  useDrawer((t, now, dt) => {
    const c = canvas.current;
    if (!c) return;
    const m = t?.meters?.[dir]?.[channel];
    const { ctx, w, h } = fitCanvas(c);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#0d1014';
    ctx.fillRect(0, 0, w, h);
    if (!m) {
      Object.assign(b, ballistics(), { clip: b.clip });
      value.current.textContent = '—';
      root.current.dataset.peakDb = '';
      root.current.dataset.live = 'false';
      return;
    }
    step(b, m.peakDb, now, dt);
    const grad = ctx.createLinearGradient(0, 0, w, 0);
    grad.addColorStop(0, '#2f9e6e');
    grad.addColorStop(pct(-18), '#3ecf8e');
    grad.addColorStop(pct(-9), '#f5c451');
    grad.addColorStop(pct(-3), '#ef5b5b');
    ctx.fillStyle = grad;
    ctx.globalAlpha = 0.45;
    ctx.fillRect(0, 0, pct(b.bar) * w, h);
    ctx.globalAlpha = 1;
    ctx.fillRect(0, h * 0.3, pct(m.rmsDb) * w, h * 0.4);
    const x = pct(b.hold) * w;
    ctx.fillStyle = b.hold >= CLIP_DB ? '#ef5b5b' : '#e8eaed';
    ctx.fillRect(Math.min(w - 2, x), 0, 2, h);
    // The number: the held peak, rewritten at most 5 times a second.
    if (now - b.shownAt > 200) {
      b.shownAt = now;
      b.shown = b.hold;
      value.current.textContent = b.hold <= -120 ? '-∞' : `${b.hold.toFixed(1)}`;
      root.current.dataset.peakDb = String(b.hold);
      if (root.current.dataset.live !== 'true' && !performance.getEntriesByName('hushbox:first-meter').length) performance.mark('hushbox:first-meter');
      root.current.dataset.live = 'true';
    }
    if (root.current.dataset.clip !== String(b.clip)) root.current.dataset.clip = String(b.clip);
  });
  const clear = () => {
    b.clip = false;
    root.current.dataset.clip = 'false';
  };
  return html`<div class="meter" ref=${root} data-dir=${dir} data-channel=${channel} data-clip="false">
    <span class="label">${label}</span>
    <canvas ref=${canvas} class="bar" aria-hidden="true"></canvas>
    <span class="value" ref=${value} aria-label=${`${label} peak, dBFS`}>—</span>
    <button type="button" class="clip" title="Clipped: click to clear" onClick=${clear} aria-label=${`${label} clip light`}>CLIP</button>
  </div>`;
}

function Scale() {
  return html`<div class="scale" aria-hidden="true">
    <span class="label"></span>
    <div class="ticks">${SCALE.map((db) => html`<span style=${{ left: `${pct(db) * 100}%` }}>${db}</span>`)}</div>
    <span class="value"></span><span class="clip-space"></span>
  </div>`;
}

export function Meters() {
  const { telemetry } = useBox('slow', 'conn');
  const channels = Math.min(telemetry?.channels ?? 2, 4);
  const rows = [];
  for (let c = 0; c < channels; c++) rows.push(html`<${Meter} key=${`in${c}`} dir="in" channel=${c} label=${`${IN_NAMES[c]} in`} />`);
  for (let c = 0; c < channels; c++) rows.push(html`<${Meter} key=${`out${c}`} dir="out" channel=${c} label=${`Out ${OUT_NAMES[c]}`} />`);
  return html`<div id="meters" class="meters">${rows}<${Scale} /></div>`;
}

/** The header's pair: mic in and output (the louder side), thin, no numbers. */
export function MiniMeters() {
  const canvas = useRef(null);
  const bi = useRef(ballistics()).current;
  const bo = useRef(ballistics()).current;
  useDrawer((t, now, dt) => {
    const c = canvas.current;
    if (!c) return;
    const { ctx, w, h } = fitCanvas(c);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#0d1014';
    ctx.fillRect(0, 0, w, h);
    if (!t) {
      c.dataset.live = 'false';
      return;
    }
    step(bi, t.meters.in[0]?.peakDb ?? -120, now, dt);
    step(bo, Math.max(...t.meters.out.map((m) => m.peakDb)), now, dt);
    for (const [i, b] of [bi, bo].entries()) {
      ctx.fillStyle = b.bar > -3 ? '#ef5b5b' : b.bar > -9 ? '#f5c451' : '#3ecf8e';
      ctx.fillRect(0, i * (h / 2) + 1, pct(b.bar) * w, h / 2 - 2);
      ctx.fillStyle = '#e8eaed';
      ctx.fillRect(Math.min(w - 2, pct(b.hold) * w), i * (h / 2) + 1, 2, h / 2 - 2);
    }
    c.dataset.live = 'true';
  });
  return html`<canvas ref=${canvas} id="mini-meters" class="mini-meters" title="Mic in (top) and output (bottom)" aria-hidden="true"></canvas>`;
}

// ---------- gain reduction ----------
const STRIPS = [['0', 'Mic'], ['1', 'Inst'], ['master', 'Master']];

function grOf(t, strip, key, bypassed) {
  if (!t || bypassed) return 0;
  if (strip === 'master') return key === 'limitDb' ? (t.masterReduction?.limitDb ?? 0) : null;
  return t.reduction?.[Number(strip)]?.[key] ?? null;
}

function GrStrip({ strip, label, bypassed }) {
  const canvas = useRef(null);
  const rows = useRef(null);
  const hist = useRef([]).current;
  const last = useRef(0);
  const stages = strip === 'master' ? STAGE_KEYS.slice(3) : STAGE_KEYS;
  useDrawer((t, now) => {
    const c = canvas.current;
    if (!c) return;
    const on = box.values['master.bypass'] >= 0.5;
    const vals = stages.map(([, key]) => grOf(t, strip, key, on) ?? 0);
    if (t) hist.push([now, vals]);
    else hist.length = 0; // offline: nothing stale on screen
    while (hist.length && now - hist[0][0] > HISTORY_S * 1000) hist.shift();
    const { ctx, w, h } = fitCanvas(c);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#0d1014';
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = '#2a313b';
    for (const db of [6, 12, 18]) {
      const y = (db / GR_RANGE_DB) * h;
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(w, y);
      ctx.stroke();
    }
    stages.forEach(([, , , colour], i) => {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.5 * (window.devicePixelRatio || 1);
      ctx.beginPath();
      hist.forEach(([at, v], j) => {
        const x = w - ((now - at) / (HISTORY_S * 1000)) * w;
        const y = (Math.min(GR_RANGE_DB, v[i]) / GR_RANGE_DB) * h;
        if (j) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
      });
      ctx.stroke();
    });
    if (now - last.current < 200 || !rows.current) return;
    last.current = now;
    // What the history holds, for tests and the curious: its span and its deepest reduction.
    c.dataset.seconds = hist.length ? ((now - hist[0][0]) / 1000).toFixed(1) : '0';
    c.dataset.maxDb = hist.length ? String(Math.max(...hist.map(([, v]) => Math.max(...v)))) : '';
    for (const [i, [stage]] of stages.entries()) {
      const el = rows.current.querySelector(`.gr[data-stage="${stage}"]`);
      if (!el) continue;
      const v = t ? vals[i] : null;
      el.dataset.db = v === null ? '' : String(v);
      el.dataset.active = String(v !== null && v >= 0.5);
      el.querySelector('.fill').style.width = `${v === null ? 0 : Math.min(100, (v / GR_RANGE_DB) * 100)}%`;
      el.querySelector('.num').textContent = v === null ? '—' : v >= 0.05 ? `−${v.toFixed(1)}` : '0';
    }
  });
  return html`<div class="gr-strip" data-strip=${strip} data-bypassed=${String(bypassed)}>
    <h3>${label}</h3>
    <div class="gr-bars" ref=${rows}>
      ${stages.map(([stage, , name, colour]) => html`<div class="gr" data-strip=${strip} data-stage=${stage} data-db="">
        <span class="name" style=${{ color: colour }}>${name}</span><span class="track"><span class="fill" style=${{ background: colour }}></span></span><span class="num">—</span>
      </div>`)}
    </div>
    <canvas ref=${canvas} class="gr-history" title="Gain reduction over the last 8 seconds (down = more)" aria-hidden="true"></canvas>
  </div>`;
}

export function Reduction() {
  const { values, telemetry } = useBox('params', 'slow', 'conn');
  const bypassed = values['master.bypass'] >= 0.5;
  const notes = [];
  for (const [i, m] of (telemetry?.reduction ?? []).slice(0, 2).entries()) {
    if (m.humHz > 0) notes.push(html`<p class="hum dim" data-strip=${i}>${STRIPS[i][1]}: removing ${m.humHz.toFixed(2)} Hz mains hum</p>`);
    if (m.tonesHz?.length) notes.push(html`<p class="hum tones dim" data-strip=${i}>${STRIPS[i][1]}: notching steady tones at ${m.tonesHz.map((hz) => hz.toFixed(1)).join(', ')} Hz</p>`);
  }
  return html`<div id="reduction" class="reduction" data-bypassed=${String(bypassed)}>
    ${bypassed && html`<p class="bypass-note" role="status">Bypassed: nothing is reduced. Each input goes out unprocessed on its own output (no stages, mix, master gain or limiter).</p>`}
    ${STRIPS.map(([strip, label]) => html`<${GrStrip} key=${strip} strip=${strip} label=${label} bypassed=${bypassed} />`)}
    ${!bypassed && notes}
  </div>`;
}

// ---------- spectrum (when the engine sends one) ----------
export function spectrumOf(s) {
  if (!s) return null;
  const bands = s.centreHz ?? s.bandsHz ?? s.bands;
  const inn = s.inDb ?? s.in;
  const out = s.outDb ?? s.out;
  if (!Array.isArray(bands) || !Array.isArray(inn)) return null;
  return { bands, in: inn, out: Array.isArray(out) ? out : null };
}

export function Spectrum() {
  const canvas = useRef(null);
  useBox('spectrum', 'conn');
  useDrawer((t) => {
    const c = canvas.current;
    if (!c) return;
    const s = t ? spectrumOf(box.spectrum) : null;
    const { ctx, w, h } = fitCanvas(c);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#0d1014';
    ctx.fillRect(0, 0, w, h);
    c.dataset.live = String(!!s);
    if (!s) return;
    const n = s.bands.length;
    const bw = w / n;
    const y = (db) => h - Math.max(0, Math.min(1, (db + 90) / 90)) * h;
    ctx.fillStyle = 'rgba(90,169,255,0.35)';
    s.in.forEach((db, i) => ctx.fillRect(i * bw + 1, y(db), bw - 2, h - y(db)));
    if (s.out) {
      ctx.strokeStyle = '#3ecf8e';
      ctx.lineWidth = 2;
      ctx.beginPath();
      s.out.forEach((db, i) => {
        if (i) ctx.lineTo(i * bw + bw / 2, y(db));
        else ctx.moveTo(bw / 2, y(db));
      });
      ctx.stroke();
    }
  });
  const sp = spectrumOf(box.spectrum);
  if (!sp) return null;
  const lo = sp.bands[0];
  const hi = sp.bands[sp.bands.length - 1];
  const at = (f) => `${((Math.log(f / lo) / Math.log(hi / lo)) * 100).toFixed(1)}%`;
  return html`<div class="spectrum-wrap"><h2 class="sub">Spectrum <span class="dim">mic in (bars) · output (line), 1/6 octave</span></h2>
    <canvas ref=${canvas} id="spectrum" class="spectrum" aria-label="Spectrum of the mic and the output"></canvas>
    <div class="spectrum-axis dim" aria-hidden="true">${[[50, '50'], [200, '200'], [1000, '1k'], [5000, '5k'], [15000, '15k Hz']].map(([f, t]) => html`<span style=${{ left: at(f) }}>${t}</span>`)}</div></div>`;
}
