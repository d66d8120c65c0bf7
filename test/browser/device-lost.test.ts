// The audio interface unplugged and plugged in again, seen on the front panel: the engine's state
// says so, the meters go blank rather than freeze (the box itself still answers), and the event list
// keeps "device lost" and "device back" with their times. The real supervisor and engine (the ALSA
// backend's device check over a copy of the x86-box fixture's /proc, the engine itself on the sim
// device), headless Chromium.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { defaultEngineBinary } from '../../src/paths.js';
import { simForAlsaEngine } from '../fakes/engine-scripts.js';
import { fixtureCopy } from '../fakes/fixtures.js';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { waitFor } from '../fakes/net.js';
import { screenshot, showView } from '../fakes/page.js';
import { TEST_PASSWORD } from '../fakes/owner.js';
import { startSupervisor } from '../fakes/supervisor.js';

describe('the audio interface lost and back, on the front panel', () => {
  const copy = fixtureCopy('x86-box');
  const card = join(copy.root, 'proc', 'asound', 'card1');
  let box: Awaited<ReturnType<typeof startSupervisor>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    box = await startSupervisor((c) => {
      c.system = { root: copy.root, tune: false, audioCpu: -1, irqPriority: 90, swappiness: 10 };
      c.engine = { ...c.engine, backend: 'alsa', device: 'hw:Gen', priority: 0, binary: simForAlsaEngine(dirname(copy.root), defaultEngineBinary()) };
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await openLoggedIn(page, box.url, TEST_PASSWORD);
    await page.waitForSelector('#engine-state[data-state="running"]');
    await page.waitForSelector('.meter[data-live="true"]');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await box?.stop();
    copy.remove();
  });

  it('says the device is gone, blanks the meters, and lists it (defect: frozen meters that looked alive)', async () => {
    const pid = box.sup.engine.status().pid!;
    // Unplugged: the card goes and the engine loses its device.
    rmSync(card, { recursive: true });
    process.kill(pid, 'SIGKILL');
    await page.waitForSelector('#engine-state[data-state="waiting_for_device"]', { timeout: 15_000 });
    // The box answers (the page is online), but nothing is measured: no meter may look alive.
    expect(await page.getAttribute('#connection', 'data-state')).toBe('online');
    await waitFor('every meter blank', async () => (await page.$$eval('.meter', (ms) => ms.map((m) => (m as HTMLElement).dataset.live))).every((l) => l === 'false'), 5000);
    expect(await page.getAttribute('#mini-meters', 'data-live')).toBe('false');
    await showView(page, 'health');
    await page.waitForSelector('#event-list li[data-kind="device_lost"]', { timeout: 15_000 });
    expect(await page.textContent('#event-list li[data-kind="device_lost"]')).toMatch(/audio device lost/);
    expect(await page.textContent('#event-list li[data-kind="device_lost"] time')).toMatch(/\d/);
    await screenshot(page, 'desktop-device-lost');
  }, 60_000);

  it('comes back by itself when it is plugged in again, and lists that too', async () => {
    mkdirSync(card);
    writeFileSync(join(card, 'id'), 'Gen\n');
    writeFileSync(join(card, 'usbid'), '1235:8219\n');
    await page.waitForSelector('#engine-state[data-state="running"]', { timeout: 20_000 });
    await page.waitForSelector('#event-list li[data-kind="device_back"]', { timeout: 15_000 });
    await showView(page, 'live');
    await page.waitForSelector('.meter[data-live="true"]', { timeout: 10_000 });
  }, 60_000);
});
