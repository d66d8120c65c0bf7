#!/usr/bin/env node
// How long a storage device keeps a recording's writer waiting: writes what a
// 4-channel 24-bit 48 kHz take writes (576 kB/s, in 4096-frame chunks) to a
// file in DIR and syncs it every second, as the engine's writer does, and
// reports the longest write and sync. Run it on the box's SD card
// (DIR=/data) to size the recording ring for that card: the ring must hold
// longer than the longest stall seen (it holds 10.9 s at 4 channels).
//
//   node bench/write-stall.mjs [--dir DIR] [--seconds S]
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const opt = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const seconds = Number(opt('--seconds', '30'));
const dir = mkdtempSync(join(opt('--dir', tmpdir()), 'hushbox-write-stall-'));
const chunk = Buffer.alloc(4096 * 4 * 3, 0x5a); // 4096 frames, 4 channels, 24-bit
const perSecond = (48000 * 4 * 3) / chunk.length;
const fd = openSync(join(dir, 'take.raw'), 'w');
const writes = [];
const syncs = [];
const start = performance.now();
let written = 0;
try {
  while (performance.now() - start < seconds * 1000) {
    // Keep the take's pace: write what is due, then sync once a second.
    const due = Math.floor(((performance.now() - start) / 1000) * perSecond);
    while (written < due) {
      const t = performance.now();
      writeSync(fd, chunk);
      writes.push(performance.now() - t);
      written++;
      if (written % Math.round(perSecond) === 0) {
        const s = performance.now();
        fdatasyncSync(fd);
        syncs.push(performance.now() - s);
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
} finally {
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
}
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log(`write-stall: ${seconds} s at 576 kB/s into ${opt('--dir', tmpdir())}, ${writes.length} writes of ${chunk.length} B, ${syncs.length} syncs`);
console.log(`write  p50 ${q(writes, 0.5).toFixed(2)} ms  p99 ${q(writes, 0.99).toFixed(2)} ms  max ${Math.max(...writes).toFixed(1)} ms`);
console.log(`sync   p50 ${q(syncs, 0.5).toFixed(2)} ms  p99 ${q(syncs, 0.99).toFixed(2)} ms  max ${Math.max(...syncs).toFixed(1)} ms`);
console.log(`longest stall: ${Math.max(...writes, ...syncs).toFixed(1)} ms (the ring absorbs 10900 ms at 4 channels)`);
