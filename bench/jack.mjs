#!/usr/bin/env node
// The engine as a JACK client: JACK's DSP load (jack_cpu_load, the whole
// graph's share of the period, as qjackctl shows it) against the chain's own
// (the engine's time in its process callback / period, from its stats), at 64
// and 256 frames. A private jackd on the dummy driver (no sound card), the
// default chain (noise suppression on), hushbox-jack-probe feeding it noise.
//   npm run build && node bench/jack.mjs [--rounds N] [--seconds S] [--frames 64,256]
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..');
const engineBin = process.env.HUSHBOX_ENGINE ?? join(root, 'build/native/hushbox-engine');
const probeBin = join(root, 'build/native/hushbox-jack-probe');
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '10' }, frames: { type: 'string', default: '64,256' } },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
process.env.JACK_DEFAULT_SERVER = `hbbench-${process.pid}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'hushbox-bench-jack-'));

const spread = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return `median ${med.toFixed(2)} (min ${s[0].toFixed(2)}, max ${s.at(-1).toFixed(2)}, n=${s.length})`;
};

try {
  for (const frames of values.frames.split(',').map(Number)) {
    const jackLoad = [], chainMean = [], chainMax = [], xruns = [];
    for (let round = 0; round < rounds; round++) {
      const jackd = spawn('jackd', ['-d', 'dummy', '-r', '48000', '-p', String(frames)], { stdio: 'ignore' });
      for (let i = 0; i < 100 && spawnSync('jack_lsp', [], { stdio: 'ignore' }).status !== 0; i++) await sleep(50);
      const stats = join(dir, `s${frames}-${round}.json`);
      const engine = spawn(engineBin, ['run', '--backend', 'jack', '--jack-name', 'hbbench', '--priority', '0', '--duration', String(seconds + 3), '--stats', stats], {
        stdio: 'ignore',
      });
      for (let i = 0; i < 100 && !spawnSync('jack_lsp', [], { encoding: 'utf8' }).stdout.includes('hbbench:out_right'); i++) await sleep(50);
      const p = spawnSync(probeBin, ['--to', 'hbbench:mic,hbbench:inst', '--from', 'hbbench:out_left,hbbench:out_right', '--seconds', String(seconds), '--name', `hbb${process.pid}`], {
        encoding: 'utf8',
      });
      if (p.status !== 0) throw new Error(`probe: ${p.stderr}`);
      const probe = JSON.parse(p.stdout);
      await once(engine, 'exit');
      const s = JSON.parse(readFileSync(stats, 'utf8'));
      jackd.kill('SIGTERM');
      await once(jackd, 'exit');
      jackLoad.push(probe.cpu_load);
      chainMean.push(100 * s.dsp_load.mean);
      chainMax.push(100 * s.dsp_load.max);
      xruns.push(s.xruns);
      console.log(`${frames} frames round ${round + 1}: JACK DSP load ${probe.cpu_load.toFixed(2)} %, chain mean ${(100 * s.dsp_load.mean).toFixed(2)} % max ${(100 * s.dsp_load.max).toFixed(1)} %, xruns ${s.xruns}`);
    }
    console.log(`\n48 kHz / ${frames} frames, ${rounds} rounds of ${seconds} s:`);
    console.log(`  JACK DSP load (jack_cpu_load, %):   ${spread(jackLoad)}`);
    console.log(`  chain's own mean load (%):          ${spread(chainMean)}`);
    console.log(`  chain's own worst period (%):       ${spread(chainMax)}`);
    console.log(`  xruns:                               ${spread(xruns)}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
