#!/usr/bin/env node
// The MIDI figure of issue 13: event -> applied, from the MIDI thread reading a
// sequencer event to the audio thread applying the value it maps to, over
// COUNT Control Changes sent through snd-virmidi, in QEMU on Debian's
// PREEMPT_RT kernel (test/system/qemu/midi-init.sh, bench mode). Prints
// p50/p99/max per round beside the period length, and the spread over rounds.
//
//   node bench/midi.mjs [--frames 64] [--count 10000] [--interval-us 1000] [--rounds 3] [--host]
//
// --host: no QEMU; the engine on this machine (sim backend, SCHED_FIFO when
// allowed) reads the raw MIDI bytes from a pipe (its --midi file: hook), so
// the figure is the engine's own part without the sequencer.
//
// Needs qemu-system-x86, busybox-static, linux-image-rt-amd64 and alsa-utils
// (node scripts/prepare.mjs --print-debs test), and a built engine.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '64' },
    count: { type: 'string', default: '10000' },
    'interval-us': { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    host: { type: 'boolean', default: false },
    engine: { type: 'string', default: process.env.HUSHBOX_ENGINE ?? join(root, 'build', 'native', 'hushbox-engine') },
  },
});
const frames = Number(values.frames);
const count = Number(values.count);
const interval = Number(values['interval-us']);
const rounds = Number(values.rounds);
if (![frames, count, interval, rounds].every((n) => Number.isInteger(n) && n > 0)) {
  console.error('bench/midi: --frames, --count, --interval-us and --rounds are whole numbers > 0');
  process.exit(2);
}
if (!existsSync(values.engine)) {
  console.error(`bench/midi: ${values.engine} is missing: npm run build`);
  process.exit(2);
}
const results = values.host ? await hostRounds() : await qemuRounds();
report(results, values.host ? 'this machine, sim backend, pipe input' : `QEMU TCG, ${results.get('kernel')?.version}, ALSA sequencer (snd-virmidi)`);

