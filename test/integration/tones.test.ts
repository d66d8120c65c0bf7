// A steady tone at the mic (a fan's whine, say) is found and notched by the noise
// suppressor's tonal remover, and the box says so: telemetry, the page's data, /metrics.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../src/web/schemas.js';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { TEST_PASSWORD } from '../fakes/owner.js';
import { waitFor } from '../fakes/net.js';
import { getJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { ownerFetch } from '../fakes/owner-http.js';

describe('steady tones at the mic (real supervisor and engine)', () => {
  let sup: RunningSupervisor;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hushbox-tones-'));
    const config = join(dir, 'config.json');
    // 233 Hz: no mains harmonic (the hum stage, ahead, would take 120 or 180 Hz itself).
    writeFileSync(config, JSON.stringify({ engine: { input: 'tone:233:-30' } }));
    sup = await startSupervisor({ args: ['--config', config] });
  });

  afterAll(async () => {
    await sup?.stop();
    sup?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are found within a few seconds, at their frequency, and reported in telemetry and /metrics', async () => {
    const tones = await waitFor(
      'the mic strip to report a notched tone',
      async () => {
        const s = await getJson<Status>(`${sup.url}/api/status`);
        const hz = s.telemetry?.reduction[0]?.tonesHz ?? [];
        return hz.length > 0 ? hz : undefined;
      },
      15_000,
    );
    expect(tones).toHaveLength(1);
    expect(tones[0]).toBeCloseTo(233, 0);
    const metrics = await (await ownerFetch(`${sup.url}/metrics`)).text();
    expect(metrics).toMatch(/hushbox_tone_frequency_hertz\{strip="mic",tone="1"\} 23[234](\.\d+)?\n/);
    // The instrument strip (noise suppression bypassed by default) notches nothing.
    const s = await getJson<Status>(`${sup.url}/api/status`);
    expect(s.telemetry?.reduction[1]?.tonesHz).toEqual([]);
  }, 30_000);

  it('the front panel says which tones it notches (headless Chromium)', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await openLoggedIn(page, sup.url, TEST_PASSWORD);
      const line = await page.waitForSelector('#reduction .tones[data-strip="0"]', { timeout: 15_000 });
      expect(await line.textContent()).toMatch(/notching steady tones at 23[234]\.\d Hz/);
      expect(await page.$('#reduction .tones[data-strip="1"]')).toBeNull();
    } finally {
      await browser.close();
    }
  }, 30_000);
});
