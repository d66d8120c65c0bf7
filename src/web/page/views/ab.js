// A/B compare: two slots, each keeping its edits (what you change while listening to A is stored
// back into A before switching to B), clear labels, and the list of what differs (/api/ab/diff).
import { api } from '../api.js';
import { loadAb, loadState } from '../connection.js';
import { html } from '../html.js';
import { box, showMessage, useBox } from '../store.js';
import { formatValue, shortLabel, stripOf } from '../format.js';

async function act(fn) {
  try {
    await fn();
  } catch (err) {
    showMessage(err.message, true);
  }
  await Promise.all([loadAb(), loadState()]);
}

function slotLabel(slot) {
  const s = box.ab?.[slot];
  if (!s) return 'empty';
  const when = s.storedAt ?? s.stored ?? s.at;
  const preset = s.preset?.name ?? s.presetName ?? s.preset ?? null;
  return [typeof preset === 'string' ? preset : null, when ? `stored ${new Date(when).toLocaleTimeString()}` : 'stored'].filter(Boolean).join(' · ');
}

export async function storeIn(slot) {
  await act(async () => {
    await api('POST', `/api/ab/${slot}/store`);
    showMessage(`What the box runs now is in ${slot}`);
  });
}

export async function toggle() {
  await act(async () => {
    const active = box.ab?.active;
    const other = active === 'A' ? 'B' : 'A';
    if (!box.ab?.[other]) {
      showMessage(`${other} is empty: store something in it first`, true);
      return;
    }
    // Keep the edits made while listening to this slot.
    if (active) await api('POST', `/api/ab/${active}/store`);
    const r = await api('POST', `/api/ab/${other}/recall`);
    showMessage(`Listening to ${other}${r.locked?.length ? ` (${r.locked.length} locked left alone)` : ''}`);
  });
}

function label(id) {
  const p = box.byId.get(id);
  if (!p) return id;
  const strip = { mic: 'Mic', inst: 'Inst', out: '' }[stripOf(id)];
  return `${strip ? `${strip} ` : ''}${shortLabel(p)}`.trim();
}

export function AbCard() {
  const { ab, diff } = useBox('ab', 'state', 'conn');
  const active = ab?.active ?? null;
  return html`<section class="card" id="ab" aria-labelledby="ab-title">
    <h2 id="ab-title">A/B compare</h2>
    <div class="ab-slots">
      ${['A', 'B'].map((slot) => html`<div class="ab-slot" data-slot=${slot} data-active=${String(active === slot)}>
        <strong>${slot}</strong>${active === slot && html` <span class="badge" data-state="online">listening</span>`}
        <span class="dim ab-label" id=${`ab-label-${slot.toLowerCase()}`}>${slotLabel(slot)}</span>
        <button type="button" id=${`ab-store-${slot.toLowerCase()}`} onClick=${() => storeIn(slot)} title=${`Put what the box runs now into ${slot}`}>Store current in ${slot}</button>
      </div>`)}
    </div>
    <button type="button" id="ab-toggle" class="primary" data-active=${active ?? ''} onClick=${toggle}
      disabled=${!ab?.A && !ab?.B}>${active ? `Listening to ${active}: switch to ${active === 'A' ? 'B' : 'A'}` : 'Listen to A'}</button>
    <p class="dim">Edits made while listening to a slot stay in that slot when you switch.</p>
    <h3>Differences ${ab?.A && ab?.B ? html`<span class="dim">(${diff.length})</span>` : ''}</h3>
    ${ab?.A && ab?.B
      ? diff.length
        ? html`<table class="diff" id="ab-diff"><thead><tr><th>Parameter</th><th>A</th><th>B</th></tr></thead><tbody>
            ${diff.map((d) => html`<tr data-id=${d.id}><td>${label(d.id)}</td><td>${d.A === null ? '—' : formatValue(box.byId.get(d.id), d.A)}</td><td>${d.B === null ? '—' : formatValue(box.byId.get(d.id), d.B)}</td></tr>`)}
          </tbody></table>`
        : html`<p class="dim" id="ab-diff">A and B are the same.</p>`
      : html`<p class="dim" id="ab-diff">Store something in both slots to compare.</p>`}
  </section>`;
}