/** The engine here, the pipe hook as its MIDI input, midi-send writing the pipe. */
async function hostRounds() {
  const out = new Map();
  const dir = mkdtempSync(join(tmpdir(), 'hushbox-bench-midi-'));
  try {
    const run = async (name, withMidi) => {
      const fifo = join(dir, `${name}.fifo`);
      const stats = join(dir, `${name}.json`);
      const args = ['run', '--backend', 'sim', '--input', 'silence', '--rate', '48000', '--frames', String(frames), '--channels', '2', '--stats', stats];
      if (withMidi) {
        execFileSync('mkfifo', [fifo]);
        args.push('--midi', `file:${fifo}`, '--midi-map', 'cc:7=master.gain');
      } else {
        args.push('--duration', String((count * interval) / 1e6 + 1));
      }
      const engine = spawn(values.engine, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      if (withMidi) {
        await new Promise((r) => setTimeout(r, 1000));
        const sent = spawnSync(values.engine, ['midi-send', fifo, '--cc', '7', '--count', String(count), '--interval-us', String(interval)], { encoding: 'utf8' });
        out.set(`sent_${name.slice(6)}`, JSON.parse(sent.stdout));
        await new Promise((r) => setTimeout(r, 500));
        engine.kill('SIGTERM');
      }
      await once(engine, 'exit');
      out.set(name, JSON.parse(readFileSync(stats, 'utf8')));
    };
    await run('bench_base', false);
    for (let r = 1; r <= rounds; r++) await run(`bench_${r}`, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function qemuRounds() {
  const outDir = join(root, 'build', 'qemu-midi-bench');
  mkdirSync(outDir, { recursive: true });
  const built = spawnSync('sh', [join(root, 'test/system/qemu/build-initramfs.sh'), outDir, values.engine], {
    encoding: 'utf8',
    env: { ...process.env, HB_MODULES: 'snd-seq-dummy snd-virmidi', HB_INIT: 'midi-init.sh', HB_BINS: '/usr/bin/amidi' },
  });
  if (built.status !== 0) {
    console.error(`bench/midi: cannot build the initramfs: ${built.stderr.trim()}`);
    process.exit(2);
  }
  const kernel = built.stdout.trim().split('\n').pop();
  const append = `console=ttyS0 quiet panic=-1 hb.mode=bench hb.frames=${frames} hb.count=${count} hb.interval=${interval} hb.rounds=${rounds}`;
  const qemu = spawn(
    'qemu-system-x86_64',
    ['-accel', 'tcg', '-m', '512', '-smp', '2', '-nographic', '-no-reboot', '-kernel', kernel, '-initrd', join(outDir, 'initramfs.cpio.gz'), '-append', append],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  qemu.stdout.on('data', (d) => (out += d.toString('latin1')));
  qemu.stderr.on('data', (d) => (out += d.toString('latin1')));
  // Software emulation on a loaded machine can run 10x slower than real time.
  const limitMs = 300_000 + rounds * ((count * interval) / 1000 + 20_000) * 15;
  const timer = setTimeout(() => qemu.kill('SIGKILL'), limitMs);
  await new Promise((resolve) => qemu.once('exit', resolve));
  clearTimeout(timer);
  writeFileSync(join(outDir, 'console.log'), out);
  const results = new Map();
  for (const line of out.split(/\r?\n/)) {
    const m = /@@HB (\w+) (\{.*\})\s*$/.exec(line);
    if (m) results.set(m[1], JSON.parse(m[2]));
  }
  if (!results.has('done')) {
    console.error(`bench/midi: the guest did not finish (console in ${join(outDir, 'console.log')}); what it reported follows`);
  }
  return results;
}

function report(results, where) {
  const periodMs = (1000 * frames) / 48000;
  console.log(`event -> applied, ${count} CCs ${interval} us apart, 48 kHz, ${frames}-frame periods (${periodMs.toFixed(3)} ms), ${where}`);
  console.log('round   p50 ms   p99 ms   max ms   applied  dropped  missed deadlines  xruns');
  const base = results.get('bench_base');
  if (base) console.log(`no MIDI  (same run length)                     ${String(base.missed_deadlines).padStart(18)}${String(base.xruns).padStart(7)}`);
  const rows = [];
  for (let r = 1; r <= rounds; r++) {
    const s = results.get(`bench_${r}`);
    if (!s?.midi) {
      console.log(`${r}: no result (${JSON.stringify(s)})`);
      continue;
    }
    const l = s.midi.latency_us;
    const sent = results.get(`sent_${r}`);
    rows.push({ p50: l.p50 / 1000, p99: l.p99 / 1000, max: l.max / 1000 });
    console.log(
      `${String(r).padEnd(6)}${(l.p50 / 1000).toFixed(3).padStart(7)}${(l.p99 / 1000).toFixed(3).padStart(9)}${(l.max / 1000).toFixed(3).padStart(9)}` +
        `${String(s.midi.applied).padStart(10)}${sent ? `/${sent.sent}` : ''}${String(s.midi.dropped).padStart(9)}${String(s.missed_deadlines).padStart(18)}${String(s.xruns).padStart(7)}`,
    );
}
if (rows.length) {
  const span = (k) => `${Math.min(...rows.map((x) => x[k])).toFixed(3)}..${Math.max(...rows.map((x) => x[k])).toFixed(3)}`;
  console.log(`spread over ${rows.length} rounds: p50 ${span('p50')} ms, p99 ${span('p99')} ms, max ${span('max')} ms; period ${periodMs.toFixed(3)} ms; target p99 <= 2 ms`);
  console.log('(the latency histogram has 1 us bins up to 20 ms: a p99 of 20.000 means 20 ms or more)');
  console.log(`p99 / period: ${(Math.max(...rows.map((x) => x.p99)) / periodMs).toFixed(2)} (it cannot be below about 1: a value waits for the next period start)`);
}
}
