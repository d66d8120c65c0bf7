// Health that warns: the engine's figures and the system's, coloured by thresholds (DSP load, xruns,
// CPU, temperature, throttling), the doctor's warn/fail items with their fixes, and an event list.
import { api } from '../api.js';
import { html } from '../html.js';
import { box, online, set, useBox } from '../store.js';
import { timeText } from '../format.js';

/** ok / warn / bad for a figure; thresholds a studio would choose (README, "The page"). */
export const LEVELS = {
  dspLoad: (v) => (v >= 0.9 ? 'bad' : v >= 0.7 ? 'warn' : 'ok'),
  cpu: (v) => (v >= 95 ? 'bad' : v >= 80 ? 'warn' : 'ok'),
  temperature: (v) => (v >= 80 ? 'bad' : v >= 70 ? 'warn' : 'ok'),
  xrunsRecent: (n) => (n >= 10 ? 'bad' : n > 0 ? 'warn' : 'ok'),
  memory: (v) => (v >= 95 ? 'bad' : v >= 85 ? 'warn' : 'ok'),
  disk: (v) => (v >= 95 ? 'bad' : v >= 85 ? 'warn' : 'ok'),
};

// xruns seen in the last minute, from the telemetry's running count.
const xrunSamples = [];
function recentXruns(total, now) {
  xrunSamples.push([now, total]);
  while (xrunSamples.length > 1 && now - xrunSamples[0][0] > 60_000) xrunSamples.shift();
  return Math.max(0, total - xrunSamples[0][1]);
}

function Fact({ k, v, level, id }) {
  return html`<div class="fact" data-level=${level ?? 'none'} data-fact=${id}><dt>${k}</dt><dd>${v}</dd></div>`;
}

export function EngineCard() {
  const { telemetry: t, engine } = useBox('slow', 'engine', 'conn');
  const live = online() && t;
  const recent = live ? recentXruns(t.xruns, performance.now()) : 0;
  return html`<section class="card" id="engine" aria-labelledby="engine-title">
    <h2 id="engine-title">Engine</h2>
    <dl id="engine-facts" class="facts">
      <${Fact} id="state" k="State" v=${online() ? (engine?.state ?? 'unknown').replaceAll('_', ' ') : 'unknown'} level=${!online() ? 'warn' : engine?.state === 'running' ? 'ok' : engine?.state === 'failed' ? 'bad' : 'warn'} />
      ${engine?.reason && online() && html`<${Fact} id="reason" k="Why" v=${engine.reason} level="warn" />`}
      <${Fact} id="rate" k="Sample rate" v=${live ? `${t.rate} Hz` : '—'} />
      <${Fact} id="period" k="Period" v=${live ? `${t.frames} × ${t.periods}` : '—'} />
      <${Fact} id="latency" k="Latency" v=${live ? `${t.latencyMs} ms (${t.latencyFrames} frames)` : '—'} />
      <${Fact} id="dsp" k="DSP load" v=${live ? `${(t.dspLoad * 100).toFixed(1)} % (max ${(t.dspLoadMax * 100).toFixed(0)} %)` : '—'} level=${live ? LEVELS.dspLoad(Math.max(t.dspLoadMean ?? t.dspLoad, t.dspLoad)) : undefined} />
      <${Fact} id="dsp-max" k="Peak DSP load" v=${live ? `${(t.dspLoadMax * 100).toFixed(0)} %` : '—'} level=${live ? LEVELS.dspLoad(t.dspLoadMax) : undefined} />
      <${Fact} id="xruns" k="Xruns" v=${live ? `${t.xruns}${recent ? ` (${recent} in the last minute)` : ''}` : '—'} level=${live ? LEVELS.xrunsRecent(recent) : undefined} />
      ${box.xruns && online() && html`<${Fact} id="xruns-total" k="Xruns, all time" v=${`${box.xruns.total}${box.xruns.lastAt ? ` · last ${new Date(box.xruns.lastAt).toLocaleString()}` : ''}`} />`}
      <${Fact} id="jitter" k="Wake-up jitter" v=${live ? `${t.jitterUs.toFixed(0)} µs (max ${t.jitterMaxUs.toFixed(0)} µs)` : '—'} />
      <${Fact} id="rt" k="Real-time" v=${live ? (t.realtime ? 'SCHED_FIFO' : 'no (not permitted)') : '—'} level=${live ? (t.realtime ? 'ok' : 'warn') : undefined} />
      <${Fact} id="restarts" k="Restarts" v=${engine && online() ? String(engine.restarts ?? 0) : '—'} level=${engine?.restarts ? 'warn' : undefined} />
    </dl>
  </section>`;
}

export async function refreshHealth() {
  if (!online()) return;
  try {
    set('health', { health: await api('GET', '/api/health') });
  } catch {
    /* the next poll tries again */
  }
}

