// The front panel's weight and speed on a phone (390 x 844, headless Chromium), against a real
// supervisor (sim engine) and a private Mosquitto:
//  - the bytes transferred to show the page (HTML, script, styles, icon, manifest and the API
//    answers it asks for at start; cache off, the WebSocket's frames not counted) and the part
//    that is the page's own files;
//  - the time from navigation to the first meter movement (the page's mark when a meter is first
//    drawn from telemetry);
//  - a change made over MQTT (<base>/set) until the page shows it.
// Several rounds; medians and ranges. Say the machine's load with the figures.
// Usage: npm run build && node bench/page.mjs [--rounds 7] [--mqtt 30] [--desktop] [--gap 100]
// (--desktop: 1280 x 900 instead of the phone; --gap: ms between two MQTT changes)
/* global MutationObserver -- in the page */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { MosquittoProcess } = await import(join(root, 'dist/mqtt/local-broker.js'));
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, mqtt: { type: 'string', default: '30' }, desktop: { type: 'boolean', default: false }, gap: { type: 'string', default: '100' } } });
const PASSWORD = 'correct horse battery staple';

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const q = (xs, p) => sorted(xs)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const range = (xs, d = 0) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

const dataDir = mkdtempSync(join(tmpdir(), 'hushbox-bench-page-'));
const mqttPort = await freePort();
const broker = new MosquittoProcess({ port: mqttPort });
await broker.start();
const httpPort = await freePort();
const base = `http://127.0.0.1:${httpPort}`;
const sup = spawn(process.execPath, [join(root, 'bin/hushbox.js'), 'start', '--data', dataDir], {
  env: { ...process.env, HUSHBOX_MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`, HUSHBOX_HTTP_PORT: String(httpPort), HUSHBOX_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
let browser;
let client;
try {
  let status;
  for (let i = 0; ; i++) {
    if (i > 600) throw new Error('the supervisor did not run its engine within 60 s');
    status = await fetch(`${base}/api/status`).then((r) => r.json(), () => null);
    if (status?.engine.state === 'running' && status.telemetry) break;
    await sleep(100);
  }
  const setup = await fetch(`${base}/api/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
  const [name, value] = setup.headers.getSetCookie()[0].split(';')[0].split('=');
  console.log(`load average at start: ${load()}`);

  browser = await chromium.launch({ executablePath: process.env.HUSHBOX_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const context = await browser.newContext(values.desktop ? { viewport: { width: 1280, height: 900 } } : { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  console.log(values.desktop ? 'desktop: 1280 x 900' : 'phone: 390 x 844 at 2x, touch');
  await context.addCookies([{ name, value, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Strict' }]);

  const bytes = [];
  const own = [];
  const firstMeter = [];
  const steps = {};
  for (let r = 0; r < Number(values.rounds); r++) {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const urls = new Map();
    let total = 0;
    let mine = 0;
    cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
    cdp.on('Network.loadingFinished', (e) => {
      total += e.encodedDataLength;
      const u = urls.get(e.requestId) ?? '';
      if (u === `${base}/` || u.includes('/assets/')) mine += e.encodedDataLength;
    });
    await page.goto(`${base}/`);
    await page.waitForSelector('.meter[data-live="true"]', { timeout: 30_000 });
    // The page marks the moment (performance.mark) a meter is first drawn from telemetry: the
    // time from navigation, without the polling delay of waiting for it from here.
    const marks = await page.evaluate(() => {
      const at = (n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
      const nav = performance.getEntriesByType('navigation')[0];
      return { html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd, connect: at('hushbox:connect'), open: at('hushbox:socket-open'), online: at('hushbox:online'), meter: at('hushbox:first-meter') };
    });
    firstMeter.push(marks.meter);
    for (const [k, v] of Object.entries(marks)) (steps[k] ??= []).push(v);
    await page.waitForLoadState('networkidle').catch(() => {});
    bytes.push(total);
    own.push(mine);
    await page.close();
  }
  console.log(`page weight (bytes transferred, cache off; HTML, script, styles, icon, manifest and the API answers at start), ${bytes.length} rounds:`);
  console.log(`  all: median ${(median(bytes) / 1024).toFixed(1)} KiB (${range(bytes.map((b) => b / 1024), 1)} KiB); the page's own files: ${(median(own) / 1024).toFixed(1)} KiB`);
  console.log(`time to the first meter movement (navigation → a meter drawn from telemetry): median ${median(firstMeter).toFixed(0)} ms, range ${range(firstMeter)} ms`);
  console.log(`  on the way (medians from navigation): ${Object.entries({ 'HTML received': 'html', 'DOMContentLoaded (script run)': 'dcl', 'socket asked': 'connect', 'socket open': 'open', 'first message (online)': 'online', 'first meter drawn': 'meter' }).map(([label, k]) => `${label} ${median(steps[k]).toFixed(0)} ms`).join(', ')}`);

  // MQTT <base>/set → the page shows the value (the trim's readout), on the phone page.
  const page = await context.newPage();
  // Where a change's time goes: until the page's script takes the box's message carrying it (a
  // listener added before the page's own: broker, supervisor, engine, socket, and the wait for the
  // page's main thread), then the page applying and drawing it.
  await page.addInitScript(() => {
    const W = window.WebSocket;
    window.WebSocket = class extends W {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (e) => {
          if (typeof e.data === 'string' && /^\{"type":"(params|state)"/.test(e.data) && e.data.includes('"mic.trim.gain"')) window.paramsAt ??= Date.now();
        });
      }
    };
  });
  await page.goto(`${base}/`);
  await page.waitForSelector('#connection[data-state="online"]');
  if (!(await page.locator('details.stage[data-stage="trim"]').evaluate((d) => d.open))) await page.click('details.stage[data-stage="trim"] summary');
  client = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: `bench-page-${process.pid}` });
  client.stream.setNoDelay?.(true);
  const topic = `hushbox/${status.deviceId}/set`;
  const delays = [];
  const parts = { box: [], render: [] };
  for (let i = 0; i < Number(values.mqtt); i++) {
    const v = (i % 2 ? 1 : -1) * (1 + (i % 12));
    await page.evaluate(() => {
      delete window.changedAt;
      delete window.paramsAt;
      const out = document.querySelector('[data-param="mic.trim.gain"] output');
      new MutationObserver((_m, obs) => {
        window.changedAt = Date.now();
        obs.disconnect();
      }).observe(out, { childList: true, characterData: true, subtree: true });
    });
    const sent = Date.now();
    await client.publishAsync(topic, JSON.stringify({ params: { 'mic.trim.gain': v } }));
    await page.waitForFunction(() => window.changedAt !== undefined, null, { timeout: 10_000, polling: 5 });
    const [changedAt, paramsAt] = await page.evaluate(() => [window.changedAt, window.paramsAt]);
    delays.push(changedAt - sent);
    parts.box.push(paramsAt - sent);
    parts.render.push(changedAt - paramsAt);
    await sleep(Number(values.gap));
  }
  console.log(`MQTT <base>/set → the page shows it, n=${delays.length}: p50 ${q(delays, 50)} ms, p90 ${q(delays, 90)} ms, max ${Math.max(...delays)} ms (target 100 ms)`);
  console.log(`  of which (p50 / p90): until the page's script takes the box's message ${q(parts.box, 50)} / ${q(parts.box, 90)} ms; the page applying and drawing it ${q(parts.render, 50)} / ${q(parts.render, 90)} ms`);
  console.log(`load average at the end: ${load()}`);
} finally {
  await client?.endAsync().catch(() => {});
  await browser?.close();
  sup.kill('SIGTERM');
  await new Promise((r) => sup.once('exit', r));
  await broker.dispose();
  rmSync(dataDir, { recursive: true, force: true });
}
