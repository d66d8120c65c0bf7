#!/usr/bin/env node
// The audio tap's cost and delay: the engine (sim backend, 48 kHz, 64-frame
// periods) run with 0, 1, 2 and 4 stream clients at 16 kHz s16le (libsoxr
// 48 -> 16 kHz each), several times. Per run, from /proc/<pid>/task/*/stat:
// the CPU time of the audio thread (hb-audio), of the tap thread (hb-tap) and of the spectrum thread (hb-spectrum)
// over the run's wall time. Per client chunk: the delay from when its last
// sample left the audio thread (the connection's accept plus the chunk's
// timestamp and length, on the sim backend's exact clock) to its arrival on
// the client's socket, p50/p99 (an upper bound: it includes up to one 5 ms
// poll of the accept).
//
//   node bench/tap.mjs [--seconds S] [--runs N] [--clients 0,1,2,4] [--priority 70]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const engine = process.env.HUSHBOX_ENGINE ?? join(root, 'build', 'native', 'hushbox-engine');
if (!existsSync(engine)) {
  process.stderr.write(`bench/tap: no engine at ${engine}; run npm run build first\n`);
  process.exit(1);
}
const opt = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const seconds = Number(opt('--seconds', '8'));
const runs = Number(opt('--runs', '3'));
const clientCounts = opt('--clients', '0,1,2,4').split(',').map(Number);
// SCHED_FIFO for the audio thread (as on the box), so a loaded machine does not make the sim clock skip periods.
const priority = opt('--priority', '70');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function threadTimes(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      // schedstat: nanoseconds on a CPU (not the 10 ms ticks of stat)
      out[name] = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** A Wyoming reader that keeps only each chunk's timestamp and arrival time. */
function reader(socket, delays) {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let acceptedAt = 0;
    let buf = Buffer.alloc(0);
    c.on('connect', () => (acceptedAt = performance.now()));
    c.on('data', (d) => {
      const now = performance.now();
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const nl = buf.indexOf(10);
        if (nl < 0) break;
        const h = JSON.parse(buf.subarray(0, nl).toString());
        const need = nl + 1 + (h.data_length ?? 0) + (h.payload_length ?? 0);
        if (buf.length < need) break;
        if (h.type === 'audio-chunk') {
          const data = JSON.parse(buf.subarray(nl + 1, nl + 1 + h.data_length).toString());
          const samples = h.payload_length / data.width;
          delays.push(now - acceptedAt - (data.timestamp + (samples * 1000) / data.rate));
        }
        buf = buf.subarray(need);
      }
    });
    c.on('error', reject);
    c.on('close', resolve);
  });
}

async function once(clients) {
  const dir = mkdtempSync(join(tmpdir(), 'hushbox-bench-tap-'));
  const socket = join(dir, 'audio.sock');
  const args = ['run', '--backend', 'sim', '--input', 'demo', '--priority', priority, '--no-mlock', '--no-dma-latency', '--duration', String(seconds + 1)];
  if (clients > 0) args.push('--tap-socket', socket);
  const child = spawn(engine, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  while (clients > 0 && !existsSync(socket)) await sleep(10);
  await sleep(300);
  const delays = [];
  const readers = Array.from({ length: clients }, () => reader(socket, delays).catch(() => {}));
  await sleep(500); // past the clients' start
  const t0 = threadTimes(child.pid);
  const w0 = performance.now();
  await sleep(seconds * 1000 - 800);
  const t1 = threadTimes(child.pid);
  const wall = (performance.now() - w0) / 1000;
  await new Promise((r) => child.on('exit', r));
  await Promise.all(readers);
  rmSync(dir, { recursive: true, force: true });
  const cpu = (name) => (t1[name] !== undefined && t0[name] !== undefined ? (t1[name] - t0[name]) / wall : null);
  return { audio: cpu('hb-audio'), tap: cpu('hb-tap'), spectrum: cpu('hb-spectrum'), delays };
}

const pct = (v) => (v === null ? '-' : `${(v * 100).toFixed(2)} %`);
const quantile = (xs, q) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const spread = (xs) => {
  const v = xs.filter((x) => x !== null);
  if (!v.length) return '-';
  const s = [...v].sort((a, b) => a - b);
  return `${pct(s[Math.floor(s.length / 2)])} (${pct(s[0])}..${pct(s[s.length - 1])})`;
};

console.log(`hushbox audio tap: sim backend 48 kHz, 64-frame periods, audio thread SCHED_FIFO ${priority}; clients at 16 kHz s16le (libsoxr HQ 48->16 kHz); ${runs} runs of ${seconds} s each`);
console.log('thread CPU over wall time, median (min..max) over the runs; delay from the audio thread to the client socket\n');
console.log(`${'clients'.padStart(7)}  ${'audio thread'.padEnd(28)}  ${'tap thread'.padEnd(28)}  ${'tap per client'.padEnd(12)}  ${'delay p50 / p99'.padEnd(20)}  spectrum thread (always on)`);
let base = null;
for (const n of clientCounts) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await once(n));
  const audio = results.map((r) => r.audio);
  const tap = results.map((r) => r.tap);
  const med = (xs) => quantile(xs.filter((x) => x !== null), 0.5);
  if (n === 0) base = med(audio);
  const perClient = n > 0 && med(tap) !== null ? pct(med(tap) / n) : '-';
  const delays = results.flatMap((r) => r.delays);
  const d = delays.length ? `${quantile(delays, 0.5).toFixed(1)} / ${quantile(delays, 0.99).toFixed(1)} ms` : '-';
  const ratio = base && n > 0 ? ` x${(med(audio) / base).toFixed(2)}` : '';
  console.log(`${String(n).padStart(7)}  ${(spread(audio) + ratio).padEnd(28)}  ${spread(tap).padEnd(28)}  ${perClient.padEnd(12)}  ${d.padEnd(20)}  ${spread(results.map((r) => r.spectrum))}`);
}
