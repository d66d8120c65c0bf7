import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runAs } from '../../src/auth/actor.js';
import { ParamAudit, PARAM_MAX_DELAY_MS, PARAM_QUIET_MS } from '../../src/presets/param-audit.js';
import { contextWith } from '../fakes/context.js';

const lines = (dir: string) => (existsSync(join(dir, 'audit.log')) ? readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

describe('parameter changes in the audit log', () => {
  afterEach(() => vi.useRealTimers());

  it('writes one line per parameter and per who for a slider dragged through many steps, once it is still', async () => {
    vi.useFakeTimers();
    const ctx = contextWith();
    const audit = new ParamAudit({ ctx, engine: { params: () => [{ id: 'mic.trim.gain', value: 0 } as never] } });
    await audit.start();
    const owner = { user: 'owner' as const, via: 'session' as const, address: '192.168.1.5' };
    for (let i = 1; i <= 120; i++) {
      runAs(owner, () => ctx.bus.emit('paramsChanged', { values: { 'mic.trim.gain': i / 10 }, source: 'http' }));
      vi.advanceTimersByTime(20);
    }
    runAs({ token: 'home-assistant', via: 'token', address: '10.0.0.3' }, () => ctx.bus.emit('paramsChanged', { values: { 'mic.trim.gain': -3 }, source: 'http' }));
    // A preset recall is the presets service's own line, not a parameter change.
    ctx.bus.emit('paramsChanged', { values: { 'mic.trim.gain': 2 }, source: 'preset:http' });
    expect(lines(ctx.dataDir)).toEqual([]);
    vi.advanceTimersByTime(PARAM_QUIET_MS + 10);
    const got = lines(ctx.dataDir);
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({ action: 'param.set', id: 'mic.trim.gain', source: 'http', who: owner, details: { from: 0, to: 12, steps: 120 } });
    expect(got[1]).toMatchObject({ action: 'param.set', who: { token: 'home-assistant', via: 'token' }, details: { to: -3, steps: 1 } });
    await audit.stop();
  });

  it('writes a line at least every 10 s while a parameter keeps moving, and what is pending at stop', async () => {
    vi.useFakeTimers();
    const ctx = contextWith();
    const audit = new ParamAudit({ ctx, engine: { params: () => [] } });
    await audit.start();
    for (let t = 0; t < PARAM_MAX_DELAY_MS + 1000; t += 500) {
      ctx.bus.emit('paramsChanged', { values: { 'master.gain': t / 1000 }, source: 'mqtt' });
      vi.advanceTimersByTime(500);
    }
    expect(lines(ctx.dataDir)).toHaveLength(1);
    ctx.bus.emit('paramsChanged', { values: { 'master.gain': -1 }, source: 'mqtt' });
    await audit.stop();
    const got = lines(ctx.dataDir);
    expect(got).toHaveLength(2);
    expect(got[1]).toMatchObject({ source: 'mqtt', details: { to: -1 } });
    expect(got[1].who).toBeUndefined();
  });
});
