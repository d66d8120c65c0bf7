// The front panel: meters over /ws/telemetry, controls from /api/params.
const $ = (sel) => document.querySelector(sel);
const CHANNEL_NAMES = ['Mic', 'Inst', 'Ch 3', 'Ch 4', 'Ch 5', 'Ch 6', 'Ch 7', 'Ch 8'];
const FLOOR_DB = -60;

const state = { params: [], meterEls: [], frames: 0 };

function pct(db) {
  return Math.max(0, Math.min(100, ((db - FLOOR_DB) / -FLOOR_DB) * 100));
}

function buildMeters(channels) {
  const root = $('#meters');
  root.replaceChildren();
  state.meterEls = [];
  for (const dir of ['in', 'out']) {
    for (let c = 0; c < channels; c++) {
      const row = document.createElement('div');
      row.className = 'meter';
      row.dataset.dir = dir;
      row.dataset.channel = String(c);
      row.innerHTML = `<span>${CHANNEL_NAMES[c]} ${dir}</span><div class="bar"><div class="rms"></div><div class="peak"></div></div><span class="value">-∞</span>`;
      root.append(row);
      state.meterEls.push({ dir, c, rms: row.querySelector('.rms'), peak: row.querySelector('.peak'), value: row.querySelector('.value') });
    }
  }
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
  const facts = {
    'Sample rate': `${t.rate} Hz`,
    Period: `${t.frames} × ${t.periods}`,
    Latency: `${t.latencyMs} ms (${t.latencyFrames} frames)`,
    'DSP load': `${(t.dspLoad * 100).toFixed(1)} % (max ${(t.dspLoadMax * 100).toFixed(1)} %)`,
    'Wake-up jitter': `${t.jitterUs.toFixed(0)} µs (max ${t.jitterMaxUs.toFixed(0)} µs)`,
    Xruns: String(t.xruns),
    'Real-time': t.realtime ? 'SCHED_FIFO' : 'no (not permitted)',
    Heartbeat: t.heartbeats.audio.ageMs === null ? '—' : `${t.heartbeats.audio.ageMs.toFixed(0)} ms ago`,
  };
  const dl = $('#engine-facts');
  dl.replaceChildren(...Object.entries(facts).flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    return [dt, dd];
  }));
}

function renderStatus(s) {
  const el = $('#engine-state');
  el.dataset.state = s.state;
  el.textContent = s.state.replaceAll('_', ' ');
  el.title = s.reason ?? '';
}

function renderParamValues(values) {
  for (const [id, value] of Object.entries(values)) {
    const input = document.getElementById(`param-${id}`);
    if (input && document.activeElement !== input) {
      input.value = String(value);
      input.nextElementSibling.textContent = formatValue(state.params.find((p) => p.id === id), value);
    }
  }
}

function formatValue(p, v) {
  if (!p) return String(v);
  return `${Number(v).toFixed(p.unit === 'dB' ? 1 : 2)} ${p.unit}`.trim();
}

async function setParam(id, value) {
  const err = $('#control-error');
  const res = await fetch(`/api/params/${encodeURIComponent(id)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
  });
  if (res.ok) {
    err.hidden = true;
  } else {
    const body = await res.json().catch(() => ({ message: res.statusText }));
    err.textContent = body.message;
    err.hidden = false;
  }
}

async function buildControls() {
  const res = await fetch('/api/params');
  state.params = await res.json();
  const form = $('#controls');
  form.replaceChildren();
  for (const p of state.params) {
    const wrap = document.createElement('div');
    wrap.className = 'control';
    const step = p.scale === 'bool' || p.scale === 'enum' ? 1 : (p.max - p.min) / 480;
    wrap.innerHTML = `<label for="param-${p.id}">${p.name}</label><input type="range" id="param-${p.id}" name="${p.id}" min="${p.min}" max="${p.max}" step="${step}" value="${p.value}"><output>${formatValue(p, p.value)}</output>`;
    const input = wrap.querySelector('input');
    let pending;
    input.addEventListener('input', () => {
      input.nextElementSibling.textContent = formatValue(p, input.value);
      clearTimeout(pending);
      pending = setTimeout(() => setParam(p.id, Number(input.value)), 30);
    });
    form.append(wrap);
  }
}

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
  });
  ws.addEventListener('close', () => {
    conn.dataset.state = 'stopped';
    conn.textContent = 'offline';
    setTimeout(connect, 1000);
  });
}

async function init() {
  const status = await (await fetch('/api/status')).json();
  $('#device-name').textContent = `${status.name} · ${status.deviceId} · v${status.version}`;
  renderStatus(status.engine);
  buildMeters(status.telemetry?.channels ?? 2);
  await buildControls();
  connect();
}

window.hushbox = state;
init();
