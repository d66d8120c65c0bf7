import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.HUSHBOX_CHROMIUM ?? '/usr/bin/chromium';

/** Debian's Chromium, headless (playwright gives it a fresh profile); the flags keep it off the network. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Open the front panel of a box onboarded by the tests and log in on its page, as the owner would. */
export async function openLoggedIn(page: Page, url: string, password: string): Promise<void> {
  await page.goto(url);
  await page.fill('#login #gate-password', password);
  await page.click('#gate-submit');
  await page.waitForSelector('#gate', { state: 'detached' });
}
