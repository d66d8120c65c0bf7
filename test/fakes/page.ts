// Helpers for the front panel's browser tests: views, screenshots, the box's values.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { packageRoot } from '../../src/paths.js';
import { getJson } from './supervisor-process.js';

export const SCREENSHOTS = join(packageRoot, 'build', 'screenshots');

/** Write a screenshot under build/screenshots/ (the whole page), for anyone to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export async function showView(page: Page, view: 'live' | 'presets' | 'health' | 'settings'): Promise<void> {
  await page.click(`#views a[data-view="${view}"]`);
  await page.waitForSelector(`#panel[data-view="${view}"]`);
}

/** Open a processing stage (collapsed by default on a phone). */
export async function openStage(page: Page, stage: string): Promise<void> {
  const d = page.locator(`details.stage[data-stage="${stage}"]`);
  if (!(await d.evaluate((e) => (e as HTMLDetailsElement).open))) await d.locator('summary').click();
}

export async function boxParam(url: string, id: string): Promise<number> {
  return (await getJson<{ params: Record<string, number> }>(`${url}/api/status`)).params[id]!;
}

/** Fail the test on a prompt()/confirm()/alert(): the page uses <dialog>s. */
export function forbidNativeDialogs(page: Page): string[] {
  const seen: string[] = [];
  page.on('dialog', (d) => {
    seen.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return seen;
}
