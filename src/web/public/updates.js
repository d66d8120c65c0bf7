// The Updates view: version and slots, what became of the last update, a
// bundle from a file or from the update channel, progress, the reboot policy.
// It renders what the box says (GET /api/ota, {type: "ota"} on /ws/telemetry).
const $ = (sel) => document.querySelector(sel);

let ctx = null;

function facts(dl, entries) {
  dl.replaceChildren(...entries.flatMap(([k, v]) => [ctx.el('dt', {}, k), ctx.el('dd', {}, v)]));
}

function slotText(rauc) {
  if (!rauc.available) return 'no RAUC system (not an installed box)';
  const rootfs = rauc.slots.filter((s) => s.class === 'rootfs');
  return rootfs.map((s) => `${s.bootname ?? s.name}${s.state === 'booted' ? ' (running)' : ''}: ${s.bootStatus ?? '?'}${s.bundleVersion ? ` ${s.bundleVersion}` : ''}`).join(' · ');
}

function renderProgress(install) {
  const box = $('#ota-progress');
  const active = install.running || install.phase === 'rebooting';
  box.hidden = !active && install.phase !== 'installed';
  box.dataset.phase = install.phase;
  const fill = $('#ota-progress .fill');
  fill.style.width = `${install.percent ?? (active ? 100 : 0)}%`;
  fill.classList.toggle('indeterminate', install.percent === null && active);
  $('#ota-progress-text').textContent = `${install.phase}${install.percent === null ? '' : ` ${install.percent}%`}${install.message ? ` · ${install.message}` : ''}`;
  for (const b of document.querySelectorAll('#updates button[data-installs]')) b.disabled = install.running;
}

function renderOutcome(outcome) {
  const p = $('#ota-outcome');
  p.hidden = !outcome;
  if (!outcome) return;
  p.textContent = outcome.message;
  p.dataset.kind = outcome.kind;
  p.classList.toggle('error', outcome.kind === 'fell_back' || outcome.kind === 'install_failed');
}

export function renderStatus(s) {
  const ch = s.channel;
  facts($('#ota-facts'), [
    ['Version', s.version],
    ['Slots', slotText(s.rauc)],
    ['Channel', !s.settings.channelUrl ? 'none' : ch.error ? `error: ${ch.error.message}` : ch.latest ? `${ch.latest.version}${ch.updateAvailable ? ' available' : ' (up to date)'}` : 'not checked yet'],
    ['Last update', s.lastAttempt ? `${s.lastAttempt.version} · ${s.lastAttempt.result} · ${s.lastAttempt.finishedAt ?? s.lastAttempt.at}` : 'none'],
  ]);
  renderOutcome(s.outcome);
  renderProgress(s.install);
  const install = $('#ota-install-channel');
  install.hidden = !ch.updateAvailable;
  install.textContent = ch.latest ? `Install ${ch.latest.version}` : 'Install';
  const reboot = $('#ota-reboot');
  reboot.hidden = !s.rebootRequired;
  reboot.textContent = s.lastAttempt ? `Reboot into ${s.lastAttempt.version}` : 'Reboot';
  if (document.activeElement !== $('#ota-channel-url')) $('#ota-channel-url').value = s.settings.channelUrl ?? '';
  $('#ota-reboot-policy').value = s.settings.reboot;
}

export async function refresh() {
  try {
    renderStatus(await ctx.api('GET', '/api/ota'));
  } catch (err) {
    showError(err.message);
  }
}

/** A {type: "ota"} message from /ws/telemetry: progress now, the rest from /api/ota. */
export function onSummary(summary) {
  renderProgress(summary.install);
  renderOutcome(summary.outcome);
  if (!summary.install.running) refresh();
}

function showError(text) {
  const e = $('#ota-error');
  e.textContent = text;
  e.hidden = !text;
}

async function act(fn) {
  showError('');
  try {
    await fn();
  } catch (err) {
    showError(err.message);
  }
  await refresh();
}

/** Upload with XMLHttpRequest: fetch cannot report upload progress. */
async function upload(file) {
  // Installing firmware needs the password entered within the last minutes (account.js asks for it).
  await ctx.ensureConfirmed?.();
  return new Promise((resolve, reject) => {
    const xhr = new window.XMLHttpRequest();
    xhr.open('POST', '/api/ota/install');
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('x-hushbox-request', '1');
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) renderProgress({ running: true, phase: 'uploading', percent: Math.floor((ev.loaded * 100) / ev.total), message: file.name });
    };
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

export function initUpdates(helpers) {
  ctx = helpers;
  $('#ota-upload').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const file = $('#ota-file').files[0];
    if (!file) return showError('choose a bundle (.raucb) first');
    act(async () => {
      const check = await upload(file);
      ctx.showMessage(`installing ${check.version} (${check.action})`);
    });
  });
  $('#ota-channel-save').addEventListener('click', () =>
    act(async () => {
      const url = $('#ota-channel-url').value.trim();
      await ctx.api('PUT', '/api/ota/settings', { channelUrl: url === '' ? null : url });
      if (url) await ctx.api('POST', '/api/ota/channel/check');
    }),
  );
  $('#ota-check').addEventListener('click', () => act(() => ctx.api('POST', '/api/ota/channel/check')));
  $('#ota-install-channel').addEventListener('click', () => act(() => ctx.api('POST', '/api/ota/channel/install', {})));
  $('#ota-reboot').addEventListener('click', () => act(() => ctx.api('POST', '/api/ota/reboot')));
  $('#ota-reboot-policy').addEventListener('change', (ev) => act(() => ctx.api('PUT', '/api/ota/settings', { reboot: ev.target.value })));
  refresh();
}
