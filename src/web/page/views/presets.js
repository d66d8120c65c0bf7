// Presets done properly: recall (again, too: back to the stored values after tweaks), save
// (overwrite the current user preset), save as (then selected), rename, notes, delete, factory and
// user presets apart, import (with a dry run first) and export, and locks. Dialogs, not prompt().
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { loadPresets, loadState } from '../connection.js';
import { ask, confirmDialog } from '../dialog.js';
import { html } from '../html.js';
import { box, showMessage, useBox } from '../store.js';
import { shortLabel } from '../format.js';

async function run(fn) {
  try {
    return await fn();
  } catch (err) {
    showMessage(err.message, true);
    return undefined;
  } finally {
    await Promise.all([loadPresets(), loadState()]);
  }
}

export async function applyPreset(id) {
  const r = await api('POST', `/api/presets/${encodeURIComponent(id)}/apply`);
  const missing = r?.unknown?.length ? ` (${r.unknown.length} parameters this engine lacks were skipped)` : '';
  const locked = r?.locked?.length ? `; ${r.locked.length} locked left alone` : '';
  showMessage(`${r?.preset?.name ?? id} recalled${missing}${locked}`);
}

function currentPreset() {
  return box.presets.find((p) => p.id === box.state?.preset_id) ?? null;
}

const nameCheck = (name) => (!name.trim() ? 'Give the preset a name.' : null);

export async function saveAs() {
  const cur = currentPreset();
  const v = await ask({
    id: 'save-as',
    title: 'Save as a new preset',
    text: 'Saves what the box runs now.',
    fields: [
      { name: 'name', label: 'Name', required: true, maxLength: 64, value: cur && !cur.factory ? `${cur.name} (2)` : '' },
      { name: 'notes', label: 'Notes', type: 'textarea', value: '' },
    ],
    confirm: 'Save',
    check: async ({ name, notes }) => {
      const bad = nameCheck(name);
      if (bad) return bad;
      const existing = box.presets.find((p) => p.name.toLowerCase() === name.trim().toLowerCase());
      if (existing) {
        if (existing.factory) return `"${existing.name}" is a factory preset: choose another name.`;
        const yes = await confirmDialog({ id: 'overwrite', title: `Overwrite "${existing.name}"?`, text: 'A preset of that name exists. Its values are replaced by what the box runs now.', confirm: 'Overwrite', danger: true });
        if (!yes) return 'Choose another name, or overwrite.';
        await api('PUT', `/api/presets/${encodeURIComponent(existing.id)}`, { params: { ...box.values }, notes });
        await api('POST', `/api/presets/${encodeURIComponent(existing.id)}/apply`);
        return null;
      }
      try {
        const r = await api('POST', '/api/presets', { name: name.trim(), notes });
        // Selected at once: same values, so nothing moves, and the box now says it runs this one.
        await api('POST', `/api/presets/${encodeURIComponent(r.preset.id)}/apply`);
        return null;
      } catch (err) {
        return err.message;
      }
    },
  });
  await Promise.all([loadPresets(), loadState()]);
  if (v) showMessage(`Saved as ${v.name.trim()}`);
}

export async function save() {
  const cur = currentPreset();
  if (!cur || cur.factory) return saveAs();
  await run(async () => {
    await api('PUT', `/api/presets/${encodeURIComponent(cur.id)}`, { params: { ...box.values } });
    await api('POST', `/api/presets/${encodeURIComponent(cur.id)}/apply`);
    showMessage(`Saved ${cur.name}`);
  });
}

async function rename() {
  const cur = currentPreset();
  if (!cur || cur.factory) return;
  const v = await ask({
    id: 'rename',
    title: `Rename "${cur.name}"`,
    fields: [{ name: 'name', label: 'New name', required: true, maxLength: 64, value: cur.name }],
    confirm: 'Rename',
    check: async ({ name }) => nameCheck(name) ?? api('PUT', `/api/presets/${encodeURIComponent(cur.id)}`, { name: name.trim() }).then(() => null, (e) => e.message),
  });
  await Promise.all([loadPresets(), loadState()]);
  if (v) showMessage(`Renamed to ${v.name.trim()}`);
}

