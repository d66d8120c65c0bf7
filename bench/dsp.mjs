#!/usr/bin/env node
// The DSP chain's speed: runs `hushbox-engine bench --json` and prints the
// real-time factor of the whole chain and of each stage at each rate, side by
// side with the targets (issue 3: >= 200x at 48 kHz and >= 50x at 192 kHz,
// 2 channels, 64-frame blocks, one core).
//
//   node bench/dsp.mjs [--seconds S] [--frames N] [--channels N] [--rate HZ]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const engine = process.env.HUSHBOX_ENGINE ?? join(root, 'build', 'native', 'hushbox-engine');
if (!existsSync(engine)) {
  process.stderr.write(`bench/dsp: no engine at ${engine}; run npm run build first\n`);
  process.exit(1);
}
const args = process.argv.slice(2);
if (!args.includes('--seconds')) args.push('--seconds', '5');
const r = spawnSync(engine, ['bench', '--json', ...args], { encoding: 'utf8' });
if (r.status !== 0) {
  process.stderr.write(r.stderr);
  process.exit(r.status ?? 1);
}
const result = JSON.parse(r.stdout);
const targets = { 48000: 200, 192000: 50 };
const stages = Object.keys(result.rates[0].stages);
// A stage that costs less than the clock can tell (a limiter at rest) shows as "> 100000x".
const factor = (rtf) => (rtf > 1e5 ? '>100000x' : `${rtf.toFixed(0)}x`);
const pad = (s, n) => String(s).padStart(n);
// A stage's column: 8 wide, or wider for a long name ("master limit").
const col = (s) => Math.max(8, s.length + 1);

console.log(`hushbox DSP chain: ${result.channels} channel(s), ${result.frames}-frame blocks, ${result.seconds} s of audio per figure (${result.clock} time)`);
console.log('real-time factor (x faster than real time); each stage on its own over the all-bypassed chain\n');
console.log(`${pad('rate', 7)} ${pad('chain', 8)} ${pad('target', 7)} ${pad('ratio', 6)} ${pad('ns/smp', 7)} ${pad('bypassed', 9)}${stages.map((s) => pad(s, col(s))).join('')}`);
let missed = 0;
for (const row of result.rates) {
  const target = result.channels === 2 && result.frames === 64 ? targets[row.rate] : undefined;
  const ratio = target ? (row.chain.rtf / target).toFixed(2) : '';
  if (target && row.chain.rtf < target) missed++;
  console.log(
    `${pad(row.rate, 7)} ${pad(`${row.chain.rtf.toFixed(0)}x`, 8)} ${pad(target ? `${target}x` : '-', 7)} ${pad(ratio || '-', 6)} ` +
      `${pad(row.chain.ns_per_sample.toFixed(1), 7)} ${pad(`${row.bypassed.rtf.toFixed(0)}x`, 9)}` +
      stages.map((s) => pad(factor(row.stages[s].rtf), col(s))).join(''),
  );
}
console.log(missed ? `\n${missed} target(s) missed` : '\nall targets met');
