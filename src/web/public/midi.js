// The MIDI view: incoming activity, the mapping table, and learn (a "MIDI"
// button on each control, and for presets, A/B and recording here). It renders
// what the box says (GET /api/midi, {type: "midi"} on /ws/telemetry).
const $ = (sel) => document.querySelector(sel);

let ctx = null;
const TARGETS = { toggle: 'switch', preset: 'Program Change → preset', ab_toggle: 'A/B toggle', record: 'start/stop recording' };

function sourceText(m) {
  const ch = m.channel === 'omni' ? 'any ch' : `ch ${m.channel}`;
  if (m.source === 'program') return `Program Change, ${ch}`;
  return `${m.source === 'cc' ? 'CC' : 'Note'} ${m.number}, ${ch}`;
}

function targetText(m) {
  if (m.action === 'param') return `${m.param}${m.mode && m.mode !== 'absolute' ? ` (${m.mode.replace('_', ' ')})` : ''}${m.invert ? ', inverted' : ''}`;
  if (m.action === 'toggle') return `${m.param} on/off`;
  return TARGETS[m.action];
}

function activityText(a) {
  const kind = { cc: 'CC', note_on: 'Note on', note_off: 'Note off', program: 'Program' }[a.kind];
  return `${a.at.slice(11, 19)} ch ${a.channel} ${kind} ${a.number}${a.kind === 'program' ? '' : ` = ${a.value}`}`;
}

export function renderMidi(s) {
  const c = s.counters;
  $('#midi-facts').replaceChildren(
    ...[
      ['Input', s.input === 'seq' ? 'every MIDI device (ALSA sequencer)' : s.input],
      ['Ports', c ? String(c.ports) : '—'],
      ['Messages', c ? `${c.received} received · ${c.applied} applied · ${c.dropped} dropped` : 'engine not running'],
    ].flatMap(([k, v]) => [ctx.el('dt', {}, k), ctx.el('dd', {}, v)]),
  );
  const learning = $('#midi-learning');
  learning.hidden = !s.learning;
  if (s.learning) learning.textContent = `Learning ${s.learning.param ?? TARGETS[s.learning.action]}: move a knob or press a switch…`;
  $('#midi-activity').replaceChildren(...s.activity.slice(0, 8).map((a) => ctx.el('li', {}, activityText(a))));
  const rows = s.mappings.map((m) => {
    const remove = ctx.el('button', { type: 'button', title: 'Remove this mapping' }, '✕');
    remove.addEventListener('click', () => act(() => ctx.api('DELETE', `/api/midi/mappings/${m.id}`)));
    return ctx.el('tr', { dataset: { id: m.id } }, ctx.el('td', {}, sourceText(m)), ctx.el('td', {}, targetText(m)), ctx.el('td', {}, remove));
  });
  $('#midi-mappings').replaceChildren(...rows);
  $('#midi-empty').hidden = rows.length > 0;
}

async function refresh() {
  try {
    renderMidi(await ctx.api('GET', '/api/midi'));
  } catch {
    $('#midi').hidden = true; // no MIDI on this box
  }
}

async function act(fn) {
  try {
    await fn();
  } catch (err) {
    ctx.showMessage(err.message, true);
  }
  refresh();
}

/** MIDI learn for a parameter (a knob) or a switch: answered once a control moved. */
export function learn(request) {
  return act(async () => {
    const m = await ctx.api('POST', '/api/midi/learn', request);
    ctx.showMessage(`MIDI: ${sourceText(m)} → ${targetText(m)}`);
  });
}

export function initMidi(helpers) {
  ctx = helpers;
  for (const b of document.querySelectorAll('#midi [data-learn]')) b.addEventListener('click', () => learn({ action: b.dataset.learn }));
  $('#midi-cancel').addEventListener('click', () => act(() => ctx.api('DELETE', '/api/midi/learn')));
  refresh();
}
