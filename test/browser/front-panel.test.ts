import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Status } from '../../src/web/schemas.js';
import { launchBrowser } from '../fakes/browser.js';
import { waitFor } from '../fakes/net.js';
import { getJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';

describe('the front panel in headless Chromium', () => {
  let sup: RunningSupervisor;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    sup = await startSupervisor();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(sup.url);
  });

  afterAll(async () => {
    await browser?.close();
    await sup?.stop();
    sup?.cleanup();
  });

  it('shows the engine running and the connection live', async () => {
    await page.waitForSelector('#engine-state[data-state="running"]');
    await page.waitForSelector('#connection[data-state="online"]');
    expect(await page.textContent('#device-name')).toContain('hushbox');
  });

  it('moves the meters live from /ws/telemetry', async () => {
    const readPeak = () => page.getAttribute('.meter[data-dir="in"][data-channel="0"] .value', 'data-peak-db');
    const seen = new Set<string>();
    await waitFor('the mic meter to take several values', async () => {
      const v = await readPeak();
      if (v) seen.add(v);
      return seen.size >= 5;
    }, 10_000, 60);
    const frames = await page.evaluate(() => (window as unknown as { hushbox: { frames: number } }).hushbox.frames);
    expect(frames).toBeGreaterThan(10);
    const width = await page.$eval('.meter[data-dir="in"][data-channel="1"] .rms', (el) => (el as HTMLElement).style.width);
    expect(Number.parseFloat(width)).toBeGreaterThan(0);
  });

  it('sets the mic trim from its slider, and the engine applies it', async () => {
    const slider = page.locator('input[name="mic.trim.gain"]');
    await slider.fill('-9');
    await waitFor('the engine to apply -9 dB', async () => (await getJson<Status>(`${sup.url}/api/status`)).params['mic.trim.gain'] === -9);
    await waitFor('the output meter to fall 9 dB under the input', async () => {
      const s = await getJson<Status>(`${sup.url}/api/status`);
      const m = s.telemetry!.meters;
      return Math.abs(m.out[0]!.peakDb - m.in[0]!.peakDb + 9) < 0.5;
    });
    await page.screenshot({ path: process.env.HUSHBOX_SCREENSHOT ?? `${sup.dataDir}/front-panel.png`, fullPage: true });
  });
});
