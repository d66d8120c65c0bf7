import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { loadAddon, type EngineLinkHandle } from '../../src/engine/native.js';
import { histogramPercentile, toFrame } from '../../src/engine/telemetry.js';
import { defaultEngineBinary } from '../../src/paths.js';

describe('wake-up jitter histogram percentiles', () => {
  it('returns the upper edge of the bin that holds the percentile', () => {
    const bins = new Array<number>(16).fill(0);
    bins[0] = 900; // < 1 us
    bins[5] = 99; // 16..32 us
    bins[11] = 1; // 1024..2048 us
    expect(histogramPercentile(bins, 0.5)).toBe(1);
    expect(histogramPercentile(bins, 0.99)).toBe(32);
    expect(histogramPercentile(bins, 0.999)).toBe(32);
    expect(histogramPercentile(bins, 1)).toBe(2048);
    expect(histogramPercentile(new Array<number>(16).fill(0), 0.99)).toBe(0);
  });
});

describe('real-time telemetry on the link', () => {
  it('carries the jitter histogram, xrun and device counters of a running engine', async () => {
    const addon = loadAddon();
    const name = `hushbox-telrt-${process.pid}`;
    const child = spawn(defaultEngineBinary(), ['run', '--backend', 'sim', '--priority', '0', '--link', name], { stdio: 'ignore' });
    try {
      let link: EngineLinkHandle | undefined;
      for (let i = 0; i < 300 && !link; i++) {
        try {
          const l = new addon.EngineLink(name);
          if (l.state() === 'running') link = l;
          else l.close();
        } catch (err) {
          // not there yet, or there but its header not yet written (the engine is still starting)
          if (!['ELINK_OPEN', 'ELINK_MAGIC'].includes((err as { code?: string }).code ?? '')) throw err;
        }
        if (!link) await new Promise((r) => setTimeout(r, 10));
      }
      expect(link).toBeDefined();
      await new Promise((r) => setTimeout(r, 400));
      const t = link!.telemetry()!;
      expect(t.jitterHistogram).toHaveLength(16);
      const counted = t.jitterHistogram.reduce((a, b) => a + b, 0);
      // Every processed period's wake-up is in the histogram (the snapshot may lag a period).
      expect(Math.abs(counted - t.periodsProcessed)).toBeLessThanOrEqual(1);
      expect(t.periodsProcessed).toBeGreaterThan(100);
      expect(t.deviceWaits).toBe(0);
      expect(t.lastXrunNs === 0 || t.xruns > 0).toBe(true);
      const frame = toFrame(t, link!.heartbeats());
      expect(frame.jitterP999Us).toBeGreaterThanOrEqual(frame.jitterP99Us);
      // Two 64-frame periods of device buffering, plus the chain's algorithmic latency
      // (noise suppression at most 3 ms, the strip limiter's and the master limiter's
      // look-aheads at most 1 ms each).
      expect(frame.latencyFrames - 128).toBeGreaterThan(0);
      expect(frame.latencyFrames - 128).toBeLessThanOrEqual(5 * 48);
      expect(frame.masterReduction.limitDb).toBeGreaterThanOrEqual(0);
      // The clocks travel in every frame (drift and buffer fill; one clock on the sim backend: nothing to correct).
      expect(frame.clock).toMatchObject({ driftPpm: 0, fillFrames: 0, twoClocks: false, corrected: false });
      link!.close();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      addon.unlinkSegment(name);
    }
  });
});
