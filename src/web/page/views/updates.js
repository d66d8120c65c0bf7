// Updates: the version and the slot that runs, what became of the last update, a bundle from a file
// or from the update channel, progress, the reboot policy. Renders GET /api/ota and {type: "ota"}.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ensureConfirmed } from '../api.js';
import { html } from '../html.js';
import { box, online, set, showMessage, useBox } from '../store.js';

export async function refreshOta() {
  if (!online()) return;
  try {
    set('ota', { ota: await api('GET', '/api/ota'), otaError: null });
  } catch (err) {
    set('ota', { otaError: err.message });
  }
}

function slotText(rauc) {
  if (!rauc.available) return 'no RAUC system (not an installed box)';
  return rauc.slots.filter((s) => s.class === 'rootfs')
    .map((s) => `${s.bootname ?? s.name}${s.state === 'booted' ? ' (running)' : ''}: ${s.bootStatus ?? '?'}${s.bundleVersion ? ` ${s.bundleVersion}` : ''}`).join(' · ');
}

/** Upload with XMLHttpRequest: fetch cannot report upload progress. */
async function upload(file, onProgress) {
  await ensureConfirmed();
  return new Promise((resolve, reject) => {
    const xhr = new window.XMLHttpRequest();
    xhr.open('POST', '/api/ota/install');
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('x-hushbox-request', '1');
    xhr.upload.onprogress = (ev) => ev.lengthComputable && onProgress(Math.floor((ev.loaded * 100) / ev.total));
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new Error(data?.message ?? `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error('the upload broke off'));
    xhr.send(file);
  });
}

export function UpdatesCard() {
  const { ota: s, otaSummary, otaError } = useBox('ota', 'conn');
  const [uploading, setUploading] = useState(null);
  const [error, setError] = useState('');
  const file = useRef(null);
  const url = useRef(null);
  useEffect(() => {
    refreshOta();
  }, [box.connection]);
  useEffect(() => {
    if (otaSummary && !otaSummary.install.running) refreshOta();
  }, [otaSummary]);
  useEffect(() => {
    if (s && url.current && document.activeElement !== url.current) url.current.value = s.settings.channelUrl ?? '';
  }, [s]);
  const act = async (fn) => {
    setError('');
    try {
      await fn();
    } catch (err) {
      setError(err.message);
    }
    await refreshOta();
  };
  if (!s) return html`<section class="card" id="updates"><h2 id="updates-title">Updates</h2><p class="dim">${otaError ?? '…'}</p></section>`;
  const install = uploading !== null ? { running: true, phase: 'uploading', percent: uploading, message: '' } : (otaSummary?.install ?? s.install);
  const outcome = otaSummary?.outcome ?? s.outcome;
  const ch = s.channel;
  const active = install.running || install.phase === 'rebooting';
  return html`<section class="card" id="updates" aria-labelledby="updates-title">
    <h2 id="updates-title">Updates</h2>
    ${outcome && html`<p id="ota-outcome" class=${`outcome ${outcome.kind === 'fell_back' || outcome.kind === 'install_failed' ? 'error' : ''}`} role="status" data-kind=${outcome.kind}>${outcome.message}</p>`}
    <dl id="ota-facts" class="facts">
      <div class="fact"><dt>Version</dt><dd id="ota-version">${s.version}</dd></div>
      <div class="fact"><dt>Slots</dt><dd id="ota-slots">${slotText(s.rauc)}</dd></div>
      <div class="fact"><dt>Channel</dt><dd>${!s.settings.channelUrl ? 'none' : ch.error ? `error: ${ch.error.message}` : ch.latest ? `${ch.latest.version}${ch.updateAvailable ? ' available' : ' (up to date)'}${ch.checkedAt ? ` · checked ${new Date(ch.checkedAt).toLocaleTimeString()}` : ''}` : 'not checked yet'}</dd></div>
      <div class="fact"><dt>Last update</dt><dd>${s.lastAttempt ? `${s.lastAttempt.version} · ${s.lastAttempt.result} · ${s.lastAttempt.finishedAt ?? s.lastAttempt.at}` : 'none'}</dd></div>
    </dl>
    ${(active || install.phase === 'installed') && html`<div id="ota-progress" class="progress" data-phase=${install.phase}>
      <div class="bar"><div class=${`fill ${install.percent === null && active ? 'indeterminate' : ''}`} style=${{ width: `${install.percent ?? (active ? 100 : 0)}%` }}></div></div>
      <span id="ota-progress-text" class="dim">${install.phase}${install.percent === null ? '' : ` ${install.percent}%`}${install.message ? ` · ${install.message}` : ''}</span>
    </div>`}
    <form id="ota-upload" class="row wrap" onSubmit=${(e) => {
      e.preventDefault();
      const f = file.current.files[0];
      if (!f) return setError('choose a bundle (.raucb) first');
      act(async () => {
        try {
          const check = await upload(f, setUploading);
          showMessage(`installing ${check.version} (${check.action})`);
        } finally {
          setUploading(null);
        }
      });
    }}>
      <label for="ota-file" class="sr-only">Update bundle</label>
      <input type="file" id="ota-file" ref=${file} accept=".raucb" />
      <button type="submit" data-installs disabled=${install.running}>Install file</button>
    </form>
    <div class="row wrap">
      <label for="ota-channel-url" class="sr-only">Update channel</label>
      <input type="url" id="ota-channel-url" ref=${url} placeholder="Update channel https://…/" />
      <button type="button" id="ota-channel-save" onClick=${() => act(async () => {
        const v = url.current.value.trim();
        await api('PUT', '/api/ota/settings', { channelUrl: v === '' ? null : v });
        if (v) await api('POST', '/api/ota/channel/check');
      })}>Save</button>
      <button type="button" id="ota-check" data-installs disabled=${install.running} onClick=${() => act(() => api('POST', '/api/ota/channel/check'))}>Check</button>
    </div>
    <div class="row wrap">
      ${ch.updateAvailable && html`<button type="button" id="ota-install-channel" class="primary" data-installs disabled=${install.running} onClick=${() => act(() => api('POST', '/api/ota/channel/install', {}))}>${ch.latest ? `Install ${ch.latest.version}` : 'Install'}</button>`}
      ${s.rebootRequired && html`<button type="button" id="ota-reboot" onClick=${() => act(() => api('POST', '/api/ota/reboot'))}>${s.lastAttempt ? `Reboot into ${s.lastAttempt.version}` : 'Reboot'}</button>`}
      <label for="ota-reboot-policy" class="sr-only">Reboot policy</label>
      <select id="ota-reboot-policy" title="What happens after an install" value=${s.settings.reboot} onChange=${(e) => act(() => api('PUT', '/api/ota/settings', { reboot: e.target.value }))}>
        <option value="immediate">Reboot at once after an install</option>
        <option value="manual">Reboot when I say</option>
      </select>
    </div>
    ${error && html`<p id="ota-error" class="error" role="alert">${error}</p>`}
  </section>`;
}