export async function refreshDoctor() {
  if (!online()) return;
  try {
    set('doctor', { doctor: await api('GET', '/api/doctor') });
  } catch {
    /* the next poll tries again */
  }
}

export function SystemCard() {
  const { health: h } = useBox('health', 'conn');
  const gib = (b) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const live = online() && h;
  return html`<section class="card" id="system" aria-labelledby="health-title">
    <h2 id="health-title">System</h2>
    <dl id="health-facts" class="facts">
      <${Fact} id="cpu" k="CPU" v=${live ? `${h.cpu.loadPercent?.toFixed?.(0) ?? '—'} % · load ${h.cpu.load1?.toFixed?.(2) ?? '—'}` : '—'} level=${live && h.cpu.loadPercent != null ? LEVELS.cpu(h.cpu.loadPercent) : undefined} />
      <${Fact} id="temperature" k="Temperature" v=${live && h.cpu.temperatureC != null ? `${h.cpu.temperatureC.toFixed(1)} °C` : '—'} level=${live && h.cpu.temperatureC != null ? LEVELS.temperature(h.cpu.temperatureC) : undefined} />
      <${Fact} id="throttling" k="Throttling" v=${!live || h.throttling == null ? '—' : h.throttling.throttledNow ? 'throttled now' : 'no'} level=${live && h.throttling ? (h.throttling.throttledNow ? 'bad' : 'ok') : undefined} />
      <${Fact} id="memory" k="Memory" v=${live ? `${h.memory.usedPercent.toFixed(0)} % of ${gib(h.memory.totalBytes)}` : '—'} level=${live ? LEVELS.memory(h.memory.usedPercent) : undefined} />
      <${Fact} id="disk" k="Data disk" v=${live && h.disk ? `${h.disk.usedPercent.toFixed(0)} % of ${gib(h.disk.totalBytes)}${h.disk.full ? ' — full' : ''}` : '—'} level=${live && h.disk ? (h.disk.full ? 'bad' : LEVELS.disk(h.disk.usedPercent)) : undefined} />
      <${Fact} id="uptime" k="Uptime" v=${live ? `${(h.uptimeS / 3600).toFixed(1)} h` : '—'} />
    </dl>
  </section>`;
}

export function DoctorCard() {
  const { doctor: d } = useBox('doctor', 'conn');
  // The box's summary (whole state, {type: "doctor"}) lists the problems; GET /api/doctor every check.
  const problems = (d?.problems ?? d?.checks?.filter((c) => c.status === 'warn' || c.status === 'fail') ?? []).slice().sort((a, b) => (a.status === b.status ? 0 : a.status === 'fail' ? -1 : 1));
  return html`<section class="card" id="doctor" aria-labelledby="doctor-title">
    <h2 id="doctor-title">Doctor</h2>
    ${!d ? html`<p class="dim">Asking the doctor…</p>` : html`
      <p id="doctor-overall" data-level=${d.overall === 'pass' ? 'ok' : d.overall === 'warn' ? 'warn' : 'bad'}>
        ${d.overall === 'pass' ? 'Everything checked passes.' : `${d.counts.fail} failing, ${d.counts.warn} warning`} <span class="dim">(${d.counts.pass} pass, ${d.counts.skip} skipped)</span>
      </p>
      <ul class="doctor-items" id="doctor-items">
        ${problems.map((c) => html`<li data-id=${c.id} data-status=${c.status}>
          <strong>${c.status === 'fail' ? 'Fail' : 'Warn'}: ${c.title}</strong> <span class="dim">${c.detail}</span>
          ${c.fix && html`<p class="fix">Fix: ${c.fix}</p>`}
        </li>`)}
      </ul>`}
    <button type="button" id="doctor-run" onClick=${refreshDoctor}>Check again</button>
  </section>`;
}

/** The event list: the box's own (kept on /data, pushed as it happens), else what this page saw. */
export function EventsCard() {
  const { events, boxEvents } = useBox('events', 'conn');
  const list = boxEvents
    ? boxEvents.slice(-50).reverse().map((e) => ({ id: e.id, at: e.lastTime ?? e.time, kind: e.type, level: e.level, text: `${e.message}${e.count > 1 ? ` (×${e.count})` : ''}` }))
    : events.slice(0, 50);
  return html`<section class="card" id="events" aria-labelledby="events-title">
    <h2 id="events-title">Events</h2>
    ${!boxEvents && html`<p class="dim small">Seen by this page since it opened (this box keeps no event list).</p>`}
    <ul class="events" id="event-list">
      ${list.length === 0 && html`<li class="dim">Nothing yet.</li>`}
      ${list.map((e) => html`<li key=${e.id ?? e.at + e.text} data-kind=${e.kind} data-level=${e.level ?? 'info'}><time datetime=${e.at}>${timeText(e.at)}</time> ${e.text}</li>`)}
    </ul>
  </section>`;
}
