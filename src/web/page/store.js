// What the box says, in one place. The page keeps nothing of its own the box has not confirmed:
// views render from here, and every message from /ws/telemetry (or answer from the API) lands here.
// Views subscribe by topic; telemetry (50 Hz) is drawn by the canvases at the display's frame rate
// and reaches the text views through the 'slow' topic about four times a second.
import { useEffect, useState } from 'preact/hooks';

export const box = {
  connection: 'connecting', // 'online' | 'offline' | 'connecting'
  info: null, // {name, deviceId, version}
  engine: null, // engine status
  params: [], // the parameter table
  byId: new Map(),
  values: {}, // id -> value, as the box last said
  state: null, // <base>/state: preset, bypass, ab_active, locked, profile
  presets: [],
  ab: null,
  diff: [],
  health: null,
  doctor: null,
  ota: null,
  midi: null,
  events: [], // what this page saw: {at, kind, text}
  boxEvents: null, // the box's own event list (/api/events, {type: "event"}), when it keeps one
  xruns: null, // {session, total, lastAt}: the total survives restarts
  telemetry: null,
  telemetryAt: 0,
  frames: 0, // telemetry frames received
  drawn: 0, // animation frames the meters were drawn in
  message: null, // {text, error}
};
// Tests and the curious read the model from the console.
window.hushbox = box;

const listeners = new Map();
const dirty = new Set();
let scheduled = false;

export function notify(...topics) {
  for (const t of topics) dirty.add(t);
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    const fire = [...dirty];
    dirty.clear();
    const seen = new Set();
    for (const t of fire) {
      for (const l of listeners.get(t) ?? []) {
        if (seen.has(l)) continue;
        seen.add(l);
        l();
      }
    }
  });
}

export function set(topic, patch) {
  Object.assign(box, patch);
  notify(topic);
}

/** Re-render the calling component when any of the topics changes. */
export function useBox(...topics) {
  const [, tick] = useState(0);
  useEffect(() => {
    const l = () => tick((x) => x + 1);
    for (const t of topics) {
      if (!listeners.has(t)) listeners.set(t, new Set());
      listeners.get(t).add(l);
    }
    return () => topics.forEach((t) => listeners.get(t)?.delete(l));
  }, []);
  return box;
}

export const online = () => box.connection === 'online';

/** Errors of refused parameter changes, by parameter id: shown beside the control until it is changed again or the box reconnects. */
export const paramErrors = new Map();

let messageTimer;
export function showMessage(text, error = false) {
  clearTimeout(messageTimer);
  set('message', { message: { text, error } });
  messageTimer = setTimeout(() => set('message', { message: null }), error ? 8000 : 3000);
}

/** An event the page saw itself (while the box's own list, /api/events, is not there). */
export function addEvent(kind, text, at = new Date().toISOString()) {
  box.events = [{ at, kind, text }, ...box.events].slice(0, 100);
  notify('events');
}
