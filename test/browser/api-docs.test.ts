// /docs (swagger-ui, served by the box) in headless Chromium under the box's own
// Content-Security-Policy: nothing refused, nothing loaded from outside, the operations shown.
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../fakes/browser.js';
import { startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';

/** What swagger-ui draws for each operation (its own class names). */
const OPERATION = '.opblock .opblock-summary-path';

describe('/docs in headless Chromium', () => {
  let sup: RunningSupervisor;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    sup = await startSupervisor({ onboard: false, waitRunning: false, startTimeoutMs: 45_000 });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    // Runs before the page's scripts and outside its CSP (playwright injects it).
    await page.addInitScript(() => {
      const w = window as unknown as { cspViolations: string[] };
      w.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('request', (r: Request) => requests.push(r.url()));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await sup?.stop();
    sup?.cleanup();
  });

  it('is served under the box CSP (no unsafe-inline, no outside source)', async () => {
    const res = await fetch(`${sup.url}/docs/static/index.html`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
  });

  it('renders every operation of the document with no CSP violation and no console error', async () => {
    const doc = (await (await fetch(`${sup.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const methods = new Set(['get', 'put', 'post', 'delete', 'patch']);
    const operations = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).filter((m) => methods.has(m)).length, 0);
    expect(operations).toBeGreaterThan(40);

    await page.goto(`${sup.url}/docs`);
    await page.waitForSelector(`${OPERATION}[data-path="/api/status"]`, { timeout: 20_000 });
    expect(await page.locator(OPERATION).count()).toBe(operations);
    expect(await page.textContent('.info .title')).toContain('hushbox');
    // Open one: its response schema is drawn (swagger-ui's React code runs fully under the CSP).
    await page.click(`${OPERATION}[data-path="/api/status"]`);
    await page.waitForSelector('.opblock.is-open .responses-table', { timeout: 20_000 });

    const cspViolations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    expect(cspViolations).toEqual([]);
    expect(consoleErrors).toEqual([]);
    const origin = new URL(sup.url).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
  }, 90_000);
});
