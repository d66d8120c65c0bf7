// The Scarlett's hardware controls on the front panel (Settings → Scarlett), at desktop and phone
// sizes in headless Chromium: gain, Line/Inst, Air, direct monitor, and 48V only after a warning.
// The supervisor is the real one (real engine, web app, guard and scarlett2 layer) over the x86-box
// fixture's /sys (a Scarlett 2i2 4th Gen on USB); only the ALSA control calls are a fake card, named
// exactly as the kernel's scarlett2 driver names them (no Scarlett is plugged into this machine).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ControlAccess, RawControl } from '../../src/system/native-system.js';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { fixturePath } from '../fakes/fixtures.js';
import { waitFor } from '../fakes/net.js';
import { forbidNativeDialogs, screenshot, showView } from '../fakes/page.js';
import { TEST_PASSWORD } from '../fakes/owner.js';
import { startSupervisor } from '../fakes/supervisor.js';

const bool = (numid: number, name: string, v: boolean): RawControl => ({ numid, name, index: 0, iface: 'MIXER', type: 'boolean', count: 1, writable: true, values: [v] });
const enumc = (numid: number, name: string, items: string[], v: number): RawControl => ({ numid, name, index: 0, iface: 'MIXER', type: 'enumerated', count: 1, writable: true, items, values: [v] });
const int = (numid: number, name: string, min: number, max: number, v: number): RawControl => ({ numid, name, index: 0, iface: 'MIXER', type: 'integer', count: 1, writable: true, min, max, step: 1, values: [v] });

/** A Scarlett 2i2 4th Gen's mixer controls (sound/usb/mixer_scarlett2.c), 48V off. */
class FakeCard implements ControlAccess {
  readonly controls: RawControl[] = [
    int(1, 'Line In 1 Gain Capture Volume', 0, 70, 20),
    int(2, 'Line In 2 Gain Capture Volume', 0, 70, 0),
    enumc(3, 'Line In 1 Level Capture Enum', ['Line', 'Inst'], 0),
    enumc(4, 'Line In 1 Air Capture Enum', ['Off', 'Presence', 'Presence + Drive'], 0),
    enumc(5, 'Line In 2 Air Capture Enum', ['Off', 'Presence', 'Presence + Drive'], 0),
    bool(6, 'Line In 1-2 Phantom Power Capture Switch', false),
    enumc(7, 'Direct Monitor Playback Enum', ['Off', 'Mono', 'Stereo'], 0),
  ];
  writes: Array<[number, Array<number | boolean>]> = [];
  list(): RawControl[] {
    return structuredClone(this.controls);
  }
  set(_card: string, numid: number, values: Array<number | boolean>): void {
    this.writes.push([numid, values]);
    this.controls.find((c) => c.numid === numid)!.values = values;
  }
  value(numid: number): number | boolean {
    return this.controls.find((c) => c.numid === numid)!.values[0]!;
  }
}

