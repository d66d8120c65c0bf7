// History drawn with uPlot (a chart library made for time series: small, fast on a phone, no
// dependencies). The last hour from the box's session log (/api/history) when the box has it;
// otherwise what this page received since it opened (levels, DSP load, gain reduction), 1 point/s.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { box, online, useBox } from '../store.js';

const KEEP_S = 3600;
const local = { t: [], inDb: [], outDb: [], dsp: [], gr: [] };

// One point a second from the live telemetry: the loudest peak, the mean load, the most reduction.
setInterval(() => {
  const t = online() ? box.telemetry : null;
  const now = Math.floor(Date.now() / 1000);
  if (!t) {
    if (local.t.length && local.t[local.t.length - 1] !== null) push(now, null, null, null, null); // a gap
    return;
  }
  const gr = Math.max(0, ...(t.reduction ?? []).map((r) => r.nsDb + r.gateDb + r.compDb + r.limitDb), t.masterReduction?.limitDb ?? 0);
  push(now, t.meters.in[0]?.peakDb ?? null, Math.max(...t.meters.out.map((m) => m.peakDb)), t.dspLoad * 100, gr);
}, 1000);

function push(t, i, o, d, g) {
  local.t.push(t);
  local.inDb.push(i === null ? null : Math.max(-90, i));
  local.outDb.push(o === null ? null : Math.max(-90, o));
  local.dsp.push(d);
  local.gr.push(g);
  while (local.t.length > KEEP_S) for (const k of Object.keys(local)) local[k].shift();
}

/** Columns from /api/history's answer, whatever its exact shape: {points: [{t|time, ...}]} or columns. */
export function historyColumns(r) {
  const rows = Array.isArray(r) ? r : (r?.points ?? r?.samples ?? r?.rows ?? null);
  if (!Array.isArray(rows) || rows.length === 0) return null;
  const time = (p) => (typeof p.t === 'number' ? (p.t > 1e12 ? p.t / 1000 : p.t) : Date.parse(p.time ?? p.at ?? p.t) / 1000);
  const num = (...v) => v.find((x) => typeof x === 'number') ?? null;
  return [
    rows.map(time),
    rows.map((p) => num(p.inPeakDb, p.in_peak_db, p.inDb, p.levels?.in?.[0]?.peakDb)),
    rows.map((p) => num(p.outPeakDb, p.out_peak_db, p.outDb, p.levels?.out?.[0]?.peakDb)),
    rows.map((p) => { const v = num(p.dspLoad, p.dsp_load); return v === null ? null : v <= 1.5 ? v * 100 : v; }),
    rows.map((p) => num(p.grDb, p.gr_db, p.reductionDb)),
  ];
}

export function HistoryCard() {
  useBox('conn');
  const el = useRef(null);
  const plot = useRef(null);
  const [source, setSource] = useState('page');
  useEffect(() => {
    let zoomed = false;
    const opts = {
      hooks: { setSelect: [() => (zoomed = true)] },
      width: Math.max(280, el.current.clientWidth),
      height: 180,
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true }, db: { range: [-90, 0] }, pct: { range: [0, 100] } },
      axes: [
        { stroke: '#8a94a3', grid: { stroke: '#2a313b' } },
        { scale: 'db', stroke: '#8a94a3', grid: { stroke: '#2a313b' }, values: (_u, v) => v.map((x) => `${x} dB`) },
        { scale: 'pct', side: 1, stroke: '#8a94a3', grid: { show: false }, values: (_u, v) => v.map((x) => `${x} %`) },
      ],
      series: [
        {},
        { label: 'In peak', scale: 'db', stroke: '#5aa9ff', width: 1 },
        { label: 'Out peak', scale: 'db', stroke: '#3ecf8e', width: 1 },
        { label: 'DSP load', scale: 'pct', stroke: '#f5c451', width: 1 },
        { label: 'Reduction', scale: 'db', stroke: '#ef5b5b', width: 1, value: (_u, v) => (v == null ? '—' : `${v.toFixed(1)} dB`) },
      ],
    };
    plot.current = new uPlot(opts, [local.t, local.inDb, local.outDb, local.dsp, local.gr.map((g) => (g === null ? null : -g))], el.current);
    let remote = null;
    const load = async () => {
      if (!online()) return;
      try {
        const now = Date.now();
        const r = await api('GET', `/api/history?from=${new Date(now - KEEP_S * 1000).toISOString()}&to=${new Date(now).toISOString()}`);
        remote = historyColumns(r);
      } catch {
        remote = null;
      }
      setSource(remote ? 'box' : 'page');
    };
    load();
    const slow = setInterval(load, 30_000);
    const tick = setInterval(() => {
      const data = remote ?? [local.t, local.inDb, local.outDb, local.dsp, local.gr.map((g) => (g === null ? null : -g))];
      plot.current.setData(data, !zoomed);
    }, 1000);
    const resize = () => plot.current.setSize({ width: Math.max(280, el.current.clientWidth), height: 180 });
    window.addEventListener('resize', resize);
    plot.current.over.addEventListener('dblclick', () => (zoomed = false));
    return () => {
      clearInterval(slow);
      clearInterval(tick);
      window.removeEventListener('resize', resize);
      plot.current.destroy();
    };
  }, []);
  return html`<section class="card" id="history" aria-labelledby="history-title">
    <h2 id="history-title">History</h2>
    <p class="dim small" id="history-source">${source === 'box' ? "The last hour from the box's session log. Drag to zoom, double-click to zoom out." : 'Since this page opened (the box keeps no history yet). Drag to zoom, double-click to zoom out.'}
      ${source === 'box' && html` <a href="/api/history/files">Session logs</a>`}</p>
    <div ref=${el} class="history-plot" id="history-plot"></div>
  </section>`;
}
