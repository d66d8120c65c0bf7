// Health that warns, with the box's own readings: a Raspberry Pi's temperature and firmware
// throttling flags (sysfs under a copy of the pi4 fixture's root, read by the real supervisor's
// health service) turn the page's figures red, and green again when they recover. Headless Chromium.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { fixtureCopy } from '../fakes/fixtures.js';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { waitFor } from '../fakes/net.js';
import { screenshot, showView } from '../fakes/page.js';
import { TEST_PASSWORD } from '../fakes/owner.js';
import { startSupervisor } from '../fakes/supervisor.js';

describe('health that warns, on the front panel', () => {
  const copy = fixtureCopy('pi4-scarlett-solo');
  const temp = join(copy.root, 'sys/class/thermal/thermal_zone0/temp');
  const throttled = join(copy.root, 'sys/devices/platform/soc/soc:firmware/get_throttled');
  let box: Awaited<ReturnType<typeof startSupervisor>>;
  let browser: Browser;
  let page: Page;
  const level = (fact: string) => page.getAttribute(`#health-facts [data-fact="${fact}"]`, 'data-level');

  beforeAll(async () => {
    writeFileSync(temp, '52000\n');
    writeFileSync(throttled, '0x0\n');
    box = await startSupervisor((c) => {
      c.system = { root: copy.root, tune: false, audioCpu: -1, irqPriority: 90, swappiness: 10 };
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await openLoggedIn(page, box.url, TEST_PASSWORD);
    await page.waitForSelector('#connection[data-state="online"]');
    await showView(page, 'health');
    await waitFor('the temperature shown', async () => (await page.textContent('#health-facts [data-fact="temperature"] dd')) === '52.0 °C', 20_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await box?.stop();
    copy.remove();
  });

  it('starts green: a cool box that is not throttled', async () => {
    expect(await level('temperature')).toBe('ok');
    expect(await level('throttling')).toBe('ok');
  });

  it('turns red when the box runs hot and throttles (defect: figures as plain text)', async () => {
    writeFileSync(temp, '85300\n');
    // Under-voltage and throttling now (bits 0 and 2), and since boot (16 and 18).
    writeFileSync(throttled, '0x50005\n');
    await waitFor('the temperature red', async () => (await level('temperature')) === 'bad', 20_000);
    expect(await page.textContent('#health-facts [data-fact="temperature"] dd')).toBe('85.3 °C');
    await waitFor('throttling red', async () => (await level('throttling')) === 'bad', 20_000);
    expect(await page.textContent('#health-facts [data-fact="throttling"] dd')).toBe('throttled now');
    await screenshot(page, 'desktop-health-hot');
  }, 60_000);

  it('warns between the thresholds, and is green again once it cools down', async () => {
    writeFileSync(temp, '74000\n');
    writeFileSync(throttled, '0x50000\n');
    await waitFor('the temperature amber', async () => (await level('temperature')) === 'warn', 20_000);
    await waitFor('throttling no longer now', async () => (await level('throttling')) === 'ok', 20_000);
    writeFileSync(temp, '50000\n');
    await waitFor('the temperature green', async () => (await level('temperature')) === 'ok', 20_000);
  }, 60_000);
});