describe('the Scarlett on the front panel', () => {
  const card = new FakeCard();
  let box: Awaited<ReturnType<typeof startSupervisor>>;
  let browser: Browser;
  let page: Page;
  let nativeDialogs: string[];

  const openScarlett = async (p: Page) => {
    await showView(p, 'settings');
    const d = p.locator('#scarlett-card');
    if (!(await d.evaluate((e) => (e as HTMLDetailsElement).open))) await d.locator('summary').click();
    await p.waitForSelector('#scarlett fieldset[data-input="1"]');
  };

  beforeAll(async () => {
    box = await startSupervisor((c) => {
      c.system = { root: fixturePath('x86-box'), tune: false, audioCpu: -1, irqPriority: 90, swappiness: 10 };
    }, { controls: card });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    nativeDialogs = forbidNativeDialogs(page);
    await openLoggedIn(page, box.url, TEST_PASSWORD);
    await page.waitForSelector('#connection[data-state="online"]');
    await openScarlett(page);
  }, 60_000);

  afterAll(async () => {
    expect(nativeDialogs).toEqual([]);
    await browser?.close();
    await box?.stop();
  });

  it('shows both inputs with their controls, as the interface has them', async () => {
    expect(await page.inputValue('input[name="scarlett-gain-1"]')).toBe('20');
    expect(await page.getAttribute('#scarlett fieldset[data-input="1"] [aria-label="Level"] [aria-checked="true"]', 'role')).toBe('radio');
    expect(await page.textContent('#scarlett fieldset[data-input="1"] [aria-label="Level"] [aria-checked="true"]')).toBe('Line');
    expect(await page.isChecked('input[name="scarlett-phantom-1"]')).toBe(false);
    expect(await page.textContent('#scarlett [aria-label="Direct monitor"] [aria-checked="true"]')).toBe('Off');
  });

  it('sets the gain, Line/Inst, Air and direct monitor on the interface', async () => {
    await page.locator('input[name="scarlett-gain-2"]').fill('42');
    await waitFor('gain 2 at 42', () => card.value(2) === 42);
    await page.waitForSelector('#scarlett fieldset[data-input="2"] output:text-is("42")');
    await page.click('#scarlett fieldset[data-input="1"] [aria-label="Level"] button:text-is("Inst")');
    await waitFor('input 1 on Inst', () => card.value(3) === 1);
    await page.waitForSelector('#scarlett fieldset[data-input="1"] [aria-label="Level"] button[aria-checked="true"]:text-is("Inst")');
    await page.click('#scarlett fieldset[data-input="1"] [aria-label="Air"] button:text-is("Air presence+drive")');
    await waitFor('Air presence + drive on input 1', () => card.value(4) === 2);
    await page.click('#scarlett [aria-label="Direct monitor"] button:text-is("Stereo")');
    await waitFor('direct monitor stereo', () => card.value(7) === 2);
    await page.waitForSelector('#scarlett [aria-label="Direct monitor"] button[aria-checked="true"]:text-is("Stereo")');
  });

  it('turns 48V on only after a warning; cancelled, nothing is sent', async () => {
    const writes = card.writes.length;
    await page.click('#scarlett fieldset[data-input="1"] label.switch');
    await page.waitForSelector('dialog#dialog-phantom[open]');
    expect(await page.textContent('dialog#dialog-phantom')).toMatch(/ribbon/);
    await page.click('dialog#dialog-phantom button.cancel');
    await page.waitForSelector('dialog#dialog-phantom', { state: 'detached' });
    await page.waitForTimeout(300);
    expect(card.writes.length).toBe(writes);
    expect(card.value(6)).toBe(false);
    expect(await page.isChecked('input[name="scarlett-phantom-1"]')).toBe(false);

    await page.click('#scarlett fieldset[data-input="1"] label.switch');
    await page.waitForSelector('dialog#dialog-phantom[open]');
    await screenshot(page, 'desktop-phantom-dialog');
    await page.click('dialog#dialog-phantom button.ok');
    await waitFor('48V on', () => card.value(6) === true);
    await waitFor('the switch on', () => page.isChecked('input[name="scarlett-phantom-1"]'));
    // Off needs no warning.
    await page.click('#scarlett fieldset[data-input="2"] label.switch');
    await waitFor('48V off', () => card.value(6) === false);
    expect(await page.locator('dialog#dialog-phantom').count()).toBe(0);
  });

  it("follows the interface's own knobs and buttons while the card is open", async () => {
    card.controls.find((c) => c.numid === 1)!.values = [55];
    card.controls.find((c) => c.numid === 6)!.values = [true];
    await waitFor('the page to show gain 55', async () => (await page.inputValue('input[name="scarlett-gain-1"]')) === '55', 5000);
    await waitFor('the page to show 48V on', () => page.isChecked('input[name="scarlett-phantom-1"]'), 5000);
    await screenshot(page, 'desktop-settings-scarlett');
  });

  it('fits a phone, every control a 44 px target', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await openLoggedIn(p, box.url, TEST_PASSWORD);
    await p.waitForSelector('#connection[data-state="online"]');
    await openScarlett(p);
    const bad = await p.evaluate(() =>
      [...document.querySelectorAll('#scarlett button, #scarlett input[type=range], #scarlett label.switch')]
        .map((e) => ({ e, r: e.getBoundingClientRect() }))
        .filter(({ r }) => r.height < 44 || r.width < 44 || r.right > window.innerWidth + 1)
        .map(({ e, r }) => `${e.tagName.toLowerCase()}[${e.getAttribute('name') ?? e.textContent?.trim()}] ${r.width.toFixed(0)}x${r.height.toFixed(0)} right ${r.right.toFixed(0)}`),
    );
    expect(bad).toEqual([]);
    await p.locator('#scarlett-card').scrollIntoViewIfNeeded();
    await screenshot(p, 'phone-settings-scarlett');
    await phone.close();
  }, 60_000);
});
