// MIDI: incoming activity, the mapping table, and learn (a "MIDI" button on each control, and for
// presets, A/B and recording here). Renders GET /api/midi and {type: "midi"} on /ws/telemetry.
import { useEffect } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { box, online, set, showMessage, useBox } from '../store.js';

const TARGETS = { toggle: 'switch', preset: 'Program Change → preset', ab_toggle: 'A/B toggle', record: 'start/stop recording' };

export function sourceText(m) {
  const ch = m.channel === 'omni' ? 'any ch' : `ch ${m.channel}`;
  if (m.source === 'program') return `Program Change, ${ch}`;
  return `${m.source === 'cc' ? 'CC' : 'Note'} ${m.number}, ${ch}`;
}

function targetText(m) {
  if (m.action === 'param') return `${m.param}${m.mode && m.mode !== 'absolute' ? ` (${m.mode.replace('_', ' ')})` : ''}${m.invert ? ', inverted' : ''}${m.resolution === 14 ? ', 14-bit' : ''}`;
  if (m.action === 'toggle') return `${m.param} on/off`;
  return TARGETS[m.action];
}

function activityText(a) {
  const kind = { cc: 'CC', note_on: 'Note on', note_off: 'Note off', program: 'Program' }[a.kind];
  return `${a.at.slice(11, 19)} ch ${a.channel} ${kind} ${a.number}${a.kind === 'program' ? '' : ` = ${a.value}`}`;
}

async function refresh() {
  if (!online()) return;
  try {
    set('midi', { midi: await api('GET', '/api/midi'), midiMissing: false });
  } catch {
    set('midi', { midiMissing: true });
  }
}

async function act(fn) {
  try {
    await fn();
  } catch (err) {
    showMessage(err.message, true);
  }
  refresh();
}

/** MIDI learn for a parameter (a knob) or a switch: answered once a control moved. */
export function learn(request) {
  return act(async () => {
    const m = await api('POST', '/api/midi/learn', request);
    showMessage(`MIDI: ${sourceText(m)} → ${targetText(m)}`);
  });
}

export function MidiCard() {
  const { midi: s, midiMissing } = useBox('midi', 'conn');
  useEffect(() => {
    refresh();
  }, [box.connection]);
  if (midiMissing || !s) return null;
  const c = s.counters;
  return html`<section class="card" id="midi" aria-labelledby="midi-title">
    <h2 id="midi-title">MIDI</h2>
    <dl id="midi-facts" class="facts">
      <div class="fact"><dt>Input</dt><dd>${s.input === 'seq' ? 'every MIDI device (ALSA sequencer)' : s.input}</dd></div>
      <div class="fact"><dt>Ports</dt><dd>${c ? String(c.ports) : '—'}</dd></div>
      <div class="fact"><dt>Messages</dt><dd>${c ? `${c.received} received · ${c.applied} applied · ${c.dropped} dropped` : 'engine not running'}</dd></div>
    </dl>
    ${s.learning && html`<p id="midi-learning" class="outcome" role="status">Learning ${s.learning.param ?? TARGETS[s.learning.action]}: move a knob or press a switch…</p>`}
    <div class="row wrap">
      <button type="button" data-learn="preset" onClick=${() => learn({ action: 'preset' })} title="Learn: send a Program Change">Learn presets</button>
      <button type="button" data-learn="ab_toggle" onClick=${() => learn({ action: 'ab_toggle' })} title="Learn: press a switch">Learn A/B</button>
      <button type="button" data-learn="record" onClick=${() => learn({ action: 'record' })} title="Learn: press a switch">Learn record</button>
      <button type="button" id="midi-cancel" onClick=${() => act(() => api('DELETE', '/api/midi/learn'))}>Cancel learn</button>
    </div>
    <table class="midi-table"><tbody id="midi-mappings">
      ${s.mappings.map((m) => html`<tr data-id=${m.id}><td>${sourceText(m)}</td><td>${targetText(m)}</td>
        <td><button type="button" title="Remove this mapping" aria-label="Remove this mapping" onClick=${() => act(() => api('DELETE', `/api/midi/mappings/${m.id}`))}>✕</button></td></tr>`)}
    </tbody></table>
    ${s.mappings.length === 0 && html`<p id="midi-empty" class="dim">No mappings: click MIDI on a control, then move a knob.</p>`}
    <h3>Activity</h3>
    <ul id="midi-activity" class="midi-activity">${s.activity.slice(0, 8).map((a) => html`<li>${activityText(a)}</li>`)}</ul>
  </section>`;
}
