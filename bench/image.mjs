#!/usr/bin/env node
// Figures of the x86-64 image (board/debian): build time (cached, and with
// --scratch from nothing: empty package cache, work and output directories),
// compressed and installed size, and power-on -> page answering under QEMU
// (TCG), at a box's first boot and at an ordinary power-on, with
// systemd-analyze's critical chain from the guest.
// Targets (issue 10): compressed image < 350 MB; page within 60 s of power-on under TCG.
//   node bench/image.mjs [--boots N] [--scratch]        (as root)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { boots: { type: 'string', default: '3' }, scratch: { type: 'boolean', default: false } } });
const out = (s) => process.stdout.write(`${s}\n`);
const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `median ${(s[Math.floor(s.length / 2)] / 1000).toFixed(1)} s, min ${(s[0] / 1000).toFixed(1)} s, max ${(s.at(-1) / 1000).toFixed(1)} s, mean ${(mean / 1000).toFixed(1)} s (n=${s.length})`;
};

function build(env = {}) {
  const t0 = Date.now();
  const r = spawnSync('sh', [join(root, 'board/debian/build.sh')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stderr.slice(-3000)}`);
  return Date.now() - t0;
}

out('== build');
if (values.scratch) {
  const tmp = mkdtempSync(join(tmpdir(), 'hushbox-image-bench-'));
  try {
    const env = { HUSHBOX_IMAGE_CACHE: join(tmp, 'cache'), HUSHBOX_IMAGE_WORK: join(tmp, 'work'), HUSHBOX_IMAGE_OUT: join(tmp, 'out') };
    out(`from scratch (empty package cache): ${(build(env) / 1000).toFixed(0)} s`);
    out(`again, nothing changed: ${(build(env) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
const cached = [build(), build(), build()];
out(`cached (nothing changed), 3 runs: ${stats(cached)}`);

out('== size');
const dir = join(root, 'build/image');
out(`compressed image (zstd): ${mb(statSync(join(dir, 'hushbox-x86_64.img.zst')).size)} (target < 350 MB)`);
const version = readFileSync(join(dir, 'VERSION'), 'utf8').trim();
out(`RAUC bundle: ${mb(statSync(join(dir, `hushbox-x86_64-${version}.raucb`)).size)}`);
const fs = spawnSync('dumpe2fs', ['-h', join(dir, 'rootfs.ext4')], { encoding: 'utf8' }).stdout;
const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(fs)?.[1]);
out(`installed root filesystem: ${mb((field('Block count') - field('Free blocks')) * field('Block size'))} used of ${mb(field('Block count') * field('Block size'))}`);

out(`== power-on under QEMU (TCG), ${values.boots} boots`);
const r = spawnSync('npx', ['vite-node', join(root, 'bench/image-boot.ts'), '--', '--boots', values.boots], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (r.status !== 0) throw new Error('the boots failed');
const boots = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
for (const [kind, what] of [['first', 'first boot (data grown, broker users made)'], ['again', 'ordinary power-on (after an orderly power-off)']]) {
  const these = boots.filter((b) => b.kind === kind);
  out(`-- ${what}`);
  out(`power-on -> GRUB: ${stats(these.map((b) => b.grubMs))}`);
  out(`power-on -> page answering: ${stats(these.map((b) => b.pageMs))} (target < 60 s)`);
  out(`power-on -> engine running: ${stats(these.map((b) => b.engineMs))}`);
  const last = these.at(-1);
  out(`\n${last.analyze}\n\nsystemd-analyze critical-chain hushbox.service (last of these):\n${last.chain}\n\nslowest units (systemd-analyze blame):\n${last.blame}\n`);
}
