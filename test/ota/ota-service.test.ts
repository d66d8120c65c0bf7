// OtaService over a fake of one layer, RAUC (src/ota/rauc.ts's Rauc): real
// bundles built and verified with the real rauc, served by a real HTTP
// channel; the installs, the slots and mark-good are the fake's. The same
// paths run for real in QEMU (test/system/ota.test.ts).
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OtaService, type OtaDeps } from '../../src/ota/ota-service.js';
import type { Rauc, RaucResult } from '../../src/ota/rauc.js';
import type { OtaSummary, RaucStatus } from '../../src/ota/schema.js';
import type { CheckResult } from '../../src/ota/boot-check.js';
import { buildBundle, makeKeys, makeRootfs, type Keys } from '../fakes/rauc-bundles.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { startChannelServer, writeManifest, type ChannelServer } from '../fakes/update-channel.js';
import { waitFor } from '../fakes/net.js';

/** Two rootfs slots; installing makes the other one primary, as RAUC does. */
class FakeRauc implements Rauc {
  primary: 'A' | 'B';
  marked: string[] = [];
  installs: string[] = [];
  installResult: RaucResult = { ok: true, message: 'Installing done.' };
  /** How many status() calls answer as a box's rauc that did not answer (D-Bus service still starting). */
  silentStatus = 0;
  constructor(public booted: 'A' | 'B') {
    this.primary = booted;
  }
  async status(): Promise<RaucStatus> {
    if (this.silentStatus > 0) {
      this.silentStatus--;
      return { available: false, installed: true, reason: 'rauc status answered something other than JSON: nothing' };
    }
    const slot = (b: 'A' | 'B', i: number) => ({ name: `rootfs.${i}`, class: 'rootfs', bootname: b, state: this.booted === b ? 'booted' : 'inactive', bootStatus: 'good', bundleVersion: null });
    return { available: true, compatible: 'hushbox-x86_64', booted: this.booted, bootPrimary: this.primary === 'A' ? 'rootfs.0' : 'rootfs.1', slots: [slot('A', 0), slot('B', 1)] };
  }
  async install(bundle: string, onProgress: (p: number, m: string) => void): Promise<RaucResult> {
    this.installs.push(bundle);
    for (const [p, m] of [[0, 'Installing'], [40, 'Copying image to rootfs.1'], [80, 'Copying image to rootfs.1'], [100, 'Installing done.']] as const) {
      onProgress(p, m);
      await new Promise((r) => setTimeout(r, 10));
    }
    if (this.installResult.ok) this.primary = this.booted === 'A' ? 'B' : 'A';
    return this.installResult;
  }
  async markGood(): Promise<RaucResult> {
    this.marked.push(this.booted);
    return { ok: true, message: 'marked slot rootfs as good' };
  }
}

