#!/usr/bin/env node
// Update figures on the built image in QEMU (TCG): the bundle install time in
// the guest (request to RAUC done: download over HTTP, verification, install),
// the box's downtime during an update (page unreachable from the reboot to the
// page answering again on the new slot), and the time to fall back from a bad
// bundle (reboot into it to the page answering on the old slot, saying so).
// Each round runs test/system/ota.qemu.ts's tests 2, 3 and 5 on a fresh box
// (the power cuts are left out); figures are the test's own timings.
//
//   node bench/ota.mjs [--rounds N]        (default 3; each round boots the box about 4 times)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--rounds');
const rounds = i > 0 ? Number(process.argv[i + 1]) : 3;
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('bench/ota: --rounds takes a whole number >= 1\n');
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), 'hushbox-bench-ota-'));
const all = { installMs: [], downtimeMs: [], fallbackMs: [] };
for (let r = 1; r <= rounds; r++) {
  const file = join(tmp, `round-${r}.json`);
  process.stderr.write(`bench/ota: round ${r} of ${rounds}\n`);
  const res = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.qemu.config.ts', '-t', 'test [235]'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, HUSHBOX_OTA_FIGURES: file, HUSHBOX_OTA_POWER_CUTS: '0' },
  });
  if (res.status !== 0) {
    process.stderr.write(`bench/ota: round ${r} failed (exit ${res.status}); figures so far below\n`);
    break;
  }
  const f = JSON.parse(readFileSync(file, 'utf8'));
  for (const k of Object.keys(all)) all[k].push(...(f[k] ?? []));
}
rmSync(tmp, { recursive: true, force: true });

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
function line(name, xs) {
  if (!xs.length) return `${name.padEnd(34)} no figures`;
  const v = [...xs].sort((a, b) => a - b);
  const median = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return `${name.padEnd(34)} median ${s(median).padStart(8)}  min ${s(v[0]).padStart(8)}  max ${s(v.at(-1)).padStart(8)}  (n=${v.length})`;
}
process.stdout.write(`hushbox updates in QEMU (TCG), ${rounds} round(s)\n`);
process.stdout.write(`${line('bundle install (request to done)', all.installMs)}\n`);
process.stdout.write(`${line('downtime (reboot to page)', all.downtimeMs)}\n`);
process.stdout.write(`${line('fallback from a bad bundle', all.fallbackMs)}\n`);
