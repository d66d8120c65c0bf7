#!/usr/bin/env node
// What a recording take costs: the engine (sim backend, 48 kHz, 64-frame
// periods, audio thread SCHED_FIFO) without a take, with a WAV 24-bit take of
// all four channels, and with the same as FLAC, several runs each. Per run,
// the CPU time (from /proc/<pid>/task/*/schedstat) of the audio thread
// (hb-audio) and of the writer thread (hb-writer) over the wall time, and the
// longest write stall the take's ring absorbs (as the engine reports it), and
// what the writer saw: the ring at its fullest and its longest single write or sync.
//
//   node bench/recording.mjs [--seconds S] [--runs N]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const engine = process.env.HUSHBOX_ENGINE ?? join(root, 'build', 'native', 'hushbox-engine');
const addonPath = process.env.HUSHBOX_ADDON ?? join(root, 'build', 'native', 'Release', 'hushbox.node');
if (!existsSync(engine) || !existsSync(addonPath)) {
  process.stderr.write('bench/recording: no engine or addon; run npm run build first\n');
  process.exit(1);
}
const addon = createRequire(import.meta.url)(addonPath);
const opt = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const seconds = Number(opt('--seconds', '8'));
const runs = Number(opt('--runs', '3'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function threadTimes(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out[name] = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
    } catch {
      // the thread ended
    }
  }
  return out;
}

async function once(format, n) {
  const dir = mkdtempSync(join(tmpdir(), 'hushbox-bench-rec-'));
  const linkName = `hushbox-bench-rec-${process.pid}-${n}`;
  const child = spawn(engine, ['run', '--backend', 'sim', '--input', 'demo', '--priority', '70', '--no-mlock', '--no-dma-latency', '--link', linkName,
    '--duration', String(seconds + 2)], { stdio: ['ignore', 'ignore', 'inherit'] });
  let link;
  while (!link) {
    try {
      const l = new addon.EngineLink(linkName);
      if (l.state() === 'running') link = l;
      else l.close();
    } catch {
      await sleep(20);
    }
  }
  let ringMs = null;
  if (format) {
    link.recordStart({ path: join(dir, `take.${format}`), source: 'all', format }, 1);
    while (link.recording()?.state !== 'recording') await sleep(10);
    ringMs = link.recording().ringMs;
  }
  await sleep(500);
  const t0 = threadTimes(child.pid);
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const t1 = threadTimes(child.pid);
  const wall = (performance.now() - w0) / 1000;
  const rec = format ? link.recording() : null;
  const gaps = rec ? rec.gaps : 0;
  // What the writer itself saw: the ring at its fullest (s of audio) and its longest time away from the ring (ms).
  const highWaterS = rec ? rec.ringHighWaterFrames / rec.rate : null;
  const stallMs = rec ? rec.longestStallNs / 1e6 : null;
  link.close();
  await new Promise((r) => child.on('exit', r));
  addon.unlinkSegment(linkName);
  rmSync(dir, { recursive: true, force: true });
  const cpu = (name) => (t1[name] !== undefined && t0[name] !== undefined ? (t1[name] - t0[name]) / wall : null);
  return { audio: cpu('hb-audio'), writer: cpu('hb-writer'), ringMs, gaps, highWaterS, stallMs };
}

const pct = (v) => `${(v * 100).toFixed(2)} %`;
const spread = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? `${pct(s[Math.floor(s.length / 2)])} (${pct(s[0])}..${pct(s[s.length - 1])})` : '-';
};
console.log(`hushbox recording takes: sim backend 48 kHz, 64-frame periods, 4 channels (raw mic, clean mic, L, R) 24-bit; ${runs} runs of ${seconds} s each`);
console.log('thread CPU over wall time, median (min..max)\n');
console.log(`${'take'.padEnd(6)}  ${'audio thread'.padEnd(26)}  ${'writer thread'.padEnd(26)}  ${'ring (stall absorbed)'.padEnd(30)}  gaps   ring high-water, longest write/sync (per run)`);
let n = 0;
for (const format of [null, 'wav', 'flac']) {
  const rs = [];
  for (let i = 0; i < runs; i++) rs.push(await once(format, n++));
  const ring = rs[0].ringMs === null ? '-' : `${(rs[0].ringMs / 1000).toFixed(1)} s at 4 ch, ${((rs[0].ringMs * 2) / 1000).toFixed(1)} s stereo`;
  const seen = format ? rs.map((r) => `${(r.highWaterS * 1000).toFixed(0)} ms, ${r.stallMs.toFixed(1)} ms`).join('; ') : '-';
  console.log(`${(format ?? 'none').padEnd(6)}  ${spread(rs.map((r) => r.audio)).padEnd(26)}  ${spread(rs.map((r) => r.writer)).padEnd(26)}  ${ring.padEnd(30)}  ${rs.map((r) => r.gaps).join('/').padEnd(5)}  ${seen}`);
}
