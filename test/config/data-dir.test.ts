import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLock } from '../../src/config/data-dir.js';
import { AlreadyRunningError } from '../../src/errors.js';

describe('the data directory lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'hushbox-lock-')), 'data');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the directory, writes its pid, and removes the lock on release', () => {
    const lock = new DataDirLock(dir);
    lock.acquire();
    expect(readFileSync(join(dir, 'hushbox.pid'), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    lock.release();
    expect(existsSync(join(dir, 'hushbox.pid'))).toBe(false);
  });

  it('refuses while a live process holds it, naming the pid and the directory', async () => {
    const holder = spawn('sleep', ['30']);
    try {
      new DataDirLock(dir).acquire();
      writeFileSync(join(dir, 'hushbox.pid'), `${holder.pid}\n`);
      const second = new DataDirLock(dir);
      expect(() => second.acquire()).toThrow(AlreadyRunningError);
      expect(() => second.acquire()).toThrow(`pid ${holder.pid}`);
      expect(() => second.acquire()).toThrow(dir);
    } finally {
      holder.kill();
      await once(holder, 'exit');
    }
  });

  it('takes over a lock left by a process that died', async () => {
    const dead = spawn('true');
    await once(dead, 'exit');
    new DataDirLock(dir).acquire();
    writeFileSync(join(dir, 'hushbox.pid'), `${dead.pid}\n`);
    const lock = new DataDirLock(dir);
    lock.acquire();
    expect(readFileSync(join(dir, 'hushbox.pid'), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });
});
