// The ALSA backend on a machine without the device (the host has no sound
// card; the real device is exercised in test/system/alsa.test.ts under QEMU).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultEngineBinary } from '../../src/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'hushbox-alsa-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the ALSA backend without its device', () => {
  it('waits for a device that is missing at start instead of failing, and says so', () => {
    const stats = join(dir, 'stats.json');
    const r = spawnSync(
      defaultEngineBinary(),
      ['run', '--backend', 'alsa', '--device', 'hw:HushboxNoSuchCard', '--priority', '0', '--duration', '1.2', '--stats', stats],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cannot open hw:HushboxNoSuchCard for capture: .*waiting for it/);
    const s = JSON.parse(readFileSync(stats, 'utf8')) as Record<string, unknown>;
    expect(s).toMatchObject({ backend: 'alsa', state: 'waiting_for_device', device_waits: 1, periods_processed: 0, xruns: 0 });
  });

  it('refuses a period outside 16..1024 frames with the range in the message', () => {
    const r = spawnSync(defaultEngineBinary(), ['run', '--backend', 'alsa', '--frames', '2048', '--duration', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--frames 2048 is out of range for ALSA (16..1024)');
  });

  it('names alsa among the backends when given an unknown one', () => {
    // 'jack' is a backend now (it waits for a server): ask for one the engine does not have.
    const r = spawnSync(defaultEngineBinary(), ['run', '--backend', 'pulse'], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown backend 'pulse' (expected alsa, sim, file or jack)");
  });

  it('latency fails with a clear message when there is no device to measure', () => {
    const r = spawnSync(defaultEngineBinary(), ['latency', '--device', 'hw:HushboxNoSuchCard', '--priority', '0'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no device: cannot open hw:HushboxNoSuchCard');
  });
});
