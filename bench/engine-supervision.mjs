#!/usr/bin/env node
// Engine supervision figures, with the real engine (sim backend):
//   restart time after SIGKILL (kill -> attached and running again), and
//   hang detection (SIGSTOP -> a new engine running).
// Targets (PRODUCT/issue 5): restart within 500 ms, hang replaced within 2 s.
//   npm run build && node bench/engine-supervision.mjs [--kills N] [--hangs N]
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { defaultConfig } from '../dist/config/config.js';
import { EngineService } from '../dist/engine/engine-service.js';
import { EventBus } from '../dist/events.js';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '20' }, hangs: { type: 'string', default: '5' } } });
const log = pino({ level: 'silent' });
const config = defaultConfig();
config.deviceId = `bench${process.pid}`;
const ctx = { config, dataDir: '/tmp', log, bus: new EventBus(log), version: 'bench', startedAt: new Date() };
const engine = new EngineService(ctx, { stableMs: 200 });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(pred, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(1);
  }
}
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `n=${s.length} min ${s[0].toFixed(0)} ms, median ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, max ${s.at(-1).toFixed(0)} ms`;
};

await engine.start();
await engine.setParams({ 'mic.trim.gain': -6 }, 'bench');
const restart = [];
for (let i = 0; i < Number(values.kills); i++) {
  await sleep(250);
  const pid = engine.status().pid;
  const t0 = performance.now();
  process.kill(pid, 'SIGKILL');
  await until(() => engine.status().state === 'running' && engine.status().pid !== pid);
  restart.push(performance.now() - t0);
}
const hang = [];
for (let i = 0; i < Number(values.hangs); i++) {
  await sleep(300);
  const pid = engine.status().pid;
  const t0 = performance.now();
  process.kill(pid, 'SIGSTOP');
  await until(() => engine.status().state === 'running' && engine.status().pid !== pid);
  hang.push(performance.now() - t0);
}
const trim = engine.params().find((p) => p.id === 'mic.trim.gain').value;
await engine.stop();
process.stdout.write(`restart after SIGKILL     ${stats(restart)}   (target < 500 ms; ratio max/target ${(Math.max(...restart) / 500).toFixed(2)})\n`);
process.stdout.write(`hung engine replaced      ${stats(hang)}   (target < 2000 ms; ratio max/target ${(Math.max(...hang) / 2000).toFixed(2)})\n`);
process.stdout.write(`restarts counted ${engine.status().restarts}, mic.trim.gain after all of them: ${trim} dB (set -6)\n`);
