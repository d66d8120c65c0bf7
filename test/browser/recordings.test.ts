// The Recordings card in headless Chromium against a real supervisor: a take
// recorded from the page, played in the page, deleted from the page.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { TEST_PASSWORD } from '../fakes/owner.js';
import { startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';

describe('recordings in the front panel (headless Chromium)', () => {
  let sup: RunningSupervisor;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    sup = await startSupervisor();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await openLoggedIn(page, sup.url, TEST_PASSWORD);
    await page.waitForSelector('#engine-state[data-state="running"]');
  });

  afterAll(async () => {
    await browser?.close();
    await sup?.stop();
    sup?.cleanup();
  });

  it('records a take from the Record button, stops it, lists it and plays it in the page', async () => {
    await page.waitForSelector('#rec-empty:not([hidden])');
    await page.selectOption('#rec-source', 'all');
    await page.click('#rec-toggle');
    await page.waitForSelector('#rec-toggle[aria-pressed="true"]');
    expect(await page.textContent('#rec-status')).toMatch(/recording .*\.wav/);
    await page.waitForTimeout(1500);
    await page.click('#rec-toggle');
    await page.waitForSelector('#rec-toggle[aria-pressed="false"]');
    expect(await page.textContent('#rec-status')).toContain('(requested)');
    const item = await page.waitForSelector('#rec-takes li audio');
    // Chromium decodes the 24-bit WAV the box served: its length is the take's.
    const duration = await item.evaluate(
      (a: HTMLAudioElement) =>
        new Promise<number>((resolve, reject) => {
          a.addEventListener('loadedmetadata', () => resolve(a.duration), { once: true });
          a.addEventListener('error', () => reject(new Error(`audio error ${a.error?.code}`)), { once: true });
          a.load();
        }),
    );
    expect(duration).toBeGreaterThan(1.2);
    expect(duration).toBeLessThan(10); // 1.5 s asked; clicks on a loaded machine take their time
    expect(await page.textContent('#rec-takes li')).toContain('4 ch');
  });

  it('deletes the take from the page', async () => {
    const name = await page.getAttribute('#rec-takes li', 'data-name');
    await page.click('#rec-takes li button');
    await page.waitForSelector('#rec-empty:not([hidden])');
    expect(readdirSync(join(sup.dataDir, 'recordings'))).not.toContain(name);
  });
});
