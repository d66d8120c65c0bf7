// The supervisor's process at power-on and after: it waits for udev's first pass
// over the devices (HUSHBOX_UDEV_SETTLE, as the image sets it) while its code
// loads, and `systemctl reload hushbox` (SIGHUP) has it look again for the
// password reset file, which the image's boot partition may only have once
// the supervisor has started (hushbox-reset-file.service). The real `hushbox
// start`; `udevadm` is a script of the test's on PATH (no udev here).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../fakes/net.js';
import { startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { tempDir } from '../fakes/temp-context.js';

const running: RunningSupervisor[] = [];
const dirs: Array<{ cleanup(): void }> = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.stop();
    s.cleanup();
  }
  for (const d of dirs.splice(0)) d.cleanup();
});

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d.dir;
}

/** The supervisor's JSON log lines (HUSHBOX_LOG_LEVEL=info). */
function logLines(sup: RunningSupervisor): Array<Record<string, unknown>> {
  return sup
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('hushbox start at power-on', () => {
  it('runs udevadm settle with the timeout it is given, while its code loads, and logs how long it waited', async () => {
    const bin = dir('hushbox-udevadm-');
    const calls = join(bin, 'calls');
    writeFileSync(join(bin, 'udevadm'), `#!/bin/sh\necho "$@" >> ${calls}\nsleep 1\n`);
    chmodSync(join(bin, 'udevadm'), 0o755);
    const sup = await startSupervisor({ waitRunning: false, onboard: false, env: { HUSHBOX_LOG_LEVEL: 'info', HUSHBOX_UDEV_SETTLE: '7', HUSHBOX_AUDIO: 'auto', PATH: `${bin}:${process.env.PATH}` } });
    running.push(sup);
    expect(readFileSync(calls, 'utf8').trim()).toBe('settle --timeout=7');
    const line = logLines(sup).find((l) => l.msg === "udev has seen the boot's devices");
    expect(line?.settledMs).toBeGreaterThanOrEqual(900);
    // Waited for before the audio device is chosen and the system tuned: the settle's line comes first.
    const order = logLines(sup).map((l) => l.msg);
    expect(order.indexOf("udev has seen the boot's devices")).toBeLessThan(order.indexOf('audio device chosen'));
    expect(order.indexOf('audio device chosen')).toBeLessThan(order.indexOf('hushbox supervisor started'));
  });

  it('builds its web app while udev works through the devices, and then only listens', async () => {
    const bin = dir('hushbox-udevadm-');
    // A settle that takes longer than building the app.
    writeFileSync(join(bin, 'udevadm'), '#!/bin/sh\nsleep 6\n');
    chmodSync(join(bin, 'udevadm'), 0o755);
    const sup = await startSupervisor({ waitRunning: false, onboard: false, env: { HUSHBOX_LOG_LEVEL: 'info', HUSHBOX_UDEV_SETTLE: '10', HUSHBOX_AUDIO: 'auto', PATH: `${bin}:${process.env.PATH}` } });
    running.push(sup);
    const order = logLines(sup).map((l) => l.msg);
    expect(order.indexOf('web app built')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('web app built')).toBeLessThan(order.indexOf("udev has seen the boot's devices"));
    expect(order.indexOf("udev has seen the boot's devices")).toBeLessThan(order.indexOf('front panel listening'));
    // The app built ahead is the one that answers: one build, and the page is served.
    expect(order.filter((m) => m === 'web app built')).toHaveLength(1);
    expect((await fetch(`${sup.url}/`)).status).toBe(200);
  });

  it('starts all the same when udevadm fails or is missing, and says so', async () => {
    const bin = dir('hushbox-udevadm-');
    writeFileSync(join(bin, 'udevadm'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(bin, 'udevadm'), 0o755);
    const failing = await startSupervisor({ waitRunning: false, onboard: false, env: { HUSHBOX_LOG_LEVEL: 'info', HUSHBOX_UDEV_SETTLE: '5', PATH: `${bin}:${process.env.PATH}` } });
    running.push(failing);
    expect(logLines(failing).find((l) => String(l.msg).startsWith('udevadm settle did not finish'))).toMatchObject({ code: 1 });

    const empty = dir('hushbox-nopath-');
    const missing = await startSupervisor({ waitRunning: false, onboard: false, env: { HUSHBOX_LOG_LEVEL: 'info', HUSHBOX_UDEV_SETTLE: '5', PATH: `${empty}:/nonexistent` } });
    running.push(missing);
    expect(logLines(missing).find((l) => String(l.msg).startsWith('udevadm settle did not finish'))).toMatchObject({ code: null, error: expect.stringContaining('ENOENT') });
  });
});

describe('systemctl reload hushbox (SIGHUP)', () => {
  it('looks again for the password reset file: one put there after the start resets the password, and the box keeps running', async () => {
    const boot = dir('hushbox-boot-');
    mkdirSync(join(boot, 'efi'));
    const resetFile = join(boot, 'efi', 'hushbox-reset-password');
    const sup = await startSupervisor({ env: { HUSHBOX_LOG_LEVEL: 'info', HUSHBOX_RESET_FILE: resetFile } });
    running.push(sup);
    const setUp = async () => ((await (await fetch(`${sup.url}/api/auth`)).json()) as { setUp: boolean }).setUp;
    expect(await setUp()).toBe(true);

    // A reload with no file changes nothing.
    sup.proc.kill('SIGHUP');
    await waitFor('the reload to be logged', () => logLines(sup).some((l) => l.msg === 'reloaded: looked again for the password reset file'), 10_000);
    expect(await setUp()).toBe(true);
    expect(logLines(sup).find((l) => l.msg === 'reloaded: looked again for the password reset file')).toMatchObject({ passwordReset: false });

    // The boot partition mounted late, with the file on it.
    writeFileSync(resetFile, '');
    sup.proc.kill('SIGHUP');
    await waitFor('the password to be reset', async () => !(await setUp()), 10_000);
    expect(existsSync(resetFile)).toBe(false);
    await waitFor('the reset to be logged', () => logLines(sup).filter((l) => l.msg === 'reloaded: looked again for the password reset file').length === 2, 10_000);
    expect(logLines(sup).filter((l) => l.msg === 'reloaded: looked again for the password reset file').at(-1)).toMatchObject({ passwordReset: true });
    expect(sup.proc.exitCode).toBeNull();
    const status = await fetch(`${sup.url}/api/status`);
    expect(status.status).toBe(200);
  });
});
