// MIDI learn from the front panel in headless Chromium, against a real
// supervisor and engine (sim backend). The MIDI comes through the engine's
// pipe hook (`--midi file:PATH`: the same parser, MIDI thread, queue and
// audio-thread mapping as a device; the ALSA sequencer path runs in QEMU,
// test/system/midi.test.ts).
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { openStage, showView } from '../fakes/page.js';
import { TEST_PASSWORD } from '../fakes/owner.js';
import { waitFor } from '../fakes/net.js';
import { startSupervisor } from '../fakes/supervisor.js';
import { tempDir } from '../fakes/temp-context.js';

describe('MIDI on the front panel in headless Chromium', () => {
  let box: Awaited<ReturnType<typeof startSupervisor>>;
  let browser: Browser;
  let page: Page;
  let pipe: number;
  const tmp = tempDir('hushbox-midi-page-');
  const send = (...bytes: number[]) => writeSync(pipe, Buffer.from(bytes));

  beforeAll(async () => {
    box = await startSupervisor();
    const fifo = join(tmp.dir, 'midi-in');
    execFileSync('mkfifo', [fifo]);
    pipe = openSync(fifo, constants.O_RDWR);
    await box.sup.engine.setMidiInput(`file:${fifo}`);
    await waitFor('the engine reads the pipe', async () => box.sup.engine.status().state === 'running' && box.sup.engine.midiCounters()?.ports === 1);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await openLoggedIn(page, `http://127.0.0.1:${box.sup.web.port()}/`, TEST_PASSWORD);
    await page.waitForSelector('#connection[data-state="online"]');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (pipe !== undefined) closeSync(pipe);
    await box?.stop();
    tmp.cleanup();
  });

  it('learns a knob for a control: click MIDI, move the knob, the mapping shows and the knob moves the slider', async () => {
    await openStage(page, 'trim');
    await page.click('.control[data-param="mic.trim.gain"] .learn');
    await showView(page, 'settings');
    await page.waitForSelector('#midi-learning:not([hidden])');
    expect(await page.textContent('#midi-learning')).toContain('mic.trim.gain');
    send(0xb0, 74, 64);
    await page.waitForSelector('#midi-mappings tr');
    expect(await page.textContent('#midi-mappings')).toContain('CC 74, ch 1');
    expect(await page.textContent('#midi-mappings')).toContain('mic.trim.gain');
    expect(await page.isHidden('#midi-learning')).toBe(true);
    // The knob to its top: +24 dB, applied by the engine, shown on the slider and its readout.
    await showView(page, 'live');
    send(0xb0, 74, 127);
    await waitFor('the slider at +24 dB', async () => (await page.textContent('.control[data-param="mic.trim.gain"] output'))?.includes('24') ?? false);
    expect(box.sup.engine.params().find((p) => p.id === 'mic.trim.gain')!.value).toBe(24);
  });

  it('shows the incoming MIDI and removes a mapping', async () => {
    await showView(page, 'settings');
    await waitFor('the activity list', async () => (await page.textContent('#midi-activity'))?.includes('CC 74 = 127') ?? false);
    await page.click('#midi-mappings tr button');
    await page.waitForSelector('#midi-empty:not([hidden])');
    expect(box.sup.midi.status().mappings).toEqual([]);
  });
});