async function notes() {
  const cur = currentPreset();
  if (!cur) return;
  if (cur.factory) {
    await ask({ id: 'notes', title: cur.name, text: cur.notes || 'A factory preset: read-only. Save as to keep your own copy.', fields: [], confirm: 'Close' });
    return;
  }
  await ask({
    id: 'notes',
    title: `Notes on "${cur.name}"`,
    fields: [{ name: 'notes', label: 'Notes', type: 'textarea', value: cur.notes ?? '' }],
    confirm: 'Save notes',
    check: ({ notes: text }) => api('PUT', `/api/presets/${encodeURIComponent(cur.id)}`, { notes: text }).then(() => null, (e) => e.message),
  });
  await loadPresets();
}

async function remove() {
  const cur = currentPreset();
  if (!cur || cur.factory) return;
  const yes = await confirmDialog({ id: 'delete', title: `Delete "${cur.name}"?`, text: 'The preset file is removed from the box. What the box runs now does not change.', confirm: 'Delete', danger: true });
  if (!yes) return;
  await run(async () => {
    await api('DELETE', `/api/presets/${encodeURIComponent(cur.id)}`);
    showMessage(`Deleted ${cur.name}`);
  });
}

async function importFile(file) {
  let bundle;
  try {
    bundle = JSON.parse(await file.text());
  } catch {
    showMessage(`${file.name} is not a JSON preset bundle`, true);
    return;
  }
  const v = await ask({
    id: 'import',
    title: `Import ${file.name}`,
    text: 'When a preset of the same name or id exists:',
    fields: [{ name: 'collision', label: 'On a name clash', type: 'select', value: 'copy', options: [['copy', 'keep both (a copy)'], ['overwrite', 'overwrite mine'], ['skip', 'skip it']] }],
    confirm: 'Import',
    check: async ({ collision }) => {
      try {
        const dry = await api('POST', `/api/presets/import?dryRun=true&collision=${collision}`, bundle);
        const errors = dry.items?.filter((i) => i.action === 'error') ?? [];
        if (errors.length) return `Nothing imported: ${errors.map((e) => `${e.name ?? `#${e.index}`}: ${e.message ?? e.error ?? 'invalid'}`).join('; ')}`;
        await api('POST', `/api/presets/import?collision=${collision}`, bundle);
        return null;
      } catch (err) {
        return err.message;
      }
    },
  });
  await loadPresets();
  if (v) showMessage(`Imported ${file.name}`);
}

async function locks() {
  const locked = new Set(box.state?.locked ?? []);
  const candidates = box.params.filter((p) => !p.id.endsWith('.bypass') || p.id === 'master.limit.bypass');
  const v = await ask({
    id: 'locks',
    title: 'Locked parameters',
    text: 'No preset or A/B recall touches a locked parameter (e.g. the master gain set for your speakers).',
    fields: [{ name: 'locked', label: 'Locked (ids, one per line)', type: 'textarea', value: [...locked].join('\n') }],
    body: html`<p class="dim small">Ids: ${candidates.filter((p) => /gain|ceiling/.test(p.id)).map((p) => `${p.id} (${shortLabel(p)})`).join(', ')} …</p>`,
    confirm: 'Save locks',
    check: ({ locked: text }) => api('PUT', '/api/presets/locks', { locked: text.split(/[\s,]+/).filter(Boolean) }).then(() => null, (e) => e.message),
  });
  await loadState();
  if (v) showMessage('Locks saved');
}