describe('OtaService: install from the channel, reboot policy, self-check and fallback', () => {
  const tmp = tempDir('hushbox-otasvc-');
  let keys: Keys;
  let srv: ChannelServer;
  const channelDir = join(tmp.dir, 'channel');
  const bundles: Record<string, string> = {};
  const running: OtaService[] = [];

  beforeAll(async () => {
    keys = makeKeys(join(tmp.dir, 'keys'));
    const image = makeRootfs(tmp.dir);
    mkdirSync(channelDir);
    bundles.next = buildBundle({ image, version: '1.3.0', out: join(channelDir, 'hushbox-1.3.0.raucb'), keys });
    bundles.old = buildBundle({ image, version: '1.1.0', out: join(channelDir, 'hushbox-1.1.0.raucb'), keys });
    srv = await startChannelServer(channelDir);
  }, 60_000);
  afterAll(async () => {
    await srv.close();
    tmp.cleanup();
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  interface Box {
    ota: OtaService;
    rauc: FakeRauc;
    reboots: number;
    events: OtaSummary[];
    dataDir: string;
    checks: CheckResult[];
  }

  /** One boot of the box: a fresh service over the same data directory. */
  async function boot(o: { dataDir: string; rauc: FakeRauc; bootId: string; version?: string; checks?: CheckResult[]; timing?: OtaDeps['timing'] }): Promise<Box> {
    const ctx = makeContext(o.dataDir);
    ctx.version = o.version ?? '1.2.0';
    const box: Box = { ota: undefined as unknown as OtaService, rauc: o.rauc, reboots: 0, events: [], dataDir: o.dataDir, checks: o.checks ?? [{ name: 'engine', ok: true, detail: 'running' }] };
    box.ota = new OtaService({
      ctx,
      settings: { systemConf: '/nonexistent', keyring: keys.keyring, compatible: 'hushbox-x86_64', maxBundleBytes: 50_000_000, rauc: 'rauc' },
      rauc: o.rauc,
      reboot: async () => {
        box.reboots++;
        return { ok: true, message: 'rebooting' };
      },
      bootId: () => o.bootId,
      selfCheck: async () => box.checks,
      timing: { selfCheckMs: 600, selfCheckPollMs: 50, rebootDelayMs: 10, firstChannelCheckMs: 3_600_000, ...o.timing },
    });
    ctx.bus.on('otaChanged', 'test', (s) => void box.events.push(s));
    running.push(box.ota);
    await box.ota.start();
    ctx.bus.emit('started', { at: new Date() });
    await box.ota.bootCheck;
    return box;
  }

  function newDataDir(name: string): string {
    const d = join(tmp.dir, name);
    mkdirSync(d);
    return d;
  }

  it('asks an installed box\'s rauc again when it does not answer at first, then marks the slot good; gives up as failed, not as "not a box"', async () => {
    const slow = new FakeRauc('A');
    slow.silentStatus = 3;
    const box = await boot({ dataDir: newDataDir('rauc-slow'), rauc: slow, bootId: 'boot-1' });
    expect(slow.silentStatus).toBe(0);
    expect(slow.marked).toEqual(['A']);
    expect((await box.ota.status()).bootCheck).toMatchObject({ state: 'good' });

    const mute = new FakeRauc('A');
    mute.silentStatus = 1_000_000;
    const muteBox = await boot({ dataDir: newDataDir('rauc-mute'), rauc: mute, bootId: 'boot-1', timing: { selfCheckMs: 2500, selfCheckPollMs: 50, rebootDelayMs: 10, firstChannelCheckMs: 3_600_000 } });
    expect(mute.marked).toEqual([]);
    expect(mute.silentStatus).toBeLessThan(1_000_000 - 1);
    mute.silentStatus = 1; // status() for the answer below: still silent
    expect((await muteBox.ota.status()).bootCheck).toMatchObject({ state: 'failed', detail: expect.stringMatching(/^rauc did not answer within 3 s: rauc status answered something other than JSON/) });
  });

  it('checks the channel, installs its newer version with progress, reboots at once, and the new slot is marked good after its self-check', async () => {
    writeManifest(channelDir, bundles.next!, '1.3.0');
    const dataDir = newDataDir('good');
    const rauc = new FakeRauc('A');
    const box = await boot({ dataDir, rauc, bootId: 'boot-1' });
    expect(rauc.marked).toEqual(['A']); // an ordinary boot marks the running slot good once the check passes
    box.ota.setUpdateSettings({ channelUrl: srv.url });
    const ch = await box.ota.checkChannel();
    expect(ch).toMatchObject({ updateAvailable: true, latest: { version: '1.3.0', url: `${srv.url}hushbox-1.3.0.raucb` }, error: null });
    expect(box.ota.summary()).toMatchObject({ installedVersion: '1.2.0', latestVersion: '1.3.0', notes: 'hushbox 1.3.0' });

    const check = await box.ota.installFromChannel({ allowDowngrade: false });
    expect(check).toMatchObject({ version: '1.3.0', action: 'upgrade' });
    await waitFor('the reboot', () => box.reboots === 1, 10_000);
    const phases = box.events.map((e) => e.install.phase);
    for (const p of ['downloading', 'verifying', 'installing', 'installed', 'rebooting']) expect(phases).toContain(p);
    expect(box.events.filter((e) => e.install.phase === 'installing').map((e) => e.install.percent)).toEqual(expect.arrayContaining([0, 40, 80, 100]));
    const st = await box.ota.status();
    expect(st.lastAttempt).toMatchObject({ result: 'installed', version: '1.3.0', fromSlot: 'A', targetSlot: 'B', source: 'channel', bootId: 'boot-1' });
    expect(st.outcome).toMatchObject({ kind: 'pending_reboot' });
    expect(readdirSync(dataDir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    await box.ota.stop();

    // the bootloader starts B; the new version checks itself and is marked good
    rauc.booted = 'B';
    rauc.marked = [];
    const after = await boot({ dataDir, rauc, bootId: 'boot-2', version: '1.3.0' });
    expect(rauc.marked).toEqual(['B']);
    expect(after.reboots).toBe(0);
    expect((await after.ota.status()).bootCheck).toMatchObject({ state: 'good', detail: 'self-check passed; slot B marked good' });
    const st2 = await after.ota.status();
    expect(st2.lastAttempt).toMatchObject({ result: 'updated', version: '1.3.0', trialBootId: 'boot-2' });
    expect(st2.outcome).toEqual({ kind: 'updated', version: '1.3.0', running: '1.3.0', message: 'updated to 1.3.0' });
  });

  it('with the manual reboot policy, waits: reboot required until asked, and a restart of the supervisor alone is no reboot', async () => {
    writeManifest(channelDir, bundles.next!, '1.3.0');
    const dataDir = newDataDir('manual');
    const rauc = new FakeRauc('B');
    const box = await boot({ dataDir, rauc, bootId: 'boot-1' });
    box.ota.setUpdateSettings({ channelUrl: `${srv.url}manifest.json`, reboot: 'manual' });
    await box.ota.installFromUrl(`${srv.url}hushbox-1.3.0.raucb`, { allowDowngrade: false });
    await waitFor('the install', async () => (await box.ota.status()).install.phase === 'installed', 10_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(box.reboots).toBe(0);
    expect((await box.ota.status()).rebootRequired).toBe(true);
    expect((await box.ota.status()).lastAttempt).toMatchObject({ targetSlot: 'A', fromSlot: 'B' });
    await expect(box.ota.installFromUrl(`${srv.url}hushbox-1.3.0.raucb`, { allowDowngrade: false })).rejects.toMatchObject({ code: 'reboot_required' });
    await box.ota.stop();

    const again = await boot({ dataDir, rauc, bootId: 'boot-1' });
    expect((await again.ota.status()).rebootRequired).toBe(true);
    expect((await again.ota.status()).lastAttempt?.result).toBe('installed');
    await expect(again.ota.reboot()).resolves.toEqual({ rebooting: true, into: '1.3.0' });
    expect(again.reboots).toBe(1);
  });

  it('does not mark a new slot that fails its self-check good, reboots, and after the fallback says "update to X failed, running Y again"', async () => {
    writeManifest(channelDir, bundles.next!, '1.3.0');
    const dataDir = newDataDir('bad');
    const rauc = new FakeRauc('A');
    const box = await boot({ dataDir, rauc, bootId: 'boot-1' });
    box.ota.setUpdateSettings({ channelUrl: srv.url });
    await box.ota.installFromChannel({ allowDowngrade: false });
    await waitFor('the reboot', () => box.reboots === 1, 10_000);
    await box.ota.stop();

    rauc.booted = 'B';
    rauc.marked = [];
    const t0 = Date.now();
    const bad = await boot({ dataDir, rauc, bootId: 'boot-2', version: '1.3.0', checks: [{ name: 'engine', ok: false, detail: 'failed' }] });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550); // it waited out its bounded time
    expect(rauc.marked).toEqual([]);
    expect(bad.reboots).toBe(1);
    expect((await bad.ota.status()).bootCheck).toMatchObject({ state: 'failed', detail: 'engine: failed' });
    expect((await bad.ota.status()).lastAttempt).toMatchObject({ result: 'trying', message: expect.stringMatching(/self-check failed after 1 s: engine: failed/) });
    await bad.ota.stop();

    // GRUB's try for B is used up: A boots again
    rauc.booted = 'A';
    const back = await boot({ dataDir, rauc, bootId: 'boot-3', version: '1.2.0' });
    expect(rauc.marked).toEqual(['A']);
    const st = await back.ota.status();
    expect(st.lastAttempt?.result).toBe('fell_back');
    expect(st.outcome).toEqual({ kind: 'fell_back', version: '1.3.0', running: '1.2.0', message: 'update to 1.3.0 failed, running 1.2.0 again' });
    expect(st.lastAttempt?.message).toMatch(/^update to 1\.3\.0 failed, running 1\.2\.0 again \(self-check failed/);
    expect(back.ota.summary().outcome?.message).toBe('update to 1.3.0 failed, running 1.2.0 again');
  });

  it('reports a fallback also when the new slot never ran the supervisor at all', async () => {
    writeManifest(channelDir, bundles.next!, '1.3.0');
    const dataDir = newDataDir('never');
    const rauc = new FakeRauc('A');
    const box = await boot({ dataDir, rauc, bootId: 'boot-1' });
    await box.ota.installFromUrl(`${srv.url}hushbox-1.3.0.raucb`, { allowDowngrade: false });
    await waitFor('the reboot', () => box.reboots === 1, 10_000);
    await box.ota.stop();
    const back = await boot({ dataDir, rauc, bootId: 'boot-5' });
    expect((await back.ota.status()).outcome?.message).toBe('update to 1.3.0 failed, running 1.2.0 again');
  });

  it('refuses a download whose hash is not the manifest\'s, a downgrade, and an up-to-date channel, leaving the slots alone', async () => {
    const dataDir = newDataDir('refused');
    const rauc = new FakeRauc('A');
    const box = await boot({ dataDir, rauc, bootId: 'boot-1' });
    box.ota.setUpdateSettings({ channelUrl: srv.url });
    writeManifest(channelDir, bundles.next!, '1.3.0', { sha256: 'c'.repeat(64) });
    await expect(box.ota.installFromChannel({ allowDowngrade: false })).rejects.toMatchObject({ code: 'sha256_mismatch' });
    writeManifest(channelDir, bundles.old!, '1.1.0');
    await expect(box.ota.installFromChannel({ allowDowngrade: false })).rejects.toMatchObject({ code: 'up_to_date', message: expect.stringMatching(/offers 1\.1\.0; this box runs 1\.2\.0/) });
    await expect(box.ota.installFromUrl(`${srv.url}hushbox-1.1.0.raucb`, { allowDowngrade: false })).rejects.toMatchObject({ code: 'downgrade' });
    writeFileSync(join(channelDir, 'manifest.json'), '{"version": "1.4.0"}');
    await expect(box.ota.checkChannel()).rejects.toMatchObject({ code: 'bad_manifest' });
    expect((await box.ota.status()).channel.error).toMatchObject({ code: 'bad_manifest' });
    expect(rauc.installs).toEqual([]);
    expect(rauc.primary).toBe('A');
    expect((await box.ota.status()).lastAttempt).toBeNull();
    expect(readdirSync(dataDir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('records an install that RAUC refused as failed, and reboots into nothing', async () => {
    writeManifest(channelDir, bundles.next!, '1.3.0');
    const dataDir = newDataDir('raucfail');
    const rauc = new FakeRauc('A');
    rauc.installResult = { ok: false, message: 'Failed to mount slot: No space left' };
    const box = await boot({ dataDir, rauc, bootId: 'boot-1' });
    await box.ota.installFromUrl(`${srv.url}hushbox-1.3.0.raucb`, { allowDowngrade: false });
    await waitFor('the failure', async () => (await box.ota.status()).install.phase === 'failed', 10_000);
    const st = await box.ota.status();
    expect(st.lastAttempt).toMatchObject({ result: 'failed', message: 'Failed to mount slot: No space left' });
    expect(st.outcome?.message).toBe('update to 1.3.0 failed: Failed to mount slot: No space left');
    expect(box.reboots).toBe(0);
    expect(st.rebootRequired).toBe(false);
  });

  it('installs by itself on a schedule when auto-install is on', async () => {
    writeManifest(channelDir, bundles.next!, '1.3.0');
    const dataDir = newDataDir('auto');
    writeFileSync(join(dataDir, 'ota-settings.json'), JSON.stringify({ channelUrl: srv.url, autoInstall: true, reboot: 'manual' }));
    const rauc = new FakeRauc('A');
    const box = await boot({ dataDir, rauc, bootId: 'boot-1', timing: { firstChannelCheckMs: 50 } });
    await waitFor('the automatic install', async () => (await box.ota.status()).lastAttempt?.result === 'installed', 15_000);
    expect(rauc.installs).toHaveLength(1);
    expect(box.reboots).toBe(0);
  });
});
