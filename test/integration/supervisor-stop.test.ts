// The supervisor's stop when one service never finishes stopping: the others still stop (the engine's process
// ends, the front panel stops answering), the data directory's lock is released so that the next supervisor
// starts, and the log names the service that hung.
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DataDirLock } from '../../src/config/data-dir.js';
import { startSupervisor } from '../fakes/supervisor.js';
import { alive } from '../fakes/process.js';

describe('the supervisor stopping with a service that hangs', () => {
  it('stops the others within the deadline, releases the lock and names the service that hung', async () => {
    const lines: Array<{ msg: string; service?: string; level: number }> = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
    const { sup, dataDir, url } = await startSupervisor(() => {}, { log });
    const pid = sup.engine.status().pid!;
    expect(alive(pid)).toBe(true);
    // The history service (stopped after the web, before the engine) never finishes its stop.
    sup.history.stop = () => new Promise<void>(() => {});
    const t0 = performance.now();
    await sup.stop(3000);
    const ms = performance.now() - t0;
    // The engine, stopped after the hung service, stopped all the same (within its own 2 s grace).
    expect(ms).toBeLessThan(3000 + 3000);
    expect(sup.engine.status().state).toBe('stopped');
    expect(alive(pid)).toBe(false);
    await expect(fetch(url)).rejects.toThrow();
    const hung = lines.find((l) => l.service === 'history' && l.level === 50);
    expect(hung?.msg).toBe('the history service did not stop within 3000 ms: stopping the others without it');
    // The next supervisor may take the data directory.
    const next = new DataDirLock(dataDir);
    next.acquire();
    next.release();
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);
});
