// A real full filesystem (a small tmpfs, mounted here as root): the box starts and says so,
// refuses what users add with 507, and an import that runs out of room leaves nothing.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PresetsService } from '../../src/presets/presets-service.js';
import { buildOwnerApp, sessionCookie, TEST_PASSWORD } from '../fakes/owner.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { FULL_TABLE, TableEngine } from '../fakes/table-engine.js';
import { startSupervisor } from '../fakes/supervisor-process.js';

let mnt: string;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs and must run as root (CI does)');
  mnt = mkdtempSync(join(tmpdir(), 'hushbox-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', mnt]);
});
afterAll(() => {
  if (mnt) {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

/** Fill the filesystem until only `leave` bytes are free. */
function fill(dir: string, leave: number): void {
  const fd = openSync(join(dir, `filler-${Date.now()}`), 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) {
      const s = statfsSync(dir);
      if (s.bavail * s.bsize <= leave) break;
      writeSync(fd, chunk);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

const NOW = '2026-01-01T00:00:00.000Z';
/** A preset of about 2.6 KB: its file takes a 4 KiB page of the tmpfs. */
function preset(i: number): Record<string, unknown> {
  const p = { schema: 1, id: `imported-${i}`, name: `Imported ${i}`, tags: [], notes: '', created: NOW, modified: NOW, params: Object.fromEntries(FULL_TABLE.map((d) => [d.id, d.default])) };
  p.notes = 'x'.repeat(2000);
  return p;
}

describe('a full data partition', () => {
  it('an import that runs out of room midway writes nothing, answers 507 naming the free space, and leaves an audit line', async () => {
    const dataDir = join(mnt, 'import');
    const ctx = makeContext(dataDir);
    const engine = new TableEngine(FULL_TABLE, ctx.bus);
    const presets = new PresetsService({ ctx, engine: engine.asService() });
    await presets.start();
    const app = await buildOwnerApp({ ctx, engine: engine.asService(), presets });
    process.env.HUSHBOX_DATA_RESERVE_MB = '0';
    try {
      // more than the files' bytes (the check before writing passes), less than the pages they take: ENOSPC midway
      fill(mnt, 7 * 4096 + 2048);
      const r = await app.inject({ method: 'POST', url: '/api/presets/import', payload: Array.from({ length: 10 }, (_, i) => preset(i)) });
      expect(r.statusCode, r.body).toBe(507);
      expect(r.json()).toMatchObject({ error: 'no_space' });
      expect(r.json().message).toMatch(/nothing imported \(10 presets\): the data partition \(.*\) has [\d.]+ MiB free/);
      expect(readdirSync(join(dataDir, 'presets'))).toEqual([]);
      expect(presets.list().filter((p) => !p.factory)).toEqual([]);
      const audit = readFileSync(join(dataDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; details: { error: string } });
      expect(audit.at(-1)).toMatchObject({ action: 'preset.import.failed', details: { error: 'ENOSPC' } });

      // the reserve: refused before anything is written, naming the free space
      process.env.HUSHBOX_DATA_RESERVE_MB = '1';
      const create = await app.inject({ method: 'POST', url: '/api/presets', payload: { name: 'One more', params: {} } });
      expect(create.statusCode).toBe(507);
      expect(create.json().message).toMatch(/cannot save a new preset: the data partition .* has [\d.]+ MiB free and the box keeps 1.0 MiB for its settings/);
    } finally {
      delete process.env.HUSHBOX_DATA_RESERVE_MB;
      await app.close();
      await presets.stop();
    }
  });

  it('the supervisor that ran before starts on a full /data, says so in its log and status, and lets the owner log in and out', async () => {
    const dataDir = join(mnt, 'box');
    expect(existsSync(dataDir)).toBe(false);
    // a box that has run before (its owner, secrets and ids are on /data), then /data filled up
    const first = await startSupervisor({ dataDir, waitRunning: false, env: { HUSHBOX_LOG_LEVEL: 'error' }, startTimeoutMs: 45_000 });
    expect(await first.stop()).toBe(0);
    fill(mnt, 0);
    const sup = await startSupervisor({ dataDir, waitRunning: false, onboard: false, env: { HUSHBOX_LOG_LEVEL: 'error' }, startTimeoutMs: 45_000 });
    try {
      expect(sup.output()).toMatch(/the data partition is full/);
      expect(((await (await fetch(`${sup.url}/api/status`)).json()) as { dataFull: boolean }).dataFull).toBe(true);
      // The owner can still log in (the session holds in memory) to see why and make room.
      const login = await fetch(`${sup.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: TEST_PASSWORD }) });
      expect(login.status, await login.clone().text()).toBe(200);
      const cookie = sessionCookie(login.headers.getSetCookie());
      const health = await fetch(`${sup.url}/api/health`, { headers: { cookie } });
      expect(health.status).toBe(200);
      expect(((await health.json()) as { disk: { full: boolean } }).disk.full).toBe(true);
      expect(sup.output()).toMatch(/cannot save the sessions \(ENOSPC\)/);
      // A logout that cannot be written removes the sessions file, so the ended session cannot come back.
      const out = await fetch(`${sup.url}/api/auth/logout`, { method: 'POST', headers: { cookie, 'x-hushbox-request': '1' } });
      expect(out.status).toBe(204);
      expect(existsSync(join(dataDir, 'sessions.json'))).toBe(false);
      expect((await fetch(`${sup.url}/api/params`, { headers: { cookie } })).status).toBe(401);
    } finally {
      await sup.stop();
    }
  }, 150_000);

  it('a brand-new box starts on a full /data, says so in its log and its status, and keeps its session key in memory', async () => {
    const dataDir = join(mnt, 'new-box');
    mkdirSync(dataDir); // the image's /data mount point
    fill(mnt, 0);
    const sup = await startSupervisor({ dataDir, waitRunning: false, onboard: false, env: { HUSHBOX_LOG_LEVEL: 'error' }, startTimeoutMs: 45_000 });
    try {
      const status = await fetch(`${sup.url}/api/status`);
      expect(status.status).toBe(200);
      expect(((await status.json()) as { dataFull: boolean }).dataFull).toBe(true);
      expect(sup.output()).toMatch(/the data partition is full \(0\.0 MiB free\)/);
      expect(sup.output()).toMatch(/cannot save the session secret \(ENOSPC\): it is kept in memory/);
      expect(existsSync(join(dataDir, 'session-secret'))).toBe(false);
      // The password cannot be kept: onboarding says why instead of pretending (the page still answers).
      const setup = await fetch(`${sup.url}/api/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: TEST_PASSWORD }) });
      expect(setup.status).toBe(507);
      expect(await setup.json()).toMatchObject({ error: 'no_space' });
      // ...and leaves the box as it was: no password that holds in memory until the next start.
      expect(await (await fetch(`${sup.url}/api/auth`)).json()).toMatchObject({ setUp: false, loggedIn: false });
      expect((await fetch(`${sup.url}/`)).status).toBe(200);
      // Nobody can log in, yet the box says what is wrong to anyone who asks: read-only, no secrets.
      const health = await fetch(`${sup.url}/api/health`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { disk: { full: boolean } }).disk.full).toBe(true);
      const doctor = await fetch(`${sup.url}/api/doctor/summary`);
      expect(doctor.status).toBe(200);
      const problems = ((await doctor.json()) as { problems: Array<{ id: string; status: string; fix: string | null }> }).problems;
      expect(problems.find((p) => p.id === 'health.disk')).toMatchObject({ status: 'fail' });
      // What changes or reveals settings still needs the owner.
      expect((await fetch(`${sup.url}/api/doctor`)).status).toBe(401);
      expect((await fetch(`${sup.url}/api/presets`)).status).toBe(401);
    } finally {
      expect(await sup.stop()).toBe(0);
    }
  }, 150_000);

  it('a reset file on a full /data: the box starts, the reset holds for this run, and the log says it cannot be kept', async () => {
    for (const f of readdirSync(mnt)) if (f.startsWith('filler-')) rmSync(join(mnt, f));
    const dataDir = join(mnt, 'reset-box');
    const first = await startSupervisor({ dataDir, waitRunning: false, env: { HUSHBOX_LOG_LEVEL: 'error' }, startTimeoutMs: 45_000 });
    expect(await first.stop()).toBe(0);
    const boot = tempDir('hushbox-boot-');
    const resetFile = join(boot.dir, 'hushbox-reset-password');
    writeFileSync(resetFile, '');
    fill(mnt, 0);
    try {
      const sup = await startSupervisor({ dataDir, waitRunning: false, onboard: false, env: { HUSHBOX_LOG_LEVEL: 'error', HUSHBOX_RESET_FILE: resetFile }, startTimeoutMs: 45_000 });
      try {
        expect(existsSync(resetFile)).toBe(false);
        expect(sup.output()).toMatch(/cannot save the password reset \(ENOSPC\): it holds until the next start only/);
        expect(await (await fetch(`${sup.url}/api/auth`)).json()).toMatchObject({ setUp: false });
        expect(((await (await fetch(`${sup.url}/api/health`)).json()) as { disk: { full: boolean } }).disk.full).toBe(true);
      } finally {
        expect(await sup.stop()).toBe(0);
      }
    } finally {
      boot.cleanup();
    }
  }, 150_000);
});

