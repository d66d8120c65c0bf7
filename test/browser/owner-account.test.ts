// The owner account in headless Chromium against the compiled supervisor: onboarding, logout,
// login, the MQTT login for Home Assistant, password change, the rate limit on wrong passwords, and the reset file on the boot
// partition (a directory of the test's here) acted on at the next start.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBrokerCredentials, type BrokerCredentials } from '../../src/mqtt/broker-credentials.js';
import { PASSWORD_ATTEMPTS_PER_ADDRESS } from '../../src/web/guard.js';
import { launchBrowser } from '../fakes/browser.js';
import { showView } from '../fakes/page.js';
import { startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { tempDir } from '../fakes/temp-context.js';

/** What these tests rely on in the page (src/web/public/account.js), in one place. */
const ui = {
  /** The onboarding form (first visit) and the login form: one gate before the panel. */
  gate: '#gate',
  onboarding: '#onboarding',
  login: '#login',
  password: '#gate-password',
  repeat: '#gate-repeat',
  submit: '#gate-submit',
  error: '#gate-error',
  /** The Access card. */
  logout: '#logout',
  who: '#access-who',
  pwCurrent: '#pw-current',
  pwNew: '#pw-new',
  pwSubmit: '#password-form button[type="submit"]',
  pwMessage: '#pw-message',
  /** The box broker's login for Home Assistant, in the Settings view (the "Box name and MQTT" section). */
  boxSettings: 'details#box-settings',
  mqttLogin: '#mqtt-creds',
  mqttShow: '#mqtt-creds button',
};

/** A start takes 18 s on the shared 2-core machine at load 19. */
const START_MS = 45_000;

const FIRST = 'first owner password';
const SECOND = 'second owner password';
const THIRD = 'password after the reset';

/** status and error code of a request made by the page itself (same origin, its cookie). */
async function pageFetch(page: Page, method: string, url: string, body?: unknown): Promise<{ status: number; error?: string }> {
  return page.evaluate(
    async ({ method, url, body }) => {
      const res = await fetch(url, {
        method,
        headers: body === undefined ? { 'x-hushbox-request': '1' } : { 'x-hushbox-request': '1', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const data = (await res.json().catch(() => null)) as { error?: string } | null;
      return { status: res.status, error: data?.error };
    },
    { method, url, body },
  );
}

/** The Access card is in the Settings view. */
async function accessText(page: Page): Promise<string | null> {
  await showView(page, 'settings');
  return page.textContent(ui.who);
}

async function logout(page: Page): Promise<void> {
  await showView(page, 'settings');
  await page.click(ui.logout);
}

async function submitGate(page: Page, password: string, repeat = false): Promise<void> {
  await page.fill(ui.password, password);
  if (repeat) await page.fill(ui.repeat, password);
  await page.click(ui.submit);
}

/** Submit the gate and wait for what the page answers: the panel (null) or the refusal shown. */
async function gateAnswer(page: Page, password: string): Promise<string | null> {
  await page.locator(ui.error).evaluate((e) => ((e as HTMLElement).hidden = true));
  await submitGate(page, password);
  // The loser of the race times out later: its rejection is not the test's.
  const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
  await Promise.race([quiet(page.waitForSelector(ui.gate, { state: 'detached' })), quiet(page.waitForSelector(`${ui.error}:not([hidden])`))]);
  return (await page.$(ui.gate)) ? await page.textContent(ui.error) : null;
}

describe('the owner account in headless Chromium', () => {
  const boot = tempDir('hushbox-boot-');
  const resetFile = join(boot.dir, 'hushbox-reset-password');
  const env = { HUSHBOX_RESET_FILE: resetFile };
  let sup: RunningSupervisor;
  let browser: Browser;
  let page: Page;

  let broker: BrokerCredentials;

  beforeAll(async () => {
    // The box's broker users, as its first boot makes them (hushbox mqtt-credentials).
    const dataDir = mkdtempSync(join(tmpdir(), 'hushbox-test-'));
    broker = ensureBrokerCredentials(dataDir).credentials;
    sup = await startSupervisor({ dataDir, onboard: false, waitRunning: false, env, startTimeoutMs: START_MS });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await sup?.stop();
    sup?.cleanup();
    boot.cleanup();
  });

  it('asks for a password on the first visit; until then only onboarding and read-only status answer', async () => {
    await page.goto(sup.url);
    await page.waitForSelector(`${ui.onboarding} ${ui.password}`);
    for (const url of ['/api/status', '/api/auth', '/api/health', '/api/doctor/summary']) expect(await pageFetch(page, 'GET', url), url).toMatchObject({ status: 200 });
    for (const [method, url, body] of [
      ['GET', '/api/params'],
      ['GET', '/api/doctor'],
      ['GET', '/api/mqtt/credentials'],
      ['GET', '/api/presets'],
      ['PATCH', '/api/params', { values: { 'master.bypass': 1 } }],
      ['POST', '/api/presets/bypass/apply'],
    ] as const) {
      expect(await pageFetch(page, method, url, body), `${method} ${url}`).toEqual({ status: 401, error: 'setup_required' });
    }
    expect(await pageFetch(page, 'POST', '/api/auth/login', { password: FIRST })).toEqual({ status: 409, error: 'setup_required' });

    // Two different passwords are caught on the page; then the owner is in.
    await page.fill(ui.password, FIRST);
    await page.fill(ui.repeat, 'something else');
    await page.click(ui.submit);
    expect(await page.textContent(`${ui.error}:not([hidden])`)).toContain('differ');
    await submitGate(page, FIRST, true);
    await page.waitForSelector(ui.gate, { state: 'detached' });
    expect(await accessText(page)).toContain('Logged in as the owner');
    expect(await pageFetch(page, 'GET', '/api/params')).toMatchObject({ status: 200 });
    // Once set, onboarding is closed to everybody.
    expect(await pageFetch(page, 'POST', '/api/auth/setup', { password: 'an intruder password' })).toEqual({ status: 409, error: 'already_set_up' });
  });

  it('logs out: the page asks to log in and the API refuses', async () => {
    await logout(page);
    await page.waitForSelector(`${ui.login} ${ui.password}`);
    expect(await pageFetch(page, 'GET', '/api/params')).toEqual({ status: 401, error: 'unauthorized' });
    expect(await pageFetch(page, 'GET', '/api/mqtt/credentials')).toEqual({ status: 401, error: 'unauthorized' });
    expect(await page.$(ui.repeat)).toBeNull();
  });

  it('logs in with the password', async () => {
    expect(await gateAnswer(page, FIRST)).toBeNull();
    expect(await accessText(page)).toContain('Logged in as the owner');
    expect(await pageFetch(page, 'GET', '/api/params')).toMatchObject({ status: 200 });
  });

  it("shows the owner the MQTT login for Home Assistant in Settings: the box broker's client user, the password behind Show", async () => {
    await showView(page, 'settings');
    if (!(await page.locator(ui.boxSettings).evaluate((e) => (e as HTMLDetailsElement).open))) await page.click(`${ui.boxSettings} summary`);
    await page.waitForSelector(ui.mqttLogin);
    const shown = () => page.textContent(ui.mqttLogin);
    expect(await shown()).toContain('127.0.0.1:1883');
    expect(await shown()).toContain('homeassistant');
    expect(await shown()).not.toContain(broker.client.password);
    await page.click(ui.mqttShow);
    expect(await shown()).toContain(broker.client.password);
    await page.click(ui.mqttShow);
    expect(await shown()).not.toContain(broker.client.password);
  });

  it('changes the password: the old one no longer logs in, the new one does', async () => {
    await showView(page, 'settings');
    await page.fill(ui.pwCurrent, FIRST);
    await page.fill(ui.pwNew, SECOND);
    await page.click(ui.pwSubmit);
    await page.waitForSelector(`${ui.pwMessage}:not([hidden])`);
    expect(await page.textContent(ui.pwMessage)).toContain('Password changed');
    // This session stays.
    expect(await pageFetch(page, 'GET', '/api/params')).toMatchObject({ status: 200 });
    await logout(page);
    await page.waitForSelector(`${ui.login} ${ui.password}`);
    expect(await gateAnswer(page, FIRST)).toContain('wrong password');
    expect(await gateAnswer(page, SECOND)).toBeNull();
  });

  it('the reset file on the boot partition: at the next start the password is forgotten, onboarding shows again, and the file is consumed', async () => {
    expect(await sup.stop()).toBe(0);
    writeFileSync(resetFile, ''); // the owner, on another computer, on the boot partition
    sup = await startSupervisor({ dataDir: sup.dataDir, onboard: false, waitRunning: false, env, startTimeoutMs: START_MS });
    expect(existsSync(resetFile)).toBe(false);
    expect(sup.output()).toContain(`owner password reset by ${resetFile}`);
    await page.goto(sup.url);
    await page.waitForSelector(`${ui.onboarding} ${ui.password}`);
    expect(await pageFetch(page, 'GET', '/api/params')).toEqual({ status: 401, error: 'setup_required' });
    await submitGate(page, THIRD, true);
    await page.waitForSelector(ui.gate, { state: 'detached' });
    expect(await accessText(page)).toContain('Logged in as the owner');

    // Consumed: the start after keeps the new password.
    expect(await sup.stop()).toBe(0);
    sup = await startSupervisor({ dataDir: sup.dataDir, onboard: false, waitRunning: false, env, startTimeoutMs: START_MS });
    await page.goto(sup.url);
    expect(await pageFetch(page, 'GET', '/api/auth')).toMatchObject({ status: 200 });
    expect(await page.evaluate(async () => ((await (await fetch('/api/auth')).json()) as { setUp: boolean }).setUp)).toBe(true);
  }, 180_000);

  it('rate limits wrong passwords: the page shows the refusal, and then even the right password waits', async () => {
    // A fresh start (the previous test) counts from zero; logging out does not count.
    await page.goto(sup.url);
    if (!(await page.$(`${ui.login} ${ui.password}`))) {
      await logout(page);
      await page.waitForSelector(`${ui.login} ${ui.password}`);
    }
    const answers: string[] = [];
    for (let i = 0; i <= PASSWORD_ATTEMPTS_PER_ADDRESS; i++) answers.push((await gateAnswer(page, `wrong guess ${i}`)) ?? 'logged in');
    expect(answers.slice(0, PASSWORD_ATTEMPTS_PER_ADDRESS)).toEqual(Array(PASSWORD_ATTEMPTS_PER_ADDRESS).fill('wrong password'));
    expect(answers.at(-1)).toMatch(/too many password attempts from this address; try again in/);
    expect(await gateAnswer(page, THIRD)).toMatch(/too many password attempts/);
    expect(await pageFetch(page, 'GET', '/api/params')).toEqual({ status: 401, error: 'unauthorized' });
    expect(sup.output()).not.toContain('"statusCode":500');
  });
});
