// Real <dialog>s instead of prompt()/confirm(): ask() opens one and resolves with the fields' values
// (or null when cancelled). `check` may answer an error text, shown in the dialog, which stays open;
// a check may itself ask (an overwrite question over a save dialog): dialogs stack.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';

let push = null;
const early = [];
let seq = 0;

export function ask(spec) {
  return new Promise((resolve) => {
    const d = { ...spec, resolve, key: ++seq };
    if (push) push(d);
    else early.push(d);
  });
}

/** A yes/no question; resolves true or false. */
export async function confirmDialog({ id, title, text, confirm = 'OK', danger = false }) {
  return (await ask({ id, title, text, fields: [], confirm, danger })) !== null;
}

function Field({ f, value, onInput }) {
  const id = `dlg-${f.name}`;
  if (f.type === 'textarea') {
    return html`<label for=${id}>${f.label}</label><textarea id=${id} name=${f.name} rows="4" maxlength=${f.maxLength ?? 2000} value=${value} onInput=${(e) => onInput(e.target.value)} />`;
  }
  if (f.type === 'select') {
    return html`<label for=${id}>${f.label}</label>
      <select id=${id} name=${f.name} value=${value} onChange=${(e) => onInput(e.target.value)}>
        ${f.options.map(([v, t]) => html`<option value=${v}>${t}</option>`)}
      </select>`;
  }
  return html`<label for=${id}>${f.label}</label>
    <input id=${id} name=${f.name} type=${f.type ?? 'text'} autocomplete=${f.autocomplete ?? 'off'} maxlength=${f.maxLength}
      value=${value} onInput=${(e) => onInput(e.target.value)} />`;
}

function Dialog({ d, onClose }) {
  const [values, setValues] = useState(() => Object.fromEntries(d.fields.map((f) => [f.name, f.value ?? ''])));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const ref = useRef(null);
  useEffect(() => {
    ref.current.showModal();
    ref.current.querySelector('input, textarea, select')?.focus();
  }, []);
  const close = (result) => {
    ref.current?.close();
    onClose(d, result);
  };
  const submit = async (ev) => {
    ev.preventDefault();
    for (const f of d.fields) {
      if (f.required && !String(values[f.name] ?? '').trim()) {
        setError(`${f.label}: please fill this in.`);
        return;
      }
    }
    if (d.check) {
      setBusy(true);
      setError('');
      try {
        const problem = await d.check(values);
        if (problem) {
          setError(problem);
          return;
        }
      } catch (err) {
        setError(err.message);
        return;
      } finally {
        setBusy(false);
      }
    }
    close(values);
  };
  return html`<dialog ref=${ref} id=${d.id ? `dialog-${d.id}` : undefined} class="dialog" onCancel=${(e) => { e.preventDefault(); close(null); }}>
    <form method="dialog" onSubmit=${submit} novalidate>
      <h2>${d.title}</h2>
      ${d.text && html`<p class="dim">${d.text}</p>`}
      ${d.body}
      <div class="stack">${d.fields.map((f) => html`<${Field} key=${f.name} f=${f} value=${values[f.name]} onInput=${(v) => setValues((old) => ({ ...old, [f.name]: v }))} />`)}</div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="row end">
        ${(d.fields.length > 0 || d.danger || d.check) && html`<button type="button" class="cancel" onClick=${() => close(null)}>Cancel</button>`}
        <button type="submit" class=${d.danger ? 'danger ok' : 'primary ok'} disabled=${busy}>${d.confirm ?? 'OK'}</button>
      </div>
    </form>
  </dialog>`;
}

export function DialogHost() {
  const [stack, setStack] = useState([]);
  useEffect(() => {
    push = (d) => setStack((s) => [...s, d]);
    if (early.length) setStack(early.splice(0));
    return () => (push = null);
  }, []);
  const onClose = (d, result) => {
    setStack((s) => s.filter((x) => x !== d));
    d.resolve(result);
  };
  return html`${stack.map((d) => html`<${Dialog} key=${d.key} d=${d} onClose=${onClose} />`)}`;
}
