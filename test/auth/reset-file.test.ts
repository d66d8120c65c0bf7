// The reset file on the boot partition: the owner's way back in without a screen. The boot
// partition is a directory of its own here (a read-only tmpfs for the file that cannot be removed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthService } from '../../src/auth/auth-service.js';
import { buildApp } from '../../src/web/app.js';
import { buildOwnerApp, TEST_PASSWORD } from '../fakes/owner.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { SKELETON_TABLE, TableEngine } from '../fakes/table-engine.js';

const RESET_NAME = 'hushbox-reset-password';

function audit(dataDir: string): Array<{ action: string; source: string; details?: Record<string, unknown> }> {
  return readFileSync(join(dataDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('the reset file on the boot partition', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  /** A data directory with an onboarded owner, a live session and a token; `boot` is the boot partition. */
  async function onboardedBox(boot: string) {
    const data = tempDir('hushbox-reset-');
    cleanups.push(data.cleanup);
    const ctx = makeContext(data.dir, (c) => (c.auth!.resetFiles = [join(boot, 'efi', RESET_NAME), join(boot, RESET_NAME)]));
    const engine = new TableEngine(SKELETON_TABLE, ctx.bus).asService();
    const app = await buildOwnerApp({ ctx, engine });
    const made = await app.inject({ method: 'POST', url: '/api/auth/tokens', payload: { name: 'home-assistant' } });
    expect(made.statusCode).toBe(201);
    await app.close();
    await app.auth.stop();
    return { ctx, engine, cookie: app.ownerCookie, token: (made.json() as { token: string }).token };
  }

  it('at the next start forgets the password, ends every session, keeps the tokens, is removed and leaves an audit line', async () => {
    const boot = tempDir('hushbox-boot-');
    cleanups.push(boot.cleanup);
    const { ctx, engine, cookie, token } = await onboardedBox(boot.dir);
    writeFileSync(join(boot.dir, RESET_NAME), '');

    const auth = new AuthService(ctx);
    await auth.start();
    expect(auth.hasOwner()).toBe(false);
    expect(existsSync(join(boot.dir, RESET_NAME))).toBe(false);
    expect(auth.sessions.size()).toBe(0);
    expect(audit(ctx.dataDir).at(-1)).toMatchObject({ action: 'auth.reset', source: 'reset-file', details: { path: join(boot.dir, RESET_NAME), sessionsEnded: 1, tokensKept: 1 } });

    const app = await buildApp({ ctx, engine, auth });
    try {
      // The old session is gone; the page asks for a new password, as on the first visit.
      const state = await app.inject({ url: '/api/auth', headers: { cookie } });
      expect(state.json()).toMatchObject({ setUp: false, loggedIn: false });
      expect((await app.inject({ url: '/api/params', headers: { cookie } })).json()).toMatchObject({ error: 'setup_required' });
      expect((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { password: TEST_PASSWORD } })).statusCode).toBe(409);
      // Automation keeps working through the reset.
      expect((await app.inject({ url: '/api/params', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
      const setup = await app.inject({ method: 'POST', url: '/api/auth/setup', payload: { password: 'a new password' } });
      expect(setup.statusCode).toBe(200);
    } finally {
      await app.close();
      await auth.stop();
    }

    // Consumed: the start after that keeps the new password.
    const again = new AuthService(ctx);
    await again.start();
    expect(again.hasOwner()).toBe(true);
    expect(await again.checkPassword('a new password')).toBe(true);
    await again.stop();
  });

  it('ignores what the file says (the new password is set on the page)', async () => {
    const boot = tempDir('hushbox-boot-');
    cleanups.push(boot.cleanup);
    const { ctx } = await onboardedBox(boot.dir);
    writeFileSync(join(boot.dir, RESET_NAME), 'hunter22-as-the-new-password\r\n');
    const auth = new AuthService(ctx);
    await auth.start();
    expect(auth.hasOwner()).toBe(false);
    expect(await auth.checkPassword('hunter22-as-the-new-password')).toBe(false);
    expect(existsSync(join(boot.dir, RESET_NAME))).toBe(false);
    await auth.stop();
  });

  it('resets nothing when the file cannot be removed (a read-only boot partition), so it cannot reopen the box at every start', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a read-only tmpfs and must run as root (CI does)');
    const boot = mkdtempSync(join(tmpdir(), 'hushbox-boot-ro-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', boot]);
    cleanups.push(() => {
      execFileSync('umount', [boot]);
      rmSync(boot, { recursive: true, force: true });
    });
    const { ctx } = await onboardedBox(boot);
    writeFileSync(join(boot, RESET_NAME), '');
    execFileSync('mount', ['-o', 'remount,ro', boot]);

    const auth = new AuthService(ctx);
    await auth.start();
    expect(auth.hasOwner()).toBe(true);
    expect(await auth.checkPassword(TEST_PASSWORD)).toBe(true);
    expect(auth.sessions.size()).toBe(1);
    expect(existsSync(join(boot, RESET_NAME))).toBe(true);
    expect(audit(ctx.dataDir).at(-1)).toMatchObject({ action: 'auth.reset_refused', source: 'reset-file', details: { path: join(boot, RESET_NAME) } });
    await auth.stop();
  });
});
