// The EQ's response drawn from its parameters (the engine's own RBJ biquads: shelves with S = 1,
// peaks with their Q) and the high-pass (Butterworth sections, 12 dB/oct each), at 48 kHz.
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { useBox } from '../store.js';

const RATE = 48000;

function peaking(f, g, q) {
  const a = Math.pow(10, g / 40), w = (2 * Math.PI * f) / RATE, cw = Math.cos(w), al = Math.sin(w) / (2 * q);
  return [1 + al * a, -2 * cw, 1 - al * a, 1 + al / a, -2 * cw, 1 - al / a];
}
function shelf(f, g, high) {
  const a = Math.pow(10, g / 40), w = (2 * Math.PI * f) / RATE, cw = Math.cos(w), al = (Math.sin(w) / 2) * Math.SQRT2, sa = 2 * Math.sqrt(a) * al;
  if (!high) return [a * (a + 1 - (a - 1) * cw + sa), 2 * a * (a - 1 - (a + 1) * cw), a * (a + 1 - (a - 1) * cw - sa), a + 1 + (a - 1) * cw + sa, -2 * (a - 1 + (a + 1) * cw), a + 1 + (a - 1) * cw - sa];
  return [a * (a + 1 + (a - 1) * cw + sa), -2 * a * (a - 1 + (a + 1) * cw), a * (a + 1 + (a - 1) * cw - sa), a + 1 - (a - 1) * cw + sa, 2 * (a - 1 - (a + 1) * cw), a + 1 - (a - 1) * cw - sa];
}
function magDb([b0, b1, b2, a0, a1, a2], f) {
  const w = (2 * Math.PI * f) / RATE;
  const c1 = Math.cos(w), s1 = Math.sin(w), c2 = Math.cos(2 * w), s2 = Math.sin(2 * w);
  const nr = b0 + b1 * c1 + b2 * c2, ni = -(b1 * s1 + b2 * s2);
  const dr = a0 + a1 * c1 + a2 * c2, di = -(a1 * s1 + a2 * s2);
  return 10 * Math.log10((nr * nr + ni * ni) / (dr * dr + di * di));
}

/** dB at f of the strip's EQ (and high-pass, when on), from the parameter values. */
export function responseDb(v, s, f) {
  let db = 0;
  if (v[`${s}.eq.bypass`] < 0.5) {
    db += magDb(shelf(v[`${s}.eq.low.freq`], v[`${s}.eq.low.gain`], false), f);
    db += magDb(peaking(v[`${s}.eq.peak1.freq`], v[`${s}.eq.peak1.gain`], v[`${s}.eq.peak1.q`]), f);
    db += magDb(peaking(v[`${s}.eq.peak2.freq`], v[`${s}.eq.peak2.gain`], v[`${s}.eq.peak2.q`]), f);
    db += magDb(shelf(v[`${s}.eq.high.freq`], v[`${s}.eq.high.gain`], true), f);
  }
  if (v[`${s}.hpf.bypass`] < 0.5 && v[`${s}.hpf.freq`]) {
    const order = Math.max(1, Math.round(v[`${s}.hpf.slope`] / 6));
    db += -10 * Math.log10(1 + Math.pow(v[`${s}.hpf.freq`] / f, 2 * order));
  }
  return db;
}

export function EqCurve({ strip }) {
  const { values } = useBox('params');
  const canvas = useRef(null);
  useEffect(() => {
    const c = canvas.current;
    if (!c || values[`${strip}.eq.low.freq`] === undefined) return;
    const r = window.devicePixelRatio || 1;
    c.width = Math.round(c.clientWidth * r);
    c.height = Math.round(c.clientHeight * r);
    const ctx = c.getContext('2d');
    const { width: w, height: h } = c;
    const RANGE = 18;
    const x = (f) => (Math.log(f / 20) / Math.log(1000)) * w;
    const y = (db) => h / 2 - (Math.max(-RANGE, Math.min(RANGE, db)) / RANGE) * (h / 2);
    ctx.fillStyle = '#0d1014';
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = '#2a313b';
    ctx.fillStyle = '#8a94a3';
    // A vertical (0) or horizontal (1) grid line at `at`, `len` long.
    const line = (horizontal, at, len) => {
      ctx.beginPath();
      ctx.moveTo(horizontal ? 0 : at, horizontal ? at : 0);
      ctx.lineTo(horizontal ? len : at, horizontal ? at : len);
      ctx.stroke();
    };
    ctx.font = `${10 * r}px system-ui`;
    for (const f of [50, 100, 200, 500, 1000, 2000, 5000, 10000]) {
      line(0, x(f), h);
      ctx.fillText(f >= 1000 ? `${f / 1000}k` : String(f), x(f) + 2, h - 3);
    }
    for (const db of [-12, -6, 0, 6, 12]) line(1, y(db), w);
    ctx.strokeStyle = '#5aa9ff';
    ctx.lineWidth = 2 * r;
    ctx.beginPath();
    for (let i = 0; i <= 200; i++) {
      const f = 20 * Math.pow(1000, i / 200);
      const db = responseDb(values, strip, f);
      if (i) ctx.lineTo(x(f), y(db));
      else ctx.moveTo(x(f), y(db));
    }
    ctx.stroke();
    c.dataset.at1k = responseDb(values, strip, 1000).toFixed(2);
  });
  return html`<canvas ref=${canvas} class="eq-curve" data-strip=${strip} title="EQ and high-pass response, ±18 dB" aria-label="EQ response curve"></canvas>`;
}
