// The box's name and its MQTT broker set on the front panel (Settings → Box name and MQTT), against
// the real supervisor and two real Mosquittos (the first anonymous, named in config.json; the
// second with a password file): the rename reaches the header of every open page and Home
// Assistant's discovery; a wrong login is said plainly; the right one moves the box to the second
// broker, which then controls it; both survive a restart of the supervisor; a token cannot move
// the broker. Screenshots at desktop and phone sizes under build/screenshots/.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import { passwordLine } from '../../src/mqtt/broker-credentials.js';
import { freePort, startBroker, TestClient } from '../fakes/broker.js';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { waitFor } from '../fakes/net.js';
import { screenshot, showView } from '../fakes/page.js';
import { TEST_PASSWORD } from '../fakes/owner.js';
import { getJson, sendJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';

const USER = 'studio-box';
const PASS = 'a long broker password';

describe('the box name and MQTT broker on the front panel', () => {
  let first: { broker: MosquittoProcess; url: string };
  let second: MosquittoProcess;
  let secondUrl: string;
  let sup: RunningSupervisor;
  let browser: Browser;
  let page: Page;
  let other: Page;
  let onFirst: TestClient;
  let onSecond: TestClient;
  let base: string;
  let dataDir: string;
  let dir: string;

  const openBoxSettings = async (p: Page) => {
    await showView(p, 'settings');
    const d = p.locator('#box-settings');
    if (!(await d.evaluate((e) => (e as HTMLDetailsElement).open))) await d.locator('summary').click();
    await p.waitForSelector('#mqtt-status');
  };

  beforeAll(async () => {
    first = await startBroker();
    dir = mkdtempSync(join(tmpdir(), 'hushbox-broker2-'));
    writeFileSync(join(dir, 'passwd'), `${passwordLine(USER, PASS)}\n`);
    // mosquitto started as root reads it after dropping to its own user
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'passwd'), 0o644);
    const port = await freePort();
    second = new MosquittoProcess({ port, extraConfig: [`password_file ${join(dir, 'passwd')}`, 'allow_anonymous false'] });
    await second.start();
    secondUrl = `mqtt://127.0.0.1:${port}`;

    // The owner's config.json names the first broker; no HUSHBOX_MQTT_URL in the environment.
    dataDir = mkdtempSync(join(tmpdir(), 'hushbox-test-'));
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ mqtt: { url: first.url } }));
    sup = await startSupervisor({ dataDir, env: { HUSHBOX_MQTT_URL: '' } });
    base = `hushbox/${(await getJson<{ deviceId: string }>(`${sup.url}/api/status`)).deviceId}`;
    onFirst = await TestClient.connect(first.url, [`${base}/availability`, 'homeassistant/#']);
    await onFirst.waitFor((m) => m.topic === `${base}/availability` && m.payload === 'online', 'the box online on the first broker', 20_000);
    onSecond = await TestClient.connect(secondUrl, [`${base}/availability`, `${base}/state`, 'homeassistant/#'], { username: USER, password: PASS });

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await openLoggedIn(page, sup.url, TEST_PASSWORD);
    await page.waitForSelector('#connection[data-state="online"]');
    other = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await openLoggedIn(other, sup.url, TEST_PASSWORD);
    await other.waitForSelector('#connection[data-state="online"]');
  }, 90_000);

  afterAll(async () => {
    await onFirst?.end();
    await onSecond?.end();
    await browser?.close();
    await sup?.stop();
    sup?.cleanup();
    await first?.broker.dispose();
    await second?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the broker the box is connected to', async () => {
    await openBoxSettings(page);
    await page.waitForSelector('#mqtt-status[data-connected="true"]');
    expect(await page.textContent('#mqtt-status')).toContain(first.url);
    expect(await page.inputValue('#mqtt-url')).toBe(first.url);
    expect(await page.inputValue('#device-name-input')).toBe('hushbox');
  });

  it('renames the box: every open page, the tab title and Home Assistant follow (defect: the name could only be set in config.json)', async () => {
    const since = onFirst.messages.length;
    await page.fill('#device-name-input', '   ');
    await page.click('#device-name-save');
    expect(await page.textContent('#device-name-error')).toBe('Give the box a name.');
    await page.fill('#device-name-input', 'Studio box');
    await page.click('#device-name-save');
    await waitFor('the box renamed', async () => (await getJson<{ name: string }>(`${sup.url}/api/status`)).name === 'Studio box');
    await waitFor('the header renamed', async () => (await page.textContent('#device-name'))?.startsWith('Studio box'));
    await waitFor('the tab title renamed', async () => (await page.title()) === 'Studio box · hushbox');
    // The other page did nothing: the box told it.
    await waitFor('the other page renamed', async () => (await other.textContent('#device-name'))?.startsWith('Studio box'));
    const config = await onFirst.waitFor(
      (m) => m.topic.startsWith('homeassistant/') && m.payload.includes('"Studio box"'),
      "Home Assistant's device renamed",
      10_000,
      since,
    );
    expect(JSON.parse(config.payload).device.name).toBe('Studio box');
    // A blank name over the API is answered plainly, not with a schema error.
    const blank = await sendJson('PUT', `${sup.url}/api/settings/box`, { name: ' ' });
    expect(blank.status).toBe(400);
    expect((blank.body as { message: string }).message).toBe('Give the box a name.');
  });

  it('says plainly when the broker refuses the login', async () => {
    await page.fill('#mqtt-url', secondUrl);
    await page.fill('#mqtt-username', USER);
    await page.fill('#mqtt-password', 'not the password');
    await page.click('#mqtt-save');
    await page.waitForSelector('#mqtt-status[data-connected="false"]', { timeout: 15_000 });
    expect(await page.textContent('#mqtt-status')).toContain(`Not connected to ${secondUrl} as ${USER}`);
    // The first broker was told goodbye (retained offline), not left with a stale "online".
    await onFirst.waitFor((m) => m.topic === `${base}/availability` && m.payload === 'offline', 'offline on the first broker');
  }, 30_000);

  it('moves the box to another broker with a login; that broker then controls it', async () => {
    await page.fill('#mqtt-password', PASS);
    await page.click('#mqtt-save');
    await page.waitForSelector('#mqtt-status[data-connected="true"]', { timeout: 15_000 });
    expect(await page.textContent('#mqtt-status')).toBe(`Connected to ${secondUrl} as ${USER}.`);
    await onSecond.waitFor((m) => m.topic === `${base}/availability` && m.payload === 'online', 'the box online on the second broker');
    await onSecond.waitFor((m) => m.topic.startsWith('homeassistant/') && m.payload.includes('"Studio box"'), "Home Assistant's discovery on the second broker");
    // The password is never sent back.
    const s = await getJson<{ mqtt: Record<string, unknown> }>(`${sup.url}/api/settings/box`);
    expect(s.mqtt).toMatchObject({ url: secondUrl, username: USER, passwordSet: true, connected: true, fromEnvironment: false });
    expect(JSON.stringify(s)).not.toContain(PASS);
    // Commands on the new broker reach the box (and the page).
    await showView(page, 'live');
    await onSecond.client.publishAsync(`${base}/set`, JSON.stringify({ params: { 'mic.trim.gain': -4 } }));
    await waitFor('the trim set over the second broker', async () => (await getJson<{ params: Record<string, number> }>(`${sup.url}/api/status`)).params['mic.trim.gain'] === -4);
    // The box's event list says what changed.
    const events = await getJson<{ events: Array<{ type: string; message: string }> }>(`${sup.url}/api/events`);
    expect(events.events.filter((e) => e.type === 'settings_changed').map((e) => e.message)).toEqual(
      expect.arrayContaining(['renamed from hushbox to Studio box', `MQTT broker set to ${secondUrl} as ${USER}`]),
    );
  }, 30_000);

  it('refuses a broker change from a token, and a login written into the address', async () => {
    const asToken = await fetch(`${sup.url}/api/settings/box`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${sup.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mqtt: { url: first.url } }),
    });
    expect(asToken.status).toBe(403);
    expect(((await asToken.json()) as { error: string }).error).toBe('confirmation_required');
    const inUrl = await sendJson('PUT', `${sup.url}/api/settings/box`, { mqtt: { url: `mqtt://someone:secret@127.0.0.1:1883` } });
    expect(inUrl.status).toBe(400);
    expect((inUrl.body as { message: string }).message).toMatch(/Username and Password/);
    expect((await getJson<{ mqtt: { url: string } }>(`${sup.url}/api/settings/box`)).mqtt.url).toBe(secondUrl);
  });

  it('keeps the name and the broker across a restart of the supervisor', async () => {
    const since = onSecond.messages.length;
    await sup.stop();
    await page.waitForSelector('#offline', { timeout: 5000 });
    const again = await startSupervisor({ dataDir, onboard: false, port: sup.port, env: { HUSHBOX_MQTT_URL: '' } });
    sup = { ...again, token: sup.token, cleanup: sup.cleanup };
    await onSecond.waitFor((m) => m.topic === `${base}/availability` && m.payload === 'online', 'online on the second broker again', 20_000, since);
    await page.waitForSelector('#connection[data-state="online"]', { timeout: 20_000 });
    expect(await page.textContent('#device-name')).toMatch(/^Studio box/);
    await openBoxSettings(page);
    await page.waitForSelector('#mqtt-status[data-connected="true"]');
    expect(await page.textContent('#mqtt-status')).toContain(secondUrl);
    await screenshot(page, 'desktop-settings-box');
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await openLoggedIn(p, sup.url, TEST_PASSWORD);
    await p.waitForSelector('#connection[data-state="online"]');
    await openBoxSettings(p);
    await p.waitForSelector('#mqtt-status[data-connected="true"]');
    const wide = await p.evaluate(() => [...document.querySelectorAll('#box-settings *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).length);
    expect(wide).toBe(0);
    await p.locator('#box-settings').scrollIntoViewIfNeeded();
    await screenshot(p, 'phone-settings-box');
    await phone.close();
  }, 90_000);
});
