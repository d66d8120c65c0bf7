// The page follows the box, always: a change made over MQTT (a real Mosquitto) reaches the page
// within 100 ms; the supervisor stopped, the page says so within 2 s (banner, controls off, meters
// blank, engine state unknown); the supervisor back with other values and presets, the page shows
// them, without the old error. Real supervisor process, real engine, headless Chromium.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import { startBroker, TestClient } from '../fakes/broker.js';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { waitFor } from '../fakes/net.js';
import { openStage, screenshot, showView } from '../fakes/page.js';
import { TEST_PASSWORD } from '../fakes/owner.js';
import { getJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';

describe('the page follows the box', () => {
  let broker: MosquittoProcess;
  let mqttUrl: string;
  let sup: RunningSupervisor;
  let browser: Browser;
  let page: Page;
  let client: TestClient;
  let base: string;
  let xrunTotal = 0;

  beforeAll(async () => {
    ({ broker, url: mqttUrl } = await startBroker());
    sup = await startSupervisor({ env: { HUSHBOX_MQTT_URL: mqttUrl } });
    base = `hushbox/${(await getJson<{ deviceId: string }>(`${sup.url}/api/status`)).deviceId}`;
    client = await TestClient.connect(mqttUrl, [`${base}/availability`]);
    await client.waitFor((m) => m.payload === 'online', 'the box online on MQTT');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await openLoggedIn(page, sup.url, TEST_PASSWORD);
    await page.waitForSelector('#connection[data-state="online"]');
    await openStage(page, 'trim');
  }, 90_000);

  afterAll(async () => {
    await client?.end();
    await browser?.close();
    await sup?.stop();
    sup?.cleanup();
    await broker?.dispose();
  });

  it('shows a change made over MQTT within 100 ms (the median of 15; bench/page.mjs gives more)', async () => {
    const delays: number[] = [];
    for (const value of [-3, 4, -7, 2, -1, 6, -5, 3, 1, -2, 5, -6, 7, -4, 0]) {
      await page.evaluate(() => {
        const w = window as unknown as { changedAt?: number };
        delete w.changedAt;
        const out = document.querySelector('[data-param="mic.trim.gain"] output')!;
        new MutationObserver((_m, obs) => {
          w.changedAt = Date.now();
          obs.disconnect();
        }).observe(out, { childList: true, characterData: true, subtree: true });
      });
      const sent = Date.now();
      await client.client.publishAsync(`${base}/set`, JSON.stringify({ params: { 'mic.trim.gain': value } }));
      const at = await waitFor('the page to change', () => page.evaluate(() => (window as unknown as { changedAt?: number }).changedAt), 5000, 5);
      expect(await page.textContent('[data-param="mic.trim.gain"] output')).toBe(`${value.toFixed(1)} dB`);
      expect(await page.inputValue('input[name="mic.trim.gain"]')).toBe(String(value));
      delays.push(at - sent);
    }
    delays.sort((a, b) => a - b);
    console.log(`MQTT set → page: ${delays.join(', ')} ms (load ${loadavg()[0]!.toFixed(1)})`);
    // From the publish to the page showing it: broker, supervisor, engine, WebSocket, render. The
    // median is held to 100 ms; single ones on the shared 2-core machine under load take longer
    // (the tail is in the README, from bench/page.mjs).
    expect(delays[7]).toBeLessThan(100);
  });

  it('says it is offline within 2 s of the supervisor stopping: controls off, meters blank, engine state unknown', async () => {
    // An xrun before the box goes (the engine stopped for 150 ms): its all-time count must not
    // restart at 0 with the supervisor (defect: it did).
    const { pid } = (await getJson<{ engine: { pid: number } }>(`${sup.url}/api/status`)).engine;
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 150));
    process.kill(pid, 'SIGCONT');
    await waitFor('the xrun counted', async () => (await getJson<{ total: number }>(`${sup.url}/api/xruns`)).total >= 1, 5000);
    await new Promise((r) => setTimeout(r, 1500));
    xrunTotal = (await getJson<{ total: number }>(`${sup.url}/api/xruns`)).total;
    await showView(page, 'health');
    await waitFor('the all-time xruns on the page', async () => Number((await page.textContent('#engine-facts [data-fact="xruns-total"] dd'))?.split(' ')[0]) >= xrunTotal);
    await showView(page, 'live');

    // An error on screen before the box goes: it must not survive the reconnect.
    await page.route('**/api/params/mic.trim.gain', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'engine_unavailable', message: 'the engine is restarting' }) }),
    );
    await page.locator('input[name="mic.trim.gain"]').fill('5');
    await page.waitForSelector('.param-error[data-param="mic.trim.gain"]');
    await page.unroute('**/api/params/mic.trim.gain');

    await page.evaluate(() => {
      const w = window as unknown as { offlineAt?: number };
      new MutationObserver((_m, obs) => {
        if (document.querySelector('#offline')) {
          w.offlineAt = Date.now();
          obs.disconnect();
        }
      }).observe(document.body, { childList: true, subtree: true });
    });
    const stopped = Date.now();
    await sup.stop();
    const at = await waitFor('the offline banner', () => page.evaluate(() => (window as unknown as { offlineAt?: number }).offlineAt), 5000, 20);
    console.log(`supervisor stopped → banner: ${at - stopped} ms`);
    expect(at - stopped).toBeLessThan(2000);
    expect(await page.textContent('#engine-state')).toBe('unknown');
    expect(await page.getAttribute('#connection', 'data-state')).toBe('stopped');
    expect(await page.isDisabled('input[name="mic.trim.gain"]')).toBe(true);
    expect(await page.isDisabled('#bypass')).toBe(true);
    expect(await page.isDisabled('#preset-select')).toBe(true);
    await page.waitForTimeout(300);
    const meters = await page.$$eval('.meter', (ms) => ms.map((m) => [(m as HTMLElement).dataset.live, m.querySelector('.value')!.textContent]));
    expect(meters.length).toBeGreaterThan(0);
    for (const [live, text] of meters) expect([live, text]).toEqual(['false', '—']);
    await screenshot(page, 'desktop-offline');
  });

  it('is correct again when the box returns: new values, new presets, no old error', async () => {
    // While it is away, the box's saved state and presets change (as a restore, or a preset
    // copied onto the data partition, would leave them).
    const lastState = join(sup.dataDir, 'last-state.json');
    const saved = JSON.parse(readFileSync(lastState, 'utf8'));
    saved.params['mic.trim.gain'] = 7;
    writeFileSync(lastState, JSON.stringify(saved));
    writeFileSync(join(sup.dataDir, 'presets', 'made-while-away.json'), JSON.stringify({
      schema: 1, id: 'made-while-away', name: 'Made while away', tags: [], notes: '',
      created: '2026-12-01T00:00:00.000Z', modified: '2026-12-01T00:00:00.000Z', params: { 'mic.trim.gain': 1 },
    }));
    const again = await startSupervisor({ dataDir: sup.dataDir, onboard: false, port: sup.port, env: { HUSHBOX_MQTT_URL: mqttUrl } });
    const old = sup;
    sup = { ...again, cleanup: old.cleanup };
    await page.waitForSelector('#connection[data-state="online"]', { timeout: 20_000 });
    await page.waitForSelector('#offline', { state: 'detached' });
    await page.waitForSelector('#engine-state[data-state="running"]');
    await waitFor('the trim the box runs now', async () => (await page.textContent('[data-param="mic.trim.gain"] output')) === '7.0 dB');
    expect(await page.inputValue('input[name="mic.trim.gain"]')).toBe('7');
    expect(await page.textContent('#preset-select')).toContain('Made while away');
    expect(await page.locator('.param-error').count()).toBe(0);
    await page.waitForSelector('input[name="mic.trim.gain"]:not(:disabled)');
    await page.waitForSelector('.meter[data-live="true"]');
    // The all-time xrun count goes on from where it was; the engine's own count started again.
    await showView(page, 'health');
    const total = Number((await page.textContent('#engine-facts [data-fact="xruns-total"] dd'))?.split(' ')[0]);
    expect(total).toBeGreaterThanOrEqual(xrunTotal);
    expect((await getJson<{ total: number; session: number }>(`${sup.url}/api/xruns`)).session).toBeLessThan(total);
    await showView(page, 'live');
  }, 60_000);
});
