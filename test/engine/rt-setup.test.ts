import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultEngineBinary } from '../../src/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'hushbox-rtsetup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The current PM QoS CPU latency target: reading the device gives it as a 32-bit integer. */
function dmaLatencyTarget(): number {
  const fd = openSync('/dev/cpu_dma_latency', 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, null);
    return b.readInt32LE(0);
  } finally {
    closeSync(fd);
  }
}

describe('the real-time thread setup', () => {
  it('runs SCHED_FIFO, pinned, memory locked, denormals flushed and cpu_dma_latency held at 0, or says why not', async () => {
    const stats = join(dir, 'stats.json');
    const child = spawn(defaultEngineBinary(), ['run', '--backend', 'sim', '--priority', '70', '--cpu', '0', '--duration', '1', '--stats', stats], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 400));
    const root = process.getuid?.() === 0;
    const heldWhileRunning = root && existsSync('/dev/cpu_dma_latency') ? dmaLatencyTarget() : null;
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const s = JSON.parse(readFileSync(stats, 'utf8')) as { realtime: Record<string, unknown> };
    if (root) {
      expect(s.realtime).toMatchObject({
        fifo: true,
        priority: 70,
        cpu: 0,
        memory_locked: true,
        denormals_flushed: true,
        dma_latency_held: true,
        problems: '',
      });
      expect(heldWhileRunning).toBe(0);
    } else {
      // Without the privileges the engine still runs, and names what it could not do.
      expect(s.realtime.fifo).toBe(false);
      expect(String(s.realtime.problems)).toMatch(/SCHED_FIFO 70/);
    }
  });
});
