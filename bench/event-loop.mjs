// How long the supervisor keeps everyone waiting: the longest event-loop stall of a real supervisor
// (compiled, sim engine, a real mosquitto) during a 1000-preset import and under 50 WebSocket
// clients, and its RSS after the oversize refusals (a 90 MB WebSocket frame, a 100 MB MQTT payload).
// A stall is seen from outside, as a client lives through it: GET /api/auth sent back to back,
// its longest answer; beside it prom-client's nodejs_eventloop_lag_max_seconds (the supervisor's
// own monitorEventLoopDelay, reset at each scrape). Several rounds; median and range.
//
//   npm run build && node bench/event-loop.mjs [--rounds 5] [--ws-seconds 5] [--dir DIR]
// DIR (default the system's temporary directory) should be on the disk to judge: fsyncs on tmpfs cost nothing.
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import WebSocket from 'ws';
import { MosquittoProcess } from '../dist/mqtt/local-broker.js';
import { defaultEngineBinary, packageRoot } from '../dist/paths.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, 'ws-seconds': { type: 'string', default: '5' }, dir: { type: 'string', default: tmpdir() } } });
const rounds = Number(values.rounds);
const wsSeconds = Number(values['ws-seconds']);
const MB = 1024 * 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = async () => {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
};

const loads = [loadavg()[0]];
const brokerPort = await freePort();
const broker = new MosquittoProcess({ port: brokerPort });
await broker.start();
const dataDir = mkdtempSync(join(values.dir, 'hushbox-bench-loop-'));
const port = await freePort();
const sup = spawn(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'start'], {
  env: { ...process.env, HUSHBOX_DATA_DIR: dataDir, HUSHBOX_HTTP_PORT: String(port), HUSHBOX_MQTT_URL: `mqtt://127.0.0.1:${brokerPort}`, HUSHBOX_LOG_LEVEL: 'error' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
/** ms the supervisor's main thread has waited for a CPU while runnable (schedstat): the machine's share of a stall. */
const runQueueMs = () => Number(readFileSync(`/proc/${sup.pid}/task/${sup.pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${sup.pid}/status`, 'utf8'))[1]) * 1024;

try {
  for (let i = 0; ; i++) {
    try {
      const s = await (await fetch(`${base}/api/status`)).json();
      if (s.engine.state === 'running' && s.telemetry) break;
    } catch {
      // not yet
    }
    if (i > 600) throw new Error('the supervisor did not start');
    await sleep(100);
  }
  const password = 'correct horse battery staple';
  const setup = await fetch(`${base}/api/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
  const cookie = setup.headers.getSetCookie()[0].split(';')[0];
  const owner = { cookie, 'x-hushbox-request': '1' };
  const deviceId = (await (await fetch(`${base}/api/status`)).json()).deviceId;

  /** The longest a request waited while `work` ran, and the supervisor's own lag maximum (ms). */
  async function stall(work) {
    await fetch(`${base}/metrics`, { headers: owner }).then((r) => r.text()); // resets the lag histogram
    const rq0 = runQueueMs();
    const t0 = performance.now();
    let done = false;
    let longest = 0;
    const pinger = (async () => {
      while (!done) {
        const t = performance.now();
        await (await fetch(`${base}/api/auth`)).arrayBuffer();
        longest = Math.max(longest, performance.now() - t);
      }
    })();
    const result = await work();
    done = true;
    await pinger;
    const metrics = await (await fetch(`${base}/metrics`, { headers: owner })).text();
    const lag = Number(/^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(metrics)?.[1] ?? NaN) * 1000;
    return { longest, lag, result, waited: (runQueueMs() - rq0) / (performance.now() - t0) };
  }

  const table = JSON.parse(execFileSync(defaultEngineBinary(), ['params', '--json'], { encoding: 'utf8' }));
  const full = Object.fromEntries(table.map((d) => [d.id, d.default]));
  const some = Object.fromEntries(table.slice(0, 25).map((d) => [d.id, d.default]));
  const now = new Date().toISOString();
  const preset = (i, params, notes) => ({ schema: 1, name: `Bench ${i}`, tags: ['bench'], notes, created: now, modified: now, params });
  // 500 new presets (the most the box keeps), then a bundle of 1000: those twice (two exports joined), overwriting.
  const first = JSON.stringify(Array.from({ length: 500 }, (_, i) => preset(i, full, '')));
  const post = (url, body) => fetch(`${base}${url}`, { method: 'POST', headers: { ...owner, 'content-type': 'application/json' }, body }).then(async (r) => {
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${(await r.text()).slice(0, 200)}`);
  });
  const create = await stall(() => post('/api/presets/import', first));
  console.log(`import of 500 new presets: longest request ${create.longest.toFixed(1)} ms, supervisor lag max ${create.lag.toFixed(1)} ms`);

  const imports = { longest: [], lag: [], waited: [] };
  const ws = { longest: [], lag: [], messages: [], waited: [] };
  for (let r = 0; r < rounds; r++) {
    const bundle = JSON.stringify(Array.from({ length: 1000 }, (_, i) => preset(i % 500, some, `round ${r}.${i < 500 ? 1 : 2}`)));
    const imp = await stall(() => post('/api/presets/import?collision=overwrite', bundle));
    imports.longest.push(imp.longest);
    imports.lag.push(imp.lag);
    imports.waited.push(imp.waited * 100);

    const clients = await Promise.all(
      Array.from({ length: 50 }, () => {
        const c = new WebSocket(`${base.replace('http', 'ws')}/ws/telemetry`, { headers: { cookie, origin: base } });
        c.count = 0;
        c.on('message', () => c.count++);
        return once(c, 'open').then(() => c);
      }),
    );
    const w = await stall(() => sleep(wsSeconds * 1000));
    const perClient = clients.reduce((n, c) => n + c.count, 0) / clients.length / wsSeconds;
    for (const c of clients) c.terminate();
    ws.longest.push(w.longest);
    ws.lag.push(w.lag);
    ws.waited.push(w.waited * 100);
    ws.messages.push(perClient);
    loads.push(loadavg()[0]);
    console.log(`round ${r + 1}: import of 1000 ${imp.longest.toFixed(1)} ms (lag ${imp.lag.toFixed(1)}); 50 WebSocket clients ${w.longest.toFixed(1)} ms (lag ${w.lag.toFixed(1)}, ${perClient.toFixed(0)} messages/s each)`);
    await sleep(500);
  }

  // The oversize refusals, then the RSS (the lowest of a few readings, as test/integration/oversize.test.ts).
  const settled = async () => {
    let low = Infinity;
    for (let i = 0; i < 10; i++) {
      low = Math.min(low, rss());
      await sleep(100);
    }
    return low;
  };
  const before = await settled();
  const big = new WebSocket(`${base.replace('http', 'ws')}/ws/telemetry`, { headers: { cookie, origin: base } });
  big.on('error', () => undefined);
  await once(big, 'open');
  const closed = once(big, 'close');
  big.send(Buffer.alloc(90 * MB, 1));
  const [code] = await closed;
  const mq = await connectAsync(`mqtt://127.0.0.1:${brokerPort}`);
  await mq.publishAsync(`hushbox/${deviceId}/set`, Buffer.alloc(100 * MB, 0x20), { qos: 0 });
  await sleep(3000);
  await mq.endAsync();
  const after = await settled();
  const peak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${sup.pid}/status`, 'utf8'))[1]) * 1024;

  console.log('');
  console.log(`longest event-loop stall, ${rounds} rounds, median (range); seen by a client / the supervisor's lag maximum:`);
  console.log(`  1000-preset import:     ${median(imports.longest).toFixed(1)} ms (${range(imports.longest)}) / ${median(imports.lag).toFixed(1)} ms (${range(imports.lag)})`);
  console.log(`  50 WebSocket clients:   ${median(ws.longest).toFixed(1)} ms (${range(ws.longest)}) / ${median(ws.lag).toFixed(1)} ms (${range(ws.lag)}), ${median(ws.messages).toFixed(0)} messages/s to each`);
  console.log(`  the supervisor's main thread waited for a CPU ${median(imports.waited).toFixed(0)} % (${range(imports.waited)}) of the import's time, ${median(ws.waited).toFixed(0)} % (${range(ws.waited)}) of the WebSocket window`);
  console.log(`supervisor RSS: ${(before / MB).toFixed(0)} MB before, ${(after / MB).toFixed(0)} MB after a 90 MB WebSocket frame (closed ${code}) and a 100 MB MQTT payload; peak ${(peak / MB).toFixed(0)} MB`);
  console.log(`load average (1 min) during the run: ${range(loads)} on ${(await import('node:os')).cpus().length} cores`);
} finally {
  sup.kill('SIGTERM');
  await once(sup, 'exit').catch(() => undefined);
  await broker.dispose();
  rmSync(dataDir, { recursive: true, force: true });
}
