// The boot self-check's waits end at once when the supervisor stops, even when the stop came while a check ran.
import { describe, expect, it } from 'vitest';
import { pause, runSelfCheck } from '../../src/ota/boot-check.js';

const within = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => 'done' as const), new Promise<'late'>((r) => setTimeout(() => r('late'), ms))]);

describe('the boot self-check', () => {
  it('does not pause on a signal already aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    expect(await within(pause(60_000, stop.signal), 1000)).toBe('done');
  });

  it('stops polling when the stop comes while a check runs, without waiting the poll interval', async () => {
    const stop = new AbortController();
    let runs = 0;
    const checks = async () => {
      runs++;
      stop.abort();
      return [{ name: 'page', ok: false, detail: 'not yet' }];
    };
    const result = runSelfCheck({ checks, deadlineMs: 120_000, pollMs: 60_000, signal: stop.signal });
    expect(await within(result, 1000)).toBe('done');
    expect(await result).toMatchObject({ ok: false });
    expect(runs).toBe(1);
  });
});
