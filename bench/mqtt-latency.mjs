#!/usr/bin/env node
// MQTT command -> applied in the engine, against a local mosquitto and a real
// supervisor process (real engine, sim backend).
//
//   npm run build && node bench/mqtt-latency.mjs [--count 1000]
//
// "applied" is seen in the engine itself: this script maps the engine link
// read-only and watches the value the audio thread applied. Also printed:
// the request/response round trip a client sees (which includes the
// supervisor waiting for the engine's "applied" event, polled at 50 Hz).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as tick } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { MosquittoProcess } = await import(join(root, 'dist/mqtt/local-broker.js'));
const { loadAddon } = await import(join(root, 'dist/engine/native.js'));

const { values: opts } = parseArgs({ options: { count: { type: 'string', default: '1000' }, roundtrips: { type: 'string', default: '200' } } });
const COUNT = Number(opts.count);
const ROUNDTRIPS = Number(opts.roundtrips);
const PARAM = 'mic.trim.gain';

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { n: s.length, p50: q(50), p90: q(90), p99: q(99), max: s.at(-1), mean: s.reduce((a, b) => a + b, 0) / s.length };
}
const fmt = (st) => `n=${st.n}  p50 ${st.p50.toFixed(2)} ms  p90 ${st.p90.toFixed(2)} ms  p99 ${st.p99.toFixed(2)} ms  max ${st.max.toFixed(2)} ms  mean ${st.mean.toFixed(2)} ms`;

const dataDir = mkdtempSync(join(tmpdir(), 'hushbox-bench-'));
const deviceId = 'bench';
writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ deviceId, mqtt: { discovery: false } }));
const port = await freePort();
const broker = new MosquittoProcess({ port });
await broker.start();
const url = `mqtt://127.0.0.1:${port}`;
const base = `hushbox/${deviceId}`;

const sup = spawn(process.execPath, [join(root, 'bin/hushbox.js'), 'start', '--data', dataDir], {
  env: { ...process.env, HUSHBOX_MQTT_URL: url, HUSHBOX_HTTP_PORT: '0', HUSHBOX_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
let link;
const client = await connectAsync(url, { clientId: `bench-${process.pid}` });
client.stream.setNoDelay?.(true);
try {
  await client.subscribeAsync([`${base}/availability`, `${base}/response/set_params`]);
  const responses = new Map();
  let online = false;
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/availability')) online = payload.toString() === 'online';
    else {
      const r = JSON.parse(payload.toString());
      responses.get(r.transaction)?.(r);
    }
  });
  for (let i = 0; !online; i++) {
    if (i > 400) throw new Error('the supervisor did not come online within 20 s');
    await sleep(50);
  }
  const addon = loadAddon();
  link = new addon.EngineLink(`hushbox-${deviceId}-${sup.pid}`);
  const index = link.params().findIndex((p) => p.id === PARAM);
  const applied = () => link.params()[index].value;

  // 1) <base>/set {"params": ...} -> value applied by the audio thread
  const lat = [];
  for (let i = 0; i < COUNT + 20; i++) {
    const v = ((i % 40) - 20) + 0.25; // always differs from the previous value
    const t0 = performance.now();
    client.publish(`${base}/set`, JSON.stringify({ params: { [PARAM]: v } }));
    while (Math.abs(applied() - v) > 1e-4) {
      await tick();
      if (performance.now() - t0 > 2000) throw new Error(`command ${i} not applied within 2 s`);
    }
    if (i >= 20) lat.push(performance.now() - t0); // 20 warm-up commands
  }

  // 2) request/set_params -> response/set_params round trip
  const rt = [];
  for (let i = 0; i < ROUNDTRIPS; i++) {
    const transaction = `b${i}`;
    const got = new Promise((resolve) => responses.set(transaction, resolve));
    const t0 = performance.now();
    client.publish(`${base}/request/set_params`, JSON.stringify({ transaction, params: { [PARAM]: (i % 10) - 5 } }));
    const r = await got;
    if (r.status !== 'ok') throw new Error(`request ${i} failed: ${JSON.stringify(r)}`);
    rt.push(performance.now() - t0);
  }

  const a = stats(lat);
  const b = stats(rt);
  process.stdout.write(`hushbox MQTT latency (mosquitto on localhost, sim engine, 48 kHz / 64 frames)\n`);
  process.stdout.write(`  set -> applied in engine      ${fmt(a)}   target p99 < 10 ms: ${a.p99 < 10 ? 'PASS' : 'FAIL'}\n`);
  process.stdout.write(`  request -> response (ok)      ${fmt(b)}   ratio p50 ${(b.p50 / a.p50).toFixed(1)}x\n`);
} finally {
  link?.close();
  await client.endAsync(true);
  sup.kill('SIGTERM');
  await new Promise((r) => sup.once('exit', r));
  await broker.dispose();
  rmSync(dataDir, { recursive: true, force: true });
}
