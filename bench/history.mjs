// What the session logger costs the supervisor: CPU time of the supervisor's process and its event-loop
// delay with the history service (sampling, session log files, events) and without it, in the same
// process layout (a real supervisor, its engine on the sim backend), side by side over rounds.
// Usage: npm run build && node bench/history.mjs [--rounds 3] [--seconds 20] [--sample-ms 1000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { defaultConfig } from '../dist/config/config.js';
import { Supervisor } from '../dist/supervisor.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '20' }, 'sample-ms': { type: 'string', default: '1000' } },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const sampleMs = Number(values['sample-ms']);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs, d = 2) => `${Math.min(...xs).toFixed(d)}..${Math.max(...xs).toFixed(d)}`;
const RESOLUTION_MS = 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(withHistory) {
  const dir = mkdtempSync(join(tmpdir(), 'hushbox-bench-history-'));
  const config = defaultConfig({});
  config.http = { host: '127.0.0.1', port: 0 };
  config.mqtt.enabled = false;
  config.history = { sampleMs };
  const sup = new Supervisor({ dataDir: dir, log: pino({ level: 'silent' }), config });
  // Without: the same supervisor with the history service left out of its start list.
  if (!withHistory) sup.services = sup.services.filter((s) => s !== sup.history);
  await sup.start();
  await sleep(3000); // the engine up, the first health sample and doctor run done
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  h.disable();
  await sup.stop();
  rmSync(dir, { recursive: true, force: true });
  // The histogram holds the whole interval between wake-ups: the delay is what is beyond the resolution.
  const late = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  return { cpuPercent: ((cpu.user + cpu.system) / 1e6 / wall) * 100, p50: late(h.percentile(50)), p99: late(h.percentile(99)), max: late(h.max) };
}

const results = { without: [], with: [] };
for (let r = 0; r < rounds; r++) {
  for (const kind of r % 2 ? ['with', 'without'] : ['without', 'with']) {
    results[kind].push(await measure(kind === 'with'));
    const x = results[kind].at(-1);
    console.error(`round ${r + 1} ${kind}: CPU ${x.cpuPercent.toFixed(2)} %, event-loop delay p50 ${x.p50.toFixed(2)} ms p99 ${x.p99.toFixed(2)} ms max ${x.max.toFixed(1)} ms`);
  }
}
console.log(`supervisor process, ${rounds} rounds of ${seconds} s, samples every ${sampleMs} ms (median, range):`);
console.log('| | CPU of one core | event-loop delay p50 | p99 | max |');
console.log('| --- | --- | --- | --- | --- |');
for (const kind of ['without', 'with']) {
  const xs = results[kind];
  const col = (k, d) => `${median(xs.map((x) => x[k])).toFixed(d)} (${range(xs.map((x) => x[k]), d)})`;
  console.log(`| ${kind} history | ${col('cpuPercent', 2)} % | ${col('p50', 2)} ms | ${col('p99', 2)} ms | ${col('max', 1)} ms |`);
}
process.exit(0);