/** The header's menu: factory and user presets apart; picking the current one again reloads it. */
export function PresetMenu() {
  const { presets, state } = useBox('presets', 'state', 'conn');
  const current = state?.preset_id ?? '';
  const factory = presets.filter((p) => p.factory);
  const user = presets.filter((p) => !p.factory);
  const pick = (e) => {
    const id = e.target.value;
    e.target.value = current;
    if (id === '__reload') run(() => applyPreset(current));
    else if (id) run(() => applyPreset(id));
  };
  return html`<div class="preset-menu row">
    <label for="preset-select" class="sr-only">Preset</label>
    <select id="preset-select" title="Recall a preset" value=${current} onChange=${pick}>
      <option value="" disabled=${!!current}>${current ? 'Preset…' : 'No preset'}</option>
      <optgroup label="Factory">${factory.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</optgroup>
      ${user.length > 0 && html`<optgroup label="Mine">${user.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</optgroup>`}
      ${current && html`<option value="__reload">↺ Reload ${state.preset}</option>`}
    </select>
    ${state?.preset_modified && html`<span id="preset-modified" class="modified" title="Changed since it was recalled">modified</span>`}
  </div>`;
}

/** The Presets card: every action on the preset the box runs, and on the list. */
export function PresetsCard() {
  const { presets, state } = useBox('presets', 'state', 'conn');
  const [importing, setImporting] = useState(0);
  const cur = presets.find((p) => p.id === state?.preset_id);
  const user = !!cur && !cur.factory;
  return html`<section class="card" id="presets" aria-labelledby="presets-title">
    <h2 id="presets-title">Presets</h2>
    <p class="dim" id="preset-current">${cur ? html`Running <strong>${cur.name}</strong>${cur.factory ? ' (factory, read-only)' : ''}${state.preset_modified ? ', changed since recalled' : ''}` : 'No preset recalled.'}</p>
    ${cur?.notes && html`<p class="notes" id="preset-notes">${cur.notes}</p>`}
    <div class="row wrap">
      <button type="button" id="preset-reload" disabled=${!cur} onClick=${() => run(() => applyPreset(cur.id))} title="Back to the preset as stored">Reload</button>
      <button type="button" id="preset-save" disabled=${!user} onClick=${save} title="Overwrite this preset with what the box runs now">Save</button>
      <button type="button" id="preset-save-as" onClick=${saveAs}>Save as…</button>
      <button type="button" id="preset-rename" disabled=${!user} onClick=${rename}>Rename…</button>
      <button type="button" id="preset-notes-edit" disabled=${!cur} onClick=${notes}>Notes…</button>
      <button type="button" id="preset-delete" class="danger" disabled=${!user} onClick=${remove}>Delete…</button>
    </div>
    <div class="row wrap">
      <a class="button" id="preset-export" href="/api/presets/export" download="hushbox-presets.json">Export mine</a>
      <label class="button" for="preset-import">Import…</label>
      <input type="file" id="preset-import" class="sr-only" accept=".json,application/json" key=${importing}
        onChange=${(e) => { const f = e.target.files[0]; setImporting(importing + 1); if (f) importFile(f); }} />
      <button type="button" id="preset-locks" onClick=${locks}>Locks${state?.locked?.length ? ` (${state.locked.length})` : ''}…</button>
    </div>
    <h3>Factory</h3>
    <ul class="preset-list" id="factory-presets">${presets.filter((p) => p.factory).map((p) => html`<li data-id=${p.id} aria-current=${String(p.id === state?.preset_id)}><button type="button" onClick=${() => run(() => applyPreset(p.id))}>${p.name}</button></li>`)}</ul>
    <h3>Mine</h3>
    <ul class="preset-list" id="user-presets">${presets.filter((p) => !p.factory).map((p) => html`<li data-id=${p.id} aria-current=${String(p.id === state?.preset_id)}><button type="button" onClick=${() => run(() => applyPreset(p.id))}>${p.name}</button></li>`)}</ul>
    ${!presets.some((p) => !p.factory) && html`<p class="dim">None yet: Save as… keeps what the box runs now.</p>`}
  </section>`;
}
