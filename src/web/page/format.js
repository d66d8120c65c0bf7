// How a parameter is shown and moved: units, musical slider steps, discrete choices, pan as L/C/R.

export function formatValue(p, v) {
  if (!p) return String(v);
  v = Number(v);
  if (p.scale === 'bool') return v >= 0.5 ? 'on' : 'off';
  if (isPan(p)) return panText(v);
  const opts = p.scale === 'enum' ? enumOptions(p) : null;
  if (opts) return opts.find(([x]) => x === Math.round(v))?.[1] ?? String(v);
  if (p.unit === 'Hz' && v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 1 : 2)} kHz`;
  if (p.unit === ':1') return `${v.toFixed(v >= 10 ? 0 : 1)}:1`;
  const digits = p.unit === 'dB' || p.unit === 'dBFS' ? 1 : Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${p.unit}`.trim();
}

export const isPan = (p) => p.id.endsWith('.pan');

export function panText(v) {
  const r = Math.round(v);
  if (r === 0) return 'C';
  return r < 0 ? `L ${-r}` : `R ${r}`;
}

/**
 * Discrete choices as [value, label]: "Mic mains (0 auto, 1 50 Hz, 2 60 Hz)" gives labelled options;
 * a high-pass slope is a whole number of 12 dB/oct sections (the engine snaps to 12/24/36/48).
 */
export function enumOptions(p) {
  const m = /\(([^)]*)\)\s*$/.exec(p.name);
  if (m) {
    const opts = m[1].split(',').map((s) => /^\s*(-?\d+)\s+(.*)$/.exec(s)).filter(Boolean);
    if (opts.length) return opts.map(([, v, label]) => [Number(v), label.trim()]);
  }
  const step = p.unit === 'dB/oct' ? 12 : 1;
  const out = [];
  for (let v = p.min; v <= p.max + 1e-9 && out.length < 64; v += step) out.push([v, `${v}${p.unit ? ` ${p.unit}` : ''}`]);
  return out;
}

/** "Mic compressor threshold" shows as "Threshold" inside the Compressor group. */
export function shortLabel(p) {
  let name = p.name.replace(/\s*\([^)]*\)\s*$/, '');
  for (const prefix of ['Mic ', 'Instrument ', 'Mix: ']) if (name.startsWith(prefix)) name = name.slice(prefix.length);
  for (const stage of ['high-pass ', 'hum removal ', 'hum ', 'noise suppression ', 'gate ', 'compressor ', 'eq ', 'limiter ', 'master limiter ']) {
    if (name.toLowerCase().startsWith(stage) && name.length > stage.length) name = name.slice(stage.length);
  }
  return name.charAt(0).toUpperCase() + name.slice(1);
}

// Log-scaled parameters move along their slider geometrically, in this many positions.
export const LOG_POSITIONS = 1000;

/** The slider's step in the parameter's own unit (linear sliders): steps a musician would choose. */
export function linearStep(p) {
  if (p.unit === 'dB' || p.unit === 'dBFS') return p.max - p.min <= 12 ? 0.1 : 0.5;
  if (p.unit === '%') return 1;
  if (p.unit === 'ms') return p.max - p.min > 200 ? 5 : 1;
  return p.max - p.min > 20 ? 1 : 0.1;
}

/** Round a value from a log slider to two significant figures (80, 81 … 1.1 k, 1.2 k; ratio 2.5; Q 0.71). */
export function niceLog(v) {
  if (v <= 0) return v;
  const e = Math.floor(Math.log10(v)) - 1;
  const q = Math.pow(10, e);
  return Number((Math.round(v / q) * q).toPrecision(2));
}

export const isLog = (p) => p.scale === 'log' && p.min > 0;

export function toSlider(p, v) {
  if (!isLog(p)) return v;
  return Math.round((Math.log(v / p.min) / Math.log(p.max / p.min)) * LOG_POSITIONS);
}

export function fromSlider(p, x) {
  if (!isLog(p)) {
    const step = linearStep(p);
    return Number((Math.round(Number(x) / step) * step).toFixed(step < 1 ? 1 : 0));
  }
  const v = p.min * Math.pow(p.max / p.min, Number(x) / LOG_POSITIONS);
  return Math.min(p.max, Math.max(p.min, niceLog(v)));
}

export function stripOf(id) {
  const s = id.split('.')[0];
  return s === 'mic' || s === 'inst' ? s : 'out';
}

export const STAGES = {
  trim: 'Input', hpf: 'High-pass', hum: 'Hum removal', ns: 'Noise suppression', gate: 'Gate',
  comp: 'Compressor', eq: 'EQ', limit: 'Limiter', out: 'Output trim', mic: 'Mic → mix', inst: 'Instrument → mix', gain: 'Master',
  'master.limit': 'Master limiter',
};

export function stageOf(id) {
  const parts = id.split('.');
  // master.gain sits in the Master group; master.limit.* is a stage of its own, with its own on/off.
  if (parts[0] === 'master') return parts.length > 2 ? `master.${parts[1]}` : 'gain';
  return parts[1];
}

export function timeText(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString();
}
