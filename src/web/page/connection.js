// The live link to the box: /ws/telemetry, and the whole state fetched again on every (re)connect
// (parameter table and values, box state, presets, A/B), so the page never shows what the box no
// longer has. Offline within 2 s: the socket closes, or nothing arrives for 1.5 s and the box does
// not answer a plain request within 1.5 s either (a phone that lost the Wi-Fi keeps a dead socket; a
// box busy starting can take half a second to answer, and must not flap the page offline).
import { api, raw } from './api.js';
import { addEvent, box, notify, paramErrors, set } from './store.js';

const SILENT_MS = 1500;
const PROBE_MS = 1500;
let ws = null;
let lastMessage = 0;
let probing = false;
let retry = null;

function goOffline(why) {
  if (box.connection === 'offline') return;
  set('conn', { connection: 'offline', telemetry: null });
  addEvent('offline', `lost the box (${why})`);
  notify('slow', 'state', 'params');
}

export async function loadParams() {
  const params = await api('GET', '/api/params');
  box.params = params;
  box.byId = new Map(params.map((p) => [p.id, p]));
  box.values = Object.fromEntries(params.map((p) => [p.id, p.value]));
  notify('params');
}

export async function loadState() {
  try {
    set('state', { state: await api('GET', '/api/state') });
  } catch {
    /* no presets service on this box */
  }
}

export async function loadPresets() {
  try {
    set('presets', { presets: await api('GET', '/api/presets') });
  } catch {
    set('presets', { presets: [] });
  }
}

export async function loadAb() {
  try {
    const ab = await api('GET', '/api/ab');
    set('ab', { ab, diff: ab.diff ?? [] });
  } catch {
    /* no presets service */
  }
}

async function resync() {
  const status = await api('GET', '/api/status');
  set('info', { info: { name: status.name, deviceId: status.deviceId, version: status.version }, engine: status.engine });
  await Promise.all([loadParams(), loadState(), loadPresets(), loadAb()]);
}

/** The whole state the box sends first on every (re)connect: everything on screen is replaced. */
function applySnapshot(s) {
  box.info = { name: s.name, deviceId: s.deviceId, version: s.version };
  box.engine = s.status;
  box.telemetry = s.telemetry;
  Object.assign(box.values, s.params);
  if (s.state) box.state = s.state;
  if (s.presets) box.presets = s.presets;
  if (s.ab) {
    box.ab = s.ab;
    box.diff = s.ab.diff ?? [];
  }
  if (s.ota) box.otaSummary = s.ota;
  if (s.midi) box.midi = s.midi;
  if (s.health) {
    box.health = s.health;
    box.healthPushed = true;
  }
  if (s.doctor) box.doctor = s.doctor;
  box.boxEvents = s.events ?? null;
  box.xruns = s.xruns ?? null;
  if (s.latency !== undefined) box.latency = s.latency;
  notify('info', 'engine', 'params', 'state', 'presets', 'ab', 'ota', 'midi', 'health', 'doctor', 'events', 'slow', 'latency');
}

function onMessage(msg) {
  lastMessage = performance.now();
  switch (msg.type) {
    case 'telemetry':
      if (box.telemetry && msg.data.xruns > box.telemetry.xruns) addEvent('xrun', `${msg.data.xruns - box.telemetry.xruns} xrun(s), ${msg.data.xruns} in all`);
      box.telemetry = msg.data;
      box.telemetryAt = lastMessage;
      box.frames++;
      return;
    case 'status': {
      const before = box.engine?.state;
      set('engine', { engine: msg.data });
      if (before && before !== msg.data.state) addEvent('engine', `engine ${msg.data.state.replaceAll('_', ' ')}${msg.data.reason ? `: ${msg.data.reason}` : ''}`);
      return;
    }
    case 'params':
      Object.assign(box.values, msg.data);
      notify('params');
      return;
    case 'state': {
      const abChanged = box.state?.ab_active !== msg.data.ab_active || box.state?.preset_id !== msg.data.preset_id;
      set('state', { state: msg.data });
      if (msg.data.params) {
        Object.assign(box.values, msg.data.params);
        notify('params');
      }
      if (abChanged) loadAb();
      return;
    }
    case 'presets':
      set('presets', { presets: msg.data });
      return;
    case 'spectrum': {
      const first = !box.spectrum;
      box.spectrum = msg.data;
      if (first) notify('spectrum');
      return;
    }
    case 'snapshot':
      applySnapshot(msg.data);
      return;
    case 'ab':
      set('ab', { ab: msg.data, diff: msg.data.diff ?? [] });
      return;
    case 'health':
      set('health', { health: msg.data, healthPushed: true });
      return;
    case 'doctor':
      set('doctor', { doctor: msg.data });
      return;
    case 'event': {
      // An event that gathers more (xruns) comes again with the same id: replaced, not added.
      const list = (box.boxEvents ?? []).filter((e) => e.id !== msg.data.id);
      set('events', { boxEvents: [...list, msg.data].slice(-200) });
      return;
    }
    case 'latency':
      set('latency', { latency: msg.data });
      return;
    case 'info':
      set('info', { info: msg.data });
      return;
    case 'xruns':
      set('slow', { xruns: msg.data });
      return;
    case 'ota':
      set('ota', { otaSummary: msg.data });
      return;
    case 'midi':
      set('midi', { midi: msg.data });
      return;
    default:
      // Messages this page does not know yet (the box is newer): ignored.
      if (msg.type) box[`ws_${msg.type}`] = msg.data;
      notify(`ws_${msg.type}`);
  }
}

export function connect() {
  performance.mark('hushbox:connect');
  clearTimeout(retry);
  const sock = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/telemetry`);
  ws = sock;
  sock.addEventListener('open', () => {
    lastMessage = performance.now();
    performance.mark('hushbox:socket-open');
    // The table and lists again, beside the whole state the box sends first: nothing stale stays.
    resync().catch(() => sock.close());
  });
  sock.addEventListener('message', (ev) => {
    if (ws !== sock) return;
    try {
      onMessage(JSON.parse(ev.data));
    } catch {
      /* one bad frame is skipped */
    }
    // The box answers: online, from its first message (the whole state), not after the page's own requests.
    if (box.connection !== 'online') {
      performance.mark('hushbox:online');
      const was = box.connection;
      // What was on screen before is stale: old errors go with the old connection.
      paramErrors.clear();
      set('conn', { connection: 'online', message: null });
      if (was === 'offline') addEvent('online', 'the box answers again');
      notify('message', 'params');
    }
  });
  sock.addEventListener('close', () => {
    if (ws !== sock) return;
    ws = null;
    goOffline('connection closed');
    retry = setTimeout(connect, 1000);
  });
}

/** Nothing for a while: ask the box once; no answer means it is gone. */
setInterval(async () => {
  if (!ws || probing || box.connection !== 'online' || performance.now() - lastMessage < SILENT_MS) return;
  probing = true;
  try {
    const { res } = await raw('GET', '/api/auth', undefined, { timeoutMs: PROBE_MS });
    if (res.ok) lastMessage = performance.now();
    else throw new Error(String(res.status));
  } catch {
    const dead = ws;
    ws = null;
    goOffline('no answer');
    dead?.close();
    retry = setTimeout(connect, 1000);
  } finally {
    probing = false;
  }
}, 250);
