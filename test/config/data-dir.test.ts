import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLock } from '../../src/config/data-dir.js';
import { runtimeDir } from '../../src/config/runtime-dir.js';
import { AlreadyRunningError } from '../../src/errors.js';
import { packageRoot } from '../../src/paths.js';
import { startSupervisor } from '../fakes/supervisor-process.js';

describe('the data directory lock', () => {
  let root: string;
  let dir: string;
  let run: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hushbox-lock-'));
    dir = join(root, 'data');
    run = join(root, 'run');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is kept in the runtime directory, not on the data partition, with the pid; release removes it', () => {
    const lock = new DataDirLock(dir, run);
    lock.acquire();
    expect(lock.lockFile.startsWith(run)).toBe(true);
    expect(readFileSync(lock.lockFile, 'utf8').trim()).toBe(String(process.pid));
    expect(existsSync(join(dir, 'hushbox.pid'))).toBe(false);
    lock.release();
    lock.release();
    expect(existsSync(lock.lockFile)).toBe(false);
  });

  it('refuses a second holder while the first holds it, naming the pid and the directory', () => {
    const first = new DataDirLock(dir, run);
    first.acquire();
    const second = new DataDirLock(dir, run);
    expect(() => second.acquire()).toThrow(AlreadyRunningError);
    expect(() => second.acquire()).toThrow(`pid ${process.pid}`);
    expect(() => second.acquire()).toThrow(dir);
    first.release();
    second.acquire();
    expect(second.held()).toBe(true);
    second.release();
  });

  it('does not block on a lock file whose pid now belongs to another live process (the pid was reused)', async () => {
    const other = spawn('sleep', ['30']);
    try {
      const lock = new DataDirLock(dir, run);
      // What a power cut leaves: the file with a pid that some other process has now.
      mkdirSync(run, { recursive: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(lock.lockFile, `${other.pid}\n`);
      // and the pid file older versions kept on /data
      writeFileSync(join(dir, 'hushbox.pid'), `${other.pid}\n`);
      const fresh = new DataDirLock(dir, run);
      fresh.acquire();
      expect(readFileSync(fresh.lockFile, 'utf8').trim()).toBe(String(process.pid));
      expect(existsSync(join(dir, 'hushbox.pid'))).toBe(false);
      fresh.release();
    } finally {
      other.kill();
      await once(other, 'exit');
    }
  });

  it('gives each data directory a lock of its own', () => {
    const a = new DataDirLock(join(root, 'a'), run);
    const b = new DataDirLock(join(root, 'b'), run);
    a.acquire();
    b.acquire();
    expect(a.lockFile).not.toBe(b.lockFile);
    a.release();
    b.release();
  });

  it('lives in /run/hushbox for root and in $XDG_RUNTIME_DIR otherwise, unless HUSHBOX_RUNTIME_DIR says', () => {
    expect(runtimeDir({ HUSHBOX_RUNTIME_DIR: '/x/y' })).toBe('/x/y');
    if (process.getuid?.() === 0) expect(runtimeDir({})).toBe('/run/hushbox');
    else expect(runtimeDir({ XDG_RUNTIME_DIR: '/run/user/1000' })).toBe('/run/user/1000/hushbox');
  });
});

describe('the lock between real supervisors', () => {
  it('a running supervisor keeps a second one off its data directory; after a SIGKILL a new one starts', async () => {
    const run = mkdtempSync(join(tmpdir(), 'hushbox-run-'));
    const env = { HUSHBOX_RUNTIME_DIR: run };
    const first = await startSupervisor({ env, waitRunning: false });
    try {
      const second = spawn(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'start'], {
        env: { ...process.env, ...env, HUSHBOX_DATA_DIR: first.dataDir, HUSHBOX_HTTP_PORT: '0', HUSHBOX_MQTT_URL: 'mqtt://127.0.0.1:1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      second.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const [code] = (await once(second, 'exit')) as [number | null];
      expect(code).toBe(1);
      expect(err).toContain(`another hushbox supervisor (pid ${first.proc.pid}) is already using the data directory ${first.dataDir}`);

      // Killed outright, it removes nothing: the lock file stays, with its pid, and must not matter.
      first.proc.kill('SIGKILL');
      await once(first.proc, 'exit');
      const again = await startSupervisor({ env, dataDir: first.dataDir, waitRunning: false });
      expect((await fetch(`${again.url}/api/status`)).status).toBe(200);
      expect(await again.stop()).toBe(0);
    } finally {
      await first.stop();
      first.cleanup();
      rmSync(run, { recursive: true, force: true });
    }
  }, 60_000);
});
