// The Updates view in headless Chromium against the compiled supervisor and a
// real HTTP update channel serving a signed bundle.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/paths.js';
import { launchBrowser, openLoggedIn } from '../fakes/browser.js';
import { showView } from '../fakes/page.js';
import { TEST_PASSWORD } from '../fakes/owner.js';
import { buildBundle, makeKeys, makeRootfs } from '../fakes/rauc-bundles.js';
import { startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { tempDir } from '../fakes/temp-context.js';
import { startChannelServer, writeManifest, type ChannelServer } from '../fakes/update-channel.js';

describe('the Updates view in headless Chromium', () => {
  const tmp = tempDir('hushbox-otapage-');
  let sup: RunningSupervisor;
  let srv: ChannelServer;
  let browser: Browser;
  let page: Page;
  let bundle: string;

  beforeAll(async () => {
    const keys = makeKeys(join(tmp.dir, 'keys'));
    const channelDir = join(tmp.dir, 'channel');
    mkdirSync(channelDir);
    bundle = buildBundle({ image: makeRootfs(tmp.dir), version: '9.1.0', out: join(channelDir, 'hushbox-9.1.0.raucb'), keys });
    writeManifest(channelDir, bundle, '9.1.0');
    srv = await startChannelServer(channelDir);
    // The box came back from an update that never became good.
    const dataDir = mkdtempSync(join(tmpdir(), 'hushbox-test-'));
    writeFileSync(
      join(dataDir, 'ota.json'),
      JSON.stringify({
        lastAttempt: { at: '2026-12-06T10:00:00.000Z', finishedAt: '2026-12-06T10:05:00.000Z', version: '9.0.0', compatible: 'hushbox-x86_64', result: 'fell_back', message: 'update to 9.0.0 failed' },
      }),
    );
    sup = await startSupervisor({
      dataDir,
      waitRunning: false,
      env: { HUSHBOX_OTA_KEYRING: keys.keyring, HUSHBOX_OTA_COMPATIBLE: 'hushbox-x86_64', HUSHBOX_RAUC_CONF: join(tmp.dir, 'no-system.conf') },
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    await openLoggedIn(page, sup.url, TEST_PASSWORD);
    await showView(page, 'settings');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await sup?.stop();
    sup?.cleanup();
    await srv?.close();
    tmp.cleanup();
  });

  it('shows the version, that there is no RAUC system here, and that the last update fell back', async () => {
    await page.waitForSelector('#ota-outcome:not([hidden])');
    expect(await page.textContent('#ota-outcome')).toBe(`update to 9.0.0 failed, running ${packageVersion()} again`);
    expect(await page.getAttribute('#ota-outcome', 'data-kind')).toBe('fell_back');
    const factsText = await page.textContent('#ota-facts');
    expect(factsText).toContain(packageVersion());
    expect(factsText).toContain('no RAUC system');
  });

  it('sets the update channel, checks it, and offers its newer version', async () => {
    await page.fill('#ota-channel-url', srv.url);
    await page.click('#ota-channel-save');
    await page.waitForSelector('#ota-install-channel:not([hidden])');
    expect(await page.textContent('#ota-install-channel')).toBe('Install 9.1.0');
    expect(await page.textContent('#ota-facts')).toContain('9.1.0 available');
    expect(JSON.parse(readFileSync(join(sup.dataDir, 'ota-settings.json'), 'utf8'))).toMatchObject({ channelUrl: srv.url });
  });

  it("shows the box's reason when it cannot install, from the channel or from a file", async () => {
    await page.click('#ota-install-channel');
    await page.waitForSelector('#ota-error:not([hidden])');
    expect(await page.textContent('#ota-error')).toMatch(/cannot install on this machine: no RAUC system here/);
    await page.setInputFiles('#ota-file', bundle);
    await page.evaluate(() => (document.querySelector('#ota-error') as HTMLElement).hidden = true);
    await page.click('#ota-upload button[type="submit"]');
    await page.waitForSelector('#ota-error:not([hidden])');
    expect(await page.textContent('#ota-error')).toMatch(/cannot install on this machine/);
  });

  it('changes the reboot policy, kept on the data partition', async () => {
    await page.selectOption('#ota-reboot-policy', 'manual');
    await expect.poll(() => JSON.parse(readFileSync(join(sup.dataDir, 'ota-settings.json'), 'utf8')).reboot, { timeout: 5000 }).toBe('manual');
  });
});
