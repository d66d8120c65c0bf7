#!/usr/bin/env node
// The real-time figure of issue 4: the engine (sim backend, 48 kHz, 64-frame
// periods, SCHED_FIFO) and cyclictest at the same priority, in the same run,
// with stress-ng loading every core. Prints missed deadlines and wake-up
// jitter for both, side by side, and the ratio of their p99.9.
//
//   node bench/rt.mjs [--minutes N] [--priority P] [--frames F] [--rate R] [-- ENGINE_ARGS...]
//
// Needs root (SCHED_FIFO, mlock), cyclictest (rt-tests) and stress-ng:
// node scripts/prepare.mjs --print-debs bench.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dashdash = process.argv.indexOf('--');
const { values } = parseArgs({
  args: process.argv.slice(2, dashdash < 0 ? undefined : dashdash),
  options: {
    minutes: { type: 'string', default: '10' },
    priority: { type: 'string', default: '70' },
    frames: { type: 'string', default: '64' },
    rate: { type: 'string', default: '48000' },
    engine: { type: 'string', default: process.env.HUSHBOX_ENGINE ?? join(root, 'build', 'native', 'hushbox-engine') },
  },
});
const engineArgs = dashdash < 0 ? [] : process.argv.slice(dashdash + 1);
const seconds = Math.round(Number(values.minutes) * 60);
const priority = Number(values.priority);
const frames = Number(values.frames);
const rate = Number(values.rate);
const periodUs = (1e6 * frames) / rate;
if (!(seconds > 0) || !(priority >= 1 && priority <= 99) || !(frames > 0) || !(rate > 0)) {
  console.error('bench/rt: --minutes > 0, --priority 1..99, --frames and --rate > 0');
  process.exit(2);
}
for (const [tool, pkg] of [['cyclictest', 'rt-tests'], ['stress-ng', 'stress-ng']]) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench/rt: ${tool} is missing: apt-get install ${pkg}`);
    process.exit(2);
  }
}
if (!existsSync(values.engine)) {
  console.error(`bench/rt: ${values.engine} is missing: npm run build`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'hushbox-bench-rt-'));
const statsFile = join(dir, 'engine.json');
const histFile = join(dir, 'cyclictest.hist');
const run = (cmd, args) => {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
};

console.log(
  `bench/rt: ${seconds} s, ${rate} Hz, ${frames}-frame periods (${periodUs.toFixed(1)} us), SCHED_FIFO ${priority}, ` +
    `stress-ng on ${cpus().length} CPUs`,
);
const stress = spawn('stress-ng', ['--cpu', String(cpus().length), '--timeout', `${seconds + 4}s`, '--quiet'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 1000));
const [engine, cyclic] = await Promise.all([
  run(values.engine, ['run', '--backend', 'sim', '--rate', String(rate), '--frames', String(frames), '--priority', String(priority),
    '--duration', String(seconds), '--stats', statsFile, ...engineArgs]),
  run('cyclictest', ['-m', '-q', '-t', '1', '-p', String(priority), '-i', String(Math.round(periodUs)), '-D', `${seconds}s`,
    '-h', '20000', `--histfile=${histFile}`]),
]);
stress.kill('SIGTERM');
if (engine.code !== 0) {
  console.error(`bench/rt: the engine failed: ${engine.out}`);
  process.exit(1);
}
if (cyclic.code !== 0) {
  console.error(`bench/rt: cyclictest failed: ${cyclic.out}`);
  process.exit(1);
}

const e = JSON.parse(readFileSync(statsFile, 'utf8'));
// cyclictest histogram: "<us> <count>" lines, then "# Max Latencies: <us>" and "# Histogram Overflows: <n>".
const bins = [];
let cMax = 0;
let overflows = 0;
for (const line of readFileSync(histFile, 'utf8').split('\n')) {
  const m = /^(\d+)\s+(\d+)/.exec(line);
  if (m) bins.push([Number(m[1]), Number(m[2])]);
  const mx = /^# Max Latencies:\s+(\d+)/.exec(line);
  if (mx) cMax = Number(mx[1]);
  const ov = /^# Histogram Overflows:\s+(\d+)/.exec(line);
  if (ov) overflows = Number(ov[1]);
}
const cTotal = bins.reduce((a, [, n]) => a + n, 0) + overflows;
const cPercentile = (q) => {
  const target = Math.ceil(q * cTotal);
  let seen = 0;
  for (const [us, n] of bins) {
    seen += n;
    if (seen >= target) return us + 1; // the bin's upper edge, as the engine reports
  }
  return cMax;
};
// A wake-up later than one period would have been an xrun on a real device.
const cMissed = bins.filter(([us]) => us >= periodUs).reduce((a, [, n]) => a + n, 0) + overflows;

const rows = [
  ['', 'engine', 'cyclictest'],
  ['wake-ups', String(e.jitter_us.samples), String(cTotal)],
  ['missed deadlines', String(e.missed_deadlines), String(cMissed)],
  ['jitter p50 (us)', e.jitter_us.p50.toFixed(1), cPercentile(0.5).toFixed(1)],
  ['jitter p99 (us)', e.jitter_us.p99.toFixed(1), cPercentile(0.99).toFixed(1)],
  ['jitter p99.9 (us)', e.jitter_us['p99.9'].toFixed(1), cPercentile(0.999).toFixed(1)],
  ['jitter max (us)', e.jitter_us.max.toFixed(1), cMax.toFixed(1)],
  ['DSP load mean/max', `${e.dsp_load.mean.toFixed(3)}/${e.dsp_load.max.toFixed(3)}`, '-'],
];
for (const r of rows) console.log(`${r[0].padEnd(20)}${r[1].padStart(14)}${r[2].padStart(14)}`);
const ratio = e.jitter_us['p99.9'] / Math.max(1, cPercentile(0.999));
console.log(`p99.9 ratio engine/cyclictest: ${ratio.toFixed(2)} (target <= 1.5); engine missed deadlines: ${e.missed_deadlines} (target 0)`);
if (e.realtime.problems) console.log(`engine real-time problems: ${e.realtime.problems}`);
rmSync(dir, { recursive: true, force: true });
