// The Recordings view: start and stop a take (source and format), the takes
// on the data partition (play, download, delete), the free space, and the
// audio stream's clients. It renders what the box says (GET /api/recordings,
// GET /api/stream), asked again every two seconds and after each action.
const $ = (sel) => document.querySelector(sel);

let ctx = null;

function mb(bytes) {
  return `${(bytes / 1048576).toFixed(bytes < 1048576 * 10 ? 1 : 0)} MB`;
}

function seconds(s) {
  if (s === null || s === undefined) return '?';
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}

function showError(text) {
  const e = $('#rec-error');
  e.textContent = text;
  e.hidden = !text;
}

function renderCurrent(cur, disk) {
  const recording = cur?.state === 'recording';
  const button = $('#rec-toggle');
  button.textContent = recording ? 'Stop' : 'Record';
  button.setAttribute('aria-pressed', String(recording));
  $('#rec-source').disabled = recording;
  $('#rec-format').disabled = recording;
  const parts = [];
  if (cur && cur.state !== 'idle') {
    parts.push(recording ? `recording ${cur.name} · ${seconds(cur.seconds)}` : `last take ${cur.name ?? ''}: ${cur.state}${cur.reason ? ` (${cur.reason.replace('_', ' ')})` : ''}`);
    if (cur.gaps > 0) parts.push(`${cur.gaps} gap${cur.gaps > 1 ? 's' : ''} (${cur.gapSeconds.toFixed(2)} s of silence: the card stalled longer than ${cur.ringSeconds.toFixed(0)} s)`);
  }
  parts.push(`${mb(disk.freeBytes)} free of ${mb(disk.totalBytes)} (a take stops ${mb(disk.marginBytes)} before full)`);
  $('#rec-status').textContent = parts.join(' · ');
}

function renderTakes(takes) {
  const rows = takes.map((t) => {
    const url = `/api/recordings/${encodeURIComponent(t.name)}`;
    const del = ctx.el('button', { type: 'button', textContent: 'Delete', disabled: t.recording });
    del.addEventListener('click', () => act(() => ctx.api('DELETE', url), `deleted ${t.name}`));
    const player = t.recording ? ctx.el('span', { className: 'dim', textContent: 'recording…' }) : ctx.el('audio', { controls: true, preload: 'none', src: url });
    return ctx.el(
      'li',
      { dataset: { name: t.name } },
      ctx.el('span', { className: 'take-name', textContent: t.name }),
      ctx.el('span', { className: 'dim', textContent: `${seconds(t.durationS)} · ${t.channels ?? '?'} ch · ${mb(t.bytes)}` }),
      player,
      ctx.el('a', { href: `${url}?download=1`, textContent: 'Download' }),
      del,
    );
  });
  $('#rec-takes').replaceChildren(...rows);
  $('#rec-empty').hidden = takes.length > 0;
}

function renderStream(s) {
  const e = s.engine;
  const clients = e ? e.clients.length : 0;
  const dropped = e ? e.clients.reduce((sum, c) => sum + c.droppedFrames, 0) : 0;
  $('#stream-status').textContent = `Stream (${s.settings.source}, ${s.settings.rate / 1000} kHz ${s.settings.format}) on ${s.socket}${s.settings.tcp.enabled ? ` and TCP ${s.settings.tcp.port}` : ''}: ${clients} client${clients === 1 ? '' : 's'}${dropped ? `, ${dropped} frames dropped for slow clients` : ''}${e?.clientsDroppedStuck ? `, ${e.clientsDroppedStuck} stuck clients dropped` : ''}`;
}

export async function refresh() {
  try {
    const r = await ctx.api('GET', '/api/recordings');
    renderCurrent(r.current, r.disk);
    renderTakes(r.takes);
  } catch (err) {
    showError(err.message);
  }
  try {
    renderStream(await ctx.api('GET', '/api/stream'));
  } catch {
    $('#stream-status').textContent = '';
  }
}

async function act(fn, done) {
  showError('');
  try {
    await fn();
    if (done) ctx.showMessage(done);
  } catch (err) {
    showError(err.message);
  }
  await refresh();
}

export function initRecordings(context) {
  ctx = context;
  $('#rec-toggle').addEventListener('click', () => {
    const recording = $('#rec-toggle').getAttribute('aria-pressed') === 'true';
    if (recording) act(() => ctx.api('POST', '/api/recordings/stop'));
    else act(() => ctx.api('POST', '/api/recordings/start', { source: $('#rec-source').value, format: $('#rec-format').value }));
  });
  refresh();
  setInterval(refresh, 2000);
}
