#!/usr/bin/env node
// The audio thread's worst case against the machine's (issue 16): the engine
// (sim backend, 48 kHz, 64-frame periods, SCHED_FIFO) and cyclictest at the
// same priority and period, in rounds, under CPU stress and under CPU + I/O +
// memory stress (stress-ng). Each round runs them together (same window) and
// alternating (one after the other, the order swapped every round). Prints,
// per stress and mode, the median and range over the rounds of: the p99.9
// wake-up lateness of each and their ratio, the missed deadlines of each, and
// the engine's own processing time per period (p99.9 and worst). On a shared
// VM one run proves nothing either way; the median over rounds does.
//
//   node bench/rt.mjs [--rounds 5] [--seconds 30] [--stress cpu,mixed] [--modes together,alternate]
//                     [--priority 70] [--frames 64] [--rate 48000] [--json FILE] [-- ENGINE_ARGS...]
//
// Needs root (SCHED_FIFO, mlock), cyclictest (rt-tests) and stress-ng:
// node scripts/prepare.mjs --print-debs bench.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dashdash = process.argv.indexOf('--');
const { values } = parseArgs({
  args: process.argv.slice(2, dashdash < 0 ? undefined : dashdash),
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '30' },
    stress: { type: 'string', default: 'cpu,mixed' },
    modes: { type: 'string', default: 'together,alternate' },
    priority: { type: 'string', default: '70' },
    frames: { type: 'string', default: '64' },
    rate: { type: 'string', default: '48000' },
    json: { type: 'string' },
    engine: { type: 'string', default: process.env.HUSHBOX_ENGINE ?? join(root, 'build', 'native', 'hushbox-engine') },
  },
});
const engineArgs = dashdash < 0 ? [] : process.argv.slice(dashdash + 1);
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const priority = Number(values.priority);
const frames = Number(values.frames);
const rate = Number(values.rate);
const periodUs = (1e6 * frames) / rate;
const ncpu = cpus().length;
// The two loads of the issue: every CPU busy; and CPU + I/O + memory pressure.
const STRESS = {
  cpu: ['--cpu', String(ncpu)],
  mixed: ['--cpu', String(ncpu), '--io', '1', '--vm', '1', '--vm-bytes', '256M'],
};
const stresses = values.stress.split(',');
const modes = values.modes.split(',');
if (!(rounds >= 1) || !(seconds >= 1) || !(priority >= 1 && priority <= 99) || !(frames > 0) || !(rate > 0) ||
  stresses.some((s) => !STRESS[s]) || modes.some((m) => m !== 'together' && m !== 'alternate')) {
  console.error('bench/rt: --rounds >= 1, --seconds >= 1, --priority 1..99, --frames and --rate > 0, --stress cpu,mixed, --modes together,alternate');
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
const run = (cmd, args) => {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
};
const fail = (what, r) => {
  console.error(`bench/rt: ${what} failed: ${r.out}`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
};

async function engine() {
  const stats = join(dir, 'engine.json');
  const r = await run(values.engine, ['run', '--backend', 'sim', '--rate', String(rate), '--frames', String(frames),
    '--priority', String(priority), '--duration', String(seconds), '--stats', stats, ...engineArgs]);
  if (r.code !== 0) fail('the engine', r);
  const e = JSON.parse(readFileSync(stats, 'utf8'));
  return {
    p999: e.jitter_us['p99.9'], missed: e.missed_deadlines, wakeups: e.jitter_us.samples,
    processP999: e.process_us?.['p99.9'] ?? NaN, processMax: e.process_us?.max ?? e.dsp_load.max * periodUs,
    problems: e.realtime.problems,
  };
}

async function cyclictest() {
  const hist = join(dir, 'cyclictest.hist');
  const r = await run('cyclictest', ['-m', '-q', '-t', '1', '-p', String(priority), '-i', String(Math.round(periodUs)),
    '-D', `${seconds}s`, '-h', '20000', `--histfile=${hist}`]);
  if (r.code !== 0) fail('cyclictest', r);
  // Histogram: "<us> <count>" lines, then "# Max Latencies: <us>" and "# Histogram Overflows: <n>".
  const bins = [];
  let max = 0;
  let overflows = 0;
  for (const line of readFileSync(hist, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(\d+)/.exec(line);
    if (m) bins.push([Number(m[1]), Number(m[2])]);
    const mx = /^# Max Latencies:\s+(\d+)/.exec(line);
    if (mx) max = Number(mx[1]);
    const ov = /^# Histogram Overflows:\s+(\d+)/.exec(line);
    if (ov) overflows = Number(ov[1]);
  }
  const total = bins.reduce((a, [, n]) => a + n, 0) + overflows;
  const percentile = (q) => {
    const target = Math.ceil(q * total);
    let seen = 0;
    for (const [us, n] of bins) {
      seen += n;
      if (seen >= target) return us + 1; // the bin's upper edge, as the engine reports
    }
    return max;
  };
  // A wake-up later than one period would have been an xrun on a real device.
  const missed = bins.filter(([us]) => us >= periodUs).reduce((a, [, n]) => a + n, 0) + overflows;
  return { p999: percentile(0.999), missed, wakeups: total };
}

async function round(stress, mode, index) {
  const load = loadavg()[0];
  const stressor = spawn('stress-ng', [...STRESS[stress], '--timeout', `${2 * seconds + 10}s`, '--quiet'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  let e;
  let c;
  if (mode === 'together') {
    [e, c] = await Promise.all([engine(), cyclictest()]);
  } else if (index % 2 === 0) {
    e = await engine();
    c = await cyclictest();
  } else {
    c = await cyclictest();
    e = await engine();
  }
  stressor.kill('SIGTERM');
  await new Promise((r) => stressor.once('exit', r));
  return { stress, mode, round: index, load, engine: e, cyclictest: c, ratio: e.p999 / Math.max(1, c.p999) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (all, digits = 0) => {
  const xs = all.filter((x) => Number.isFinite(x)); // an older engine's stats have no process_us
  return xs.length ? `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}..${Math.max(...xs).toFixed(digits)})` : '-';
};

console.log(
  `bench/rt: ${rounds} rounds x ${seconds} s, ${rate} Hz, ${frames}-frame periods (${periodUs.toFixed(1)} us), SCHED_FIFO ` +
    `${priority}, stress ${stresses.join(' and ')}, ${modes.join(' and ')}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
const results = [];
for (const stress of stresses) {
  for (const mode of modes) {
    for (let i = 0; i < rounds; i++) {
      const r = await round(stress, mode, i);
      results.push(r);
      console.log(
        `  ${stress} ${mode} ${i + 1}/${rounds} (load ${r.load.toFixed(2)}): p99.9 engine ${r.engine.p999.toFixed(0)} / ` +
          `cyclictest ${r.cyclictest.p999.toFixed(0)} us = ${r.ratio.toFixed(2)}, missed ${r.engine.missed} / ${r.cyclictest.missed}, ` +
          `engine processing p99.9 ${r.engine.processP999.toFixed(0)} max ${r.engine.processMax.toFixed(0)} us`,
      );
      if (r.engine.problems) console.log(`    engine real-time problems: ${r.engine.problems}`);
    }
  }
}

console.log('\nmedian (min..max) over the rounds:');
const header = ['stress', 'mode', 'p99.9 engine us', 'p99.9 cyclictest us', 'p99.9 ratio', 'missed engine', 'missed cyclictest',
  'engine proc p99.9 us', 'engine proc max us'];
console.log(header.join(' | '));
let pass = true;
for (const stress of stresses) {
  for (const mode of modes) {
    const rs = results.filter((r) => r.stress === stress && r.mode === mode);
    const ratio = rs.map((r) => r.ratio);
    const me = rs.map((r) => r.engine.missed);
    const mc = rs.map((r) => r.cyclictest.missed);
    console.log([stress, mode, spread(rs.map((r) => r.engine.p999)), spread(rs.map((r) => r.cyclictest.p999)), spread(ratio, 2),
      spread(me), spread(mc), spread(rs.map((r) => r.engine.processP999)), spread(rs.map((r) => r.engine.processMax))].join(' | '));
    const ok = median(ratio) <= 1.5 && median(me) <= median(mc);
    pass &&= ok || mode !== 'together';
    console.log(`  ${ok ? 'meets' : 'misses'} the target (median p99.9 ratio <= 1.5, median missed deadlines <= cyclictest's)`);
  }
}
console.log(`load at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (values.json) writeFileSync(values.json, JSON.stringify({ rounds, seconds, rate, frames, priority, results }, null, 2));
rmSync(dir, { recursive: true, force: true });
process.exit(pass ? 0 : 1);
