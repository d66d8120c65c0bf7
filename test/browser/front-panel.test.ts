import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Status } from '../../src/web/schemas.js';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { waitFor } from '../fakes/net.js';
import { getJson, sendJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { transparentParams } from '../fakes/transparent.js';
import { TEST_PASSWORD } from '../fakes/owner.js';

describe('the front panel in headless Chromium', () => {
  let sup: RunningSupervisor;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    sup = await startSupervisor();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    // The box was onboarded at start (startSupervisor): the page asks the owner to log in.
    await openLoggedIn(page, sup.url, TEST_PASSWORD);
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

  it('shows the gain reduction of each stage', async () => {
    await waitFor('the mic compressor to show reduction', async () => {
      const db = await page.getAttribute('#reduction .gr[data-strip="0"][data-stage="comp"]', 'data-db');
      return db !== null && Number(db) > 0;
    });
    expect(await page.textContent('#reduction')).toContain('Limit');
    // The master limiter's figure beside the strips', in the Limit column.
    await page.waitForSelector('#reduction .gr[data-strip="master"][data-stage="limit"]');
    expect(await page.textContent('#reduction')).toContain('Master');
  });

  it('sets the mic trim from its slider, and the engine applies it', async () => {
    // Only the trims between the meters (the chain's defaults compress and shape the sound).
    const ids = (await getJson<Array<{ id: string }>>(`${sup.url}/api/params`)).map((p) => p.id);
    expect((await sendJson('PATCH', `${sup.url}/api/params`, { values: transparentParams(ids) })).status).toBe(200);
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

  it('follows changes made elsewhere: stages bypassed over the API show switched off', async () => {
    // The previous test bypassed every stage through the API, not through the page.
    await waitFor('the compressor switch to show off', async () => !(await page.isChecked('legend input[name="mic.comp.bypass"]')));
    expect(await page.getAttribute('fieldset[data-stage="comp"]', 'data-bypassed')).toBe('true');
    await page.check('legend input[name="mic.comp.bypass"]');
    await waitFor('the engine to run the compressor again', async () => (await getJson<Status>(`${sup.url}/api/status`)).params['mic.comp.bypass'] === 0);
  });

  it('recalls a preset from the preset menu, and the controls follow', async () => {
    const podcast = await getJson<{ name: string; params: Record<string, number> }>(`${sup.url}/api/presets/podcast`);
    await page.selectOption('#preset-select', 'podcast');
    await waitFor('the box to report Podcast', async () => (await getJson<{ preset: string | null }>(`${sup.url}/api/state`)).preset === 'Podcast');
    await page.waitForSelector('#message:not([hidden])');
    expect(await page.textContent('#message')).toContain('Podcast recalled');
    const threshold = podcast.params['mic.comp.threshold']!;
    await waitFor('the threshold slider to show the preset', async () => Number(await page.inputValue('input[name="mic.comp.threshold"]')) === threshold);
    expect(await page.inputValue('#preset-select')).toBe('podcast');
  });

  it('compares A and B', async () => {
    await page.click('#ab-store-a');
    await waitFor('slot A stored', async () => (await getJson<{ A: unknown }>(`${sup.url}/api/ab`)).A !== null);
    await page.fill('input[name="mic.trim.gain"]', '5');
    await waitFor('the trim at 5 dB', async () => (await getJson<Status>(`${sup.url}/api/status`)).params['mic.trim.gain'] === 5);
    await page.click('#ab-store-b');
    await waitFor('slot B stored', async () => (await getJson<{ B: unknown }>(`${sup.url}/api/ab`)).B !== null);
    const trimA = (await getJson<{ A: { params: Record<string, number> } }>(`${sup.url}/api/ab`)).A.params['mic.trim.gain'];
    await page.click('#ab-toggle');
    await waitFor('the other slot recalled', async () => (await getJson<Status>(`${sup.url}/api/status`)).params['mic.trim.gain'] === trimA);
    await waitFor('the slider to follow', async () => Number(await page.inputValue('input[name="mic.trim.gain"]')) === trimA);
  });

  it('bypasses the whole chain from the header button and back', async () => {
    await page.click('#bypass');
    await waitFor('master bypass on', async () => (await getJson<Status>(`${sup.url}/api/status`)).params['master.bypass'] === 1);
    expect(await page.getAttribute('#bypass', 'aria-pressed')).toBe('true');
    await page.click('#bypass');
    await waitFor('master bypass off', async () => (await getJson<Status>(`${sup.url}/api/status`)).params['master.bypass'] === 0);
  });

  it('shows each strip on its own tab', async () => {
    expect(await page.isVisible('input[name="inst.trim.gain"]')).toBe(false);
    await page.click('#strip-tabs button[data-strip="inst"]');
    expect(await page.isVisible('input[name="inst.trim.gain"]')).toBe(true);
    expect(await page.isVisible('input[name="mic.trim.gain"]')).toBe(false);
    await page.click('#strip-tabs button[data-strip="out"]');
    expect(await page.isVisible('input[name="master.gain"]')).toBe(true);
    await page.click('#strip-tabs button[data-strip="mic"]');
  });

  it('shows the master limiter on the output tab, with its own on/off beside the master gain', async () => {
    await page.click('#strip-tabs button[data-strip="out"]');
    expect(await page.textContent('fieldset[data-stage="master.limit"] legend')).toContain('Master limiter');
    expect(await page.isVisible('input[name="master.limit.ceiling"]')).toBe(true);
    expect(await page.isVisible('input[name="master.limit.release"]')).toBe(true);
    expect(await page.textContent('fieldset[data-stage="master.limit"]')).toContain('Ceiling');
    // The master gain keeps its group; the limiter's switch is not taken for its on/off.
    expect(await page.locator('fieldset[data-stage="gain"] legend input').count()).toBe(0);
    const on = page.locator('legend input[name="master.limit.bypass"]');
    const wasOn = await on.isChecked();
    await on.setChecked(!wasOn);
    await waitFor('the engine to switch the master limiter', async () => (await getJson<Status>(`${sup.url}/api/status`)).params['master.limit.bypass'] === (wasOn ? 1 : 0));
    await on.setChecked(wasOn);
    await waitFor('the master limiter back as it was', async () => (await getJson<Status>(`${sup.url}/api/status`)).params['master.limit.bypass'] === (wasOn ? 0 : 1));
    await page.click('#strip-tabs button[data-strip="mic"]');
  });

  it('shows the system health', async () => {
    await waitFor('the health card', async () => ((await page.textContent('#health-facts')) ?? '').includes('Memory'));
    expect(await page.textContent('#health-facts')).toMatch(/Memory\s*\d+ % of/);
  });
});
