// Recordings: start and stop a take (source and format), the takes on the data partition (play,
// download, delete), the free space. Renders GET /api/recordings, asked every two seconds.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { box, online, showMessage, useBox } from '../store.js';

const mb = (bytes) => `${(bytes / 1048576).toFixed(bytes < 1048576 * 10 ? 1 : 0)} MB`;
function seconds(s) {
  if (s === null || s === undefined) return '?';
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}

export function RecordingsCard() {
  useBox('conn');
  const [r, setR] = useState(null);
  const [error, setError] = useState('');
  const [source, setSource] = useState('mic');
  const [format, setFormat] = useState('wav');
  const refresh = async () => {
    if (!online()) return;
    try {
      setR(await api('GET', '/api/recordings'));
    } catch (err) {
      setError(err.message);
    }
  };
  useEffect(() => {
    refresh();
    const t = setInterval(refresh, 2000);
    return () => clearInterval(t);
  }, [box.connection]);
  const act = async (fn, done) => {
    setError('');
    try {
      await fn();
      if (done) showMessage(done);
    } catch (err) {
      setError(err.message);
    }
    await refresh();
  };
  if (!r) return html`<section class="card" id="recordings"><h2 id="recordings-title">Recordings</h2><p class="dim">${error || '…'}</p></section>`;
  const cur = r.current;
  const recording = cur?.state === 'recording';
  const parts = [];
  if (cur && cur.state !== 'idle') {
    parts.push(recording ? `recording ${cur.name} · ${seconds(cur.seconds)}` : `last take ${cur.name ?? ''}: ${cur.state}${cur.reason ? ` (${cur.reason.replace('_', ' ')})` : ''}`);
    if (cur.gaps > 0) parts.push(`${cur.gaps} gap${cur.gaps > 1 ? 's' : ''} (${cur.gapSeconds.toFixed(2)} s of silence: the card stalled longer than ${cur.ringSeconds.toFixed(0)} s)`);
  }
  parts.push(`${mb(r.disk.freeBytes)} free of ${mb(r.disk.totalBytes)} (a take stops ${mb(r.disk.marginBytes)} before full)`);
  return html`<section class="card" id="recordings" aria-labelledby="recordings-title">
    <h2 id="recordings-title">Recordings</h2>
    <div class="row wrap">
      <button type="button" id="rec-toggle" class=${recording ? 'danger' : 'primary'} aria-pressed=${String(recording)}
        onClick=${() => (recording ? act(() => api('POST', '/api/recordings/stop')) : act(() => api('POST', '/api/recordings/start', { source, format })))}>${recording ? 'Stop' : 'Record'}</button>
      <select id="rec-source" title="What the take records" disabled=${recording} value=${source} onChange=${(e) => setSource(e.target.value)}>
        <option value="mic">Clean mic</option><option value="mic_raw">Raw mic</option><option value="mix">Output mix</option><option value="all">All (separate channels)</option>
      </select>
      <select id="rec-format" title="File format" disabled=${recording} value=${format} onChange=${(e) => setFormat(e.target.value)}>
        <option value="wav">WAV 24-bit</option><option value="flac">FLAC</option>
      </select>
    </div>
    <p id="rec-status" class="dim" role="status">${parts.join(' · ')}</p>
    ${error && html`<p id="rec-error" class="error" role="alert">${error}</p>`}
    <ul id="rec-takes" class="takes">
      ${r.takes.map((t) => {
        const url = `/api/recordings/${encodeURIComponent(t.name)}`;
        return html`<li data-name=${t.name}>
          <span class="take-name">${t.name}</span>
          <span class="dim">${seconds(t.durationS)} · ${t.channels ?? '?'} ch · ${mb(t.bytes)}</span>
          ${t.recording ? html`<span class="dim">recording…</span>` : html`<audio controls preload="none" src=${url}></audio>`}
          <a href=${`${url}?download=1`}>Download</a>
          <button type="button" disabled=${t.recording} onClick=${() => act(() => api('DELETE', url), `deleted ${t.name}`)}>Delete</button>
        </li>`;
      })}
    </ul>
    ${r.takes.length === 0 && html`<p id="rec-empty" class="dim">No takes yet.</p>`}
  </section>`;
}
