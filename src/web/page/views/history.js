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

const COLUMNS = ['in1PeakDb', 'out1PeakDb', 'dspLoad', 'micNsDb', 'micGateDb', 'micCompDb', 'micLimitDb', 'masterLimitDb'];

/** uPlot's columns from /api/history's answer (columnar already: data[0] the times, then the columns asked for). */
export function historyColumns(r) {
  if (!r || !Array.isArray(r.data) || !Array.isArray(r.columns) || r.data.length === 0 || r.data[0].length === 0) return null;
  const col = (name) => r.data[r.columns.indexOf(name)] ?? r.data[0].map(() => null);
  const gr = r.data[0].map((_t, i) => {
    const parts = ['micNsDb', 'micGateDb', 'micCompDb', 'micLimitDb', 'masterLimitDb'].map((n) => col(n)[i]);
    return parts.every((v) => v === null) ? null : -parts.reduce((sum, v) => sum + (v ?? 0), 0);
  });
  return [r.data[0], col('in1PeakDb').map((v) => (v === null ? null : Math.max(-90, v))), col('out1PeakDb').map((v) => (v === null ? null : Math.max(-90, v))), col('dspLoad').map((v) => (v === null ? null : v * 100)), gr];
}

/** The session logs on /data, to download (JSON lines and CSV; rotated parts gzipped). */
function SessionFiles() {
  const [list, setList] = useState(null);
  useEffect(() => {
    api('GET', '/api/history/sessions').then((r) => setList(r), () => setList(null));
  }, []);
  if (!list?.sessions?.length) return null;
  return html`<details class="sessions" id="history-sessions"><summary>Session logs (${list.sessions.length}, ${(list.log.bytes / 1048576).toFixed(1)} MB of ${(list.log.maxBytes / 1048576).toFixed(0)} MB)</summary>
    <ul>${list.sessions.slice(0, 10).map((s) => html`<li>${new Date(s.startedAt * 1000).toLocaleString()}${s.current ? ' (this run)' : ''}:
      ${s.files.map((f) => html` <a href=${`/api/history/sessions/${encodeURIComponent(f.name)}`} download>${f.format}${f.compressed ? '.gz' : ''}</a>`)}</li>`)}</ul>
  </details>`;
}

export function HistoryCard() {
  useBox('conn');
  const el = useRef(null);
  const plot = useRef(null);
  const [source, setSource] = useState('page');
  useEffect(() => {
    let zoomed = false;
    const opts = {
      hooks: {
        setSelect: [() => (zoomed = true)],
        // The time span shown, for tests and the curious (it shrinks on a zoom).
        setScale: [(u, key) => key === 'x' && u.scales.x.max != null && (el.current.dataset.xSpan = String(Math.round(u.scales.x.max - u.scales.x.min)))],
      },
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
        remote = historyColumns(await api('GET', `/api/history?from=-${KEEP_S}&columns=${COLUMNS.join(',')}`));
      } catch {
        remote = null;
      }
      setSource(remote ? 'box' : 'page');
    };
    load();
    const slow = setInterval(load, 10_000);
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
</p>
    ${source === 'box' && html`<${SessionFiles} />`}
    <div ref=${el} class="history-plot" id="history-plot"></div>
  </section>`;
}
