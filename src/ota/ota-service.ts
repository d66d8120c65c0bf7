import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import { classifyBoot, failedChecks, otherSlot, bootedSlot, outcomeOf, pause, runSelfCheck, type CheckResult } from './boot-check.js';
import { OTA_TEMP_PREFIX, UPLOAD_IDLE_MS, bundleDir, receiveBundle, verifyBundle, type Upload } from './bundle.js';
import { NO_CHANNEL, checkDownloadUrl, downloadBundle, fetchManifest } from './channel.js';
import { OtaStore } from './ota-store.js';
import { OtaError, otaSettings, raucCli, systemReboot, type OtaSettings, type Rauc, type RaucResult } from './rauc.js';
import type { Attempt, BundleCheck, ChannelStatus, InstallProgress, OtaStatus, OtaSummary, UpdateSettings, UpdateSettingsPatch } from './schema.js';
import { compareVersions, isVersion } from './version.js';

export { OTA_TEMP_PREFIX };

export interface BundleOptions {
  /** Accept a bundle older than the running firmware. */
  allowDowngrade: boolean;
}

export interface OtaTiming {
  /** How long the self-check may take after a boot into a new slot before the box gives up on it. */
  selfCheckMs: number;
  selfCheckPollMs: number;
  /** Between a successful install and the reboot (so the result reaches the page and MQTT). */
  rebootDelayMs: number;
  /** After start, before the first channel check. */
  firstChannelCheckMs: number;
  /** A download that receives nothing for this long is abandoned. */
  downloadIdleMs: number;
  /** An upload that sends nothing for this long is abandoned and its connection closed. */
  uploadIdleMs: number;
}

export interface OtaDeps {
  ctx: ServiceContext;
  /** RAUC settings; from system.conf and the environment by default. */
  settings?: OtaSettings;
  /** The RAUC layer; the rauc command by default. */
  rauc?: Rauc;
  /** Restart the machine; `systemctl reboot` by default. */
  reboot?: () => Promise<RaucResult>;
  /** The kernel's boot id (tells a restart of the supervisor from a reboot). */
  bootId?: () => string;
  /** What the box checks about itself before it marks a slot good (the supervisor wires the services in). */
  selfCheck?: () => Promise<CheckResult[]>;
  timing?: Partial<OtaTiming>;
}

function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v * 1000 : fallback;
}

function kernelBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

const IDLE: InstallProgress = { running: false, phase: 'idle', percent: null, message: null, version: null };

/**
 * Update bundles: received from an upload, a URL or the update channel,
 * verified for real with rauc (signature, every payload block, compatible,
 * version), installed to the inactive slot through RAUC, then the reboot (at
 * once or when asked) and, on the next boot, the self-check that decides
 * whether the new slot is marked good. Progress and outcome go out on the bus.
 */
export class OtaService implements Service {
  readonly name = 'ota';
  private readonly log: Logger;
  private readonly store: OtaStore;
  private readonly rauc: Rauc;
  private readonly timing: OtaTiming;
  private settingsCache: OtaSettings | undefined;
  private progress: InstallProgress = { ...IDLE };
  private channel: ChannelStatus = { ...NO_CHANNEL };
  /** A bundle is being received, downloaded, checked or installed. */
  private busy = false;
  private rebootRequired = false;
  private bootState: OtaStatus['bootCheck'] = { state: 'pending', detail: null, at: null };
  private readonly abort = new AbortController();
  private channelTimer: NodeJS.Timeout | undefined;
  private offs: Array<() => void> = [];
  /** The boot-time self-check, for tests and an orderly stop. */
  bootCheck: Promise<void> = Promise.resolve();

  constructor(private readonly deps: OtaDeps) {
    this.log = deps.ctx.log.child({ service: this.name });
    this.store = new OtaStore(deps.ctx.dataDir, this.log);
    this.rauc = deps.rauc ?? raucCli(() => this.settings);
    this.timing = {
      selfCheckMs: envMs('HUSHBOX_OTA_SELFCHECK_S', 180_000),
      selfCheckPollMs: 1000,
      rebootDelayMs: 1500,
      firstChannelCheckMs: 15_000,
      downloadIdleMs: envMs('HUSHBOX_OTA_IDLE_S', 60_000),
      uploadIdleMs: envMs('HUSHBOX_OTA_UPLOAD_IDLE_S', UPLOAD_IDLE_MS),
      ...deps.timing,
    };
  }

  get settings(): OtaSettings {
    this.settingsCache ??= this.deps.settings ?? otaSettings();
    return this.settingsCache;
  }

  async start(): Promise<void> {
    void this.settings;
    // Debris of an upload or download that a crash or power cut interrupted.
    for (const name of readdirSync(this.deps.ctx.dataDir)) {
      if (name.startsWith(OTA_TEMP_PREFIX)) rmSync(join(this.deps.ctx.dataDir, name), { recursive: true, force: true });
    }
    const last = this.store.lastAttempt();
    if (last?.result === 'running') {
      this.store.saveAttempt({ ...last, result: 'failed', finishedAt: new Date().toISOString(), message: 'the install was interrupted (the supervisor stopped or the power went) before it finished; the running slot is untouched' });
    }
    this.rebootRequired = last?.result === 'installed' && last.bootId === this.bootId();
    this.offs.push(this.deps.ctx.bus.on('started', this.name, () => {
      this.bootCheck = this.checkBoot().catch((err: unknown) => this.log.error({ err }, 'boot self-check failed'));
    }));
    this.scheduleChannelCheck(this.timing.firstChannelCheckMs);
    this.log.debug({ compatible: this.settings.compatible, keyring: this.settings.keyring }, 'ota ready');
  }

  async stop(): Promise<void> {
    // An install in progress belongs to the RAUC service and goes on without us; waiting
    // for it could outlast systemd's stop timeout. The next start records it as interrupted.
    this.abort.abort(new OtaError('stopping', 'the supervisor is stopping', 503));
    this.offs.forEach((off) => off());
    this.offs = [];
    if (this.channelTimer) clearTimeout(this.channelTimer);
    this.channelTimer = undefined;
    await this.bootCheck;
  }

  private bootId(): string {
    return (this.deps.bootId ?? kernelBootId)();
  }

  lastAttempt(): Attempt | null {
    return this.store.lastAttempt();
  }

  updateSettings(): UpdateSettings {
    return this.store.settings();
  }

  async status(): Promise<OtaStatus> {
    const last = this.store.lastAttempt();
    return {
      version: this.deps.ctx.version,
      compatible: this.settings.compatible,
      maxBundleBytes: this.settings.maxBundleBytes,
      rauc: await this.rauc.status(),
      install: { ...this.progress },
      lastAttempt: last,
      outcome: outcomeOf(last, this.deps.ctx.version),
      rebootRequired: this.rebootRequired,
      settings: this.store.settings(),
      channel: { ...this.channel },
      bootCheck: { ...this.bootState },
    };
  }

  summary(): OtaSummary {
    const installed = this.deps.ctx.version;
    const latest = this.channel.updateAvailable && this.channel.latest ? this.channel.latest : null;
    return {
      installedVersion: installed,
      latestVersion: latest?.version ?? installed,
      notes: latest?.notes ?? null,
      install: { ...this.progress },
      outcome: outcomeOf(this.store.lastAttempt(), installed),
      rebootRequired: this.rebootRequired,
    };
  }

  private emit(): void {
    this.deps.ctx.bus.emit('otaChanged', this.summary());
  }

  private setProgress(p: Partial<InstallProgress>): void {
    const next = { ...this.progress, ...p };
    const same = next.phase === this.progress.phase && next.percent === this.progress.percent && next.running === this.progress.running && next.message === this.progress.message;
    this.progress = next;
    if (!same) this.emit();
  }

  // --- settings and channel ---

  setUpdateSettings(patch: UpdateSettingsPatch): UpdateSettings {
    const before = this.store.settings();
    const next = this.store.updateSettings(patch);
    if (next.channelUrl !== before.channelUrl) {
      this.channel = { ...NO_CHANNEL };
      this.emit();
    }
    if (next.channelUrl !== before.channelUrl || next.checkIntervalMinutes !== before.checkIntervalMinutes) this.scheduleChannelCheck(1000);
    this.log.info({ settings: next }, 'update settings changed');
    return next;
  }

  private scheduleChannelCheck(delayMs: number): void {
    if (this.channelTimer) clearTimeout(this.channelTimer);
    this.channelTimer = setTimeout(() => {
      this.channelTimer = undefined;
      void this.scheduledCheck();
    }, delayMs);
    this.channelTimer.unref();
  }

  private async scheduledCheck(): Promise<void> {
    const s = this.store.settings();
    if (!s.channelUrl || this.abort.signal.aborted) return;
    try {
      const ch = await this.checkChannel();
      if (s.autoInstall && ch.updateAvailable && !this.busy && !this.rebootRequired) {
        this.log.info({ version: ch.latest?.version }, 'installing the update the channel offers (auto-install is on)');
        await this.installFromChannel({ allowDowngrade: false });
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'scheduled update check failed');
    } finally {
      if (!this.abort.signal.aborted) this.scheduleChannelCheck(s.checkIntervalMinutes * 60_000);
    }
  }

  /** Fetch the channel's manifest; the result (or its error) is kept for status() and the update entity. */
  async checkChannel(): Promise<ChannelStatus> {
    const s = this.store.settings();
    if (!s.channelUrl) throw new OtaError('no_channel', 'no update channel is set (PUT /api/ota/settings {"channelUrl": "https://…/"})', 409);
    const checkedAt = new Date().toISOString();
    try {
      const m = await fetchManifest(s.channelUrl, { compatible: this.settings.compatible, idleMs: this.timing.downloadIdleMs, signal: this.abort.signal });
      const installed = this.deps.ctx.version;
      const newer = !isVersion(installed) || compareVersions(m.version, installed) > 0;
      this.channel = {
        url: m.manifestUrl,
        checkedAt,
        latest: { version: m.version, url: m.url, sha256: m.sha256, size: m.size ?? null, notes: m.notes ?? null },
        updateAvailable: newer,
        error: null,
      };
      this.log.info({ latest: m.version, installed, updateAvailable: newer }, 'update channel checked');
    } catch (err) {
      const e = err instanceof OtaError ? err : new OtaError('channel_failed', (err as Error).message, 502);
      this.channel = { ...this.channel, checkedAt, error: { code: e.code, message: e.message } };
      this.emit();
      throw e;
    }
    this.emit();
    return { ...this.channel };
  }

  // --- install ---

  /** One bundle at a time: a second upload could fill the data partition, and an install owns the slots. */
  private claim(): void {
    if (this.busy) throw new OtaError('ota_busy', 'another bundle is being checked or installed; try again when it is done', 409);
    this.busy = true;
  }

  private release(): void {
    this.busy = false;
  }

  private requireKeyring(): void {
    try {
      readFileSync(this.settings.keyring);
    } catch {
      throw new OtaError('no_keyring', `this box has no keyring to verify bundles against (${this.settings.keyring} is missing)`, 503);
    }
  }

  /** Verify an uploaded bundle and say what installing it would do; keeps nothing. */
  async check(body: Readable | undefined, declaredBytes: number | undefined): Promise<BundleCheck> {
    this.requireKeyring();
    this.claim();
    try {
      const up = await receiveBundle(this.deps.ctx.dataDir, body, declaredBytes, this.settings.maxBundleBytes, undefined, this.timing.uploadIdleMs);
      try {
        return await verifyBundle(this.settings, up, this.deps.ctx.version);
      } finally {
        rmSync(up.dir, { recursive: true, force: true });
      }
    } finally {
      this.release();
    }
  }

  private async requireRauc(): Promise<void> {
    const rauc = await this.rauc.status();
    if (!rauc.available) throw new OtaError('rauc_unavailable', `cannot install on this machine: ${rauc.reason}`, 409);
    if (this.rebootRequired) throw new OtaError('reboot_required', 'an update is installed and waiting for a reboot (POST /api/ota/reboot); install again after it', 409);
  }

  /**
   * Verify an uploaded bundle and start `rauc install` with it. Answers once the
   * install has started; its progress and result show in status() and on the bus.
   */
  async install(body: Readable | undefined, declaredBytes: number | undefined, opts: BundleOptions): Promise<BundleCheck> {
    await this.requireRauc();
    this.requireKeyring();
    this.claim();
    const total = declaredBytes ?? null;
    this.setProgress({ running: true, phase: 'receiving', percent: total ? 0 : null, message: 'receiving the bundle', version: null });
    let last = 0;
    return this.prepareAndInstall('upload', opts, () =>
      receiveBundle(this.deps.ctx.dataDir, body, declaredBytes, this.settings.maxBundleBytes, (n) => {
        const pct = total ? Math.min(100, Math.floor((n * 100) / total)) : null;
        if (pct !== null && pct !== last) {
          last = pct;
          this.setProgress({ percent: pct });
        }
      }, this.timing.uploadIdleMs),
    );
  }

  /** Download a bundle from a URL (sha256 checked when given) and install it. */
  async installFromUrl(url: string, opts: BundleOptions & { sha256?: string }): Promise<BundleCheck> {
    checkDownloadUrl(url);
    if (opts.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.sha256)) throw new OtaError('invalid_input', 'sha256: expected 64 hex digits', 400);
    await this.requireRauc();
    this.requireKeyring();
    this.claim();
    return this.prepareAndInstall('url', opts, () => this.download(url, opts.sha256));
  }

  /** Install the version the channel offers (checked again now). */
  async installFromChannel(opts: BundleOptions): Promise<BundleCheck> {
    await this.requireRauc();
    this.requireKeyring();
    const ch = await this.checkChannel();
    const latest = ch.latest!;
    if (!ch.updateAvailable && !opts.allowDowngrade) {
      throw new OtaError('up_to_date', `the channel offers ${latest.version}; this box runs ${this.deps.ctx.version} already`, 409);
    }
    this.claim();
    return this.prepareAndInstall('channel', opts, () => this.download(latest.url, latest.sha256));
  }

  private async download(url: string, sha256: string | undefined): Promise<Upload> {
    this.setProgress({ running: true, phase: 'downloading', percent: 0, message: `downloading ${url}`, version: null });
    const up = bundleDir(this.deps.ctx.dataDir);
    try {
      const { size } = await downloadBundle(url, up.file, {
        maxBytes: this.settings.maxBundleBytes,
        idleMs: this.timing.downloadIdleMs,
        signal: this.abort.signal,
        sha256,
        onProgress: (n, total) => this.setProgress({ percent: total ? Math.min(100, Math.floor((n * 100) / total)) : null, message: `downloaded ${Math.round(n / 1024)} KiB` }),
      });
      return { ...up, size };
    } catch (err) {
      rmSync(up.dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Get the bundle (upload or download), verify it, then hand it to RAUC; the claim is held until RAUC is done. */
  private async prepareAndInstall(source: 'upload' | 'url' | 'channel', opts: BundleOptions, get: () => Promise<Upload>): Promise<BundleCheck> {
    let up: Upload | undefined;
    let check: BundleCheck;
    let rauc;
    try {
      up = await get();
      this.setProgress({ running: true, phase: 'verifying', percent: null, message: 'verifying the signature and every block of the bundle' });
      check = await verifyBundle(this.settings, up, this.deps.ctx.version);
      if (check.action === 'downgrade' && !opts.allowDowngrade) {
        throw new OtaError('downgrade', `the bundle's version ${check.version} is older than the running ${check.installedVersion}; ask with allowDowngrade=true to install it anyway`, 409);
      }
      rauc = await this.rauc.status();
    } catch (err) {
      if (up) rmSync(up.dir, { recursive: true, force: true });
      const e = err as Error & { code?: string };
      this.setProgress({ running: false, phase: 'failed', percent: null, message: e.message });
      this.release();
      throw err;
    }
    const upload = up;
    const attempt: Attempt = {
      at: new Date().toISOString(),
      finishedAt: null,
      version: check.version,
      compatible: check.compatible,
      result: 'running',
      message: 'installing',
      source,
      fromVersion: this.deps.ctx.version,
      fromSlot: bootedSlot(rauc),
      targetSlot: otherSlot(rauc),
    };
    this.store.saveAttempt(attempt);
    this.setProgress({ running: true, phase: 'installing', percent: 0, message: 'starting', version: check.version });
    this.log.info({ version: check.version, source, from: attempt.fromSlot, to: attempt.targetSlot }, 'installing update bundle');
    void this.rauc
      .install(upload.file, (percent, message) => this.setProgress({ percent, message }))
      .then(
        (r) => r,
        (err: unknown): RaucResult => ({ ok: false, message: (err as Error).message }),
      )
      .then(async ({ ok, message }) => {
        rmSync(upload.dir, { recursive: true, force: true });
        // RAUC makes the slot it wrote the bootloader's primary; that is the slot to expect after the reboot.
        const after = ok ? await this.rauc.status().catch(() => rauc) : rauc;
        const primary = after.available ? after.slots.find((s) => s.name === after.bootPrimary || s.bootname === after.bootPrimary)?.bootname : undefined;
        const done: Attempt = {
          ...attempt,
          targetSlot: primary ?? attempt.targetSlot,
          finishedAt: new Date().toISOString(),
          result: ok ? 'installed' : 'failed',
          message: ok ? `installed to slot ${primary ?? attempt.targetSlot ?? '?'}; it runs after the next reboot` : message,
          bootId: this.bootId(),
          ...(ok ? {} : { code: 'install_failed' }),
        };
        this.store.saveAttempt(done);
        this.rebootRequired = ok;
        this.release();
        this.setProgress({ running: false, phase: ok ? 'installed' : 'failed', percent: ok ? 100 : this.progress.percent, message: done.message });
        if (!ok) {
          this.log.warn({ version: check.version, reason: message }, 'update failed');
          return;
        }
        this.log.info({ version: check.version }, 'update installed');
        if (this.store.settings().reboot === 'immediate') {
          setTimeout(() => void this.reboot().catch((err: unknown) => this.log.error({ err }, 'reboot after the update failed')), this.timing.rebootDelayMs).unref();
        }
      });
    return check;
  }

  /** Reboot into the installed update (or simply reboot a box). */
  async reboot(): Promise<{ rebooting: true; into: string | null }> {
    const rauc = await this.rauc.status();
    if (!rauc.available) throw new OtaError('rauc_unavailable', `not rebooting this machine: ${rauc.reason}`, 409);
    if (this.busy) throw new OtaError('ota_busy', 'an update is being installed; reboot when it is done', 409);
    const last = this.store.lastAttempt();
    const into = this.rebootRequired && last ? last.version : null;
    this.setProgress({ running: false, phase: 'rebooting', percent: null, message: into ? `rebooting into ${into}` : 'rebooting' });
    this.log.info({ into }, 'rebooting');
    const r = await (this.deps.reboot ?? systemReboot)();
    if (!r.ok) {
      this.setProgress({ phase: 'failed', message: `reboot failed: ${r.message}` });
      throw new OtaError('reboot_failed', `the reboot was refused: ${r.message}`, 500);
    }
    return { rebooting: true, into };
  }

  // --- after a boot ---

  /**
   * Runs once every service has started. On a boot into the slot an update went
   * to, the box checks itself within a bounded time and only then marks the slot
   * good; if the check fails it does not, and reboots, so the bootloader (whose
   * try for that slot is used up) starts the old slot. On any other boot it
   * marks the running slot good once the same check passes, as RAUC's boot
   * counting expects, and never reboots on its own.
   */
  private async checkBoot(): Promise<void> {
    const at = () => new Date().toISOString();
    let rauc = await this.rauc.status();
    // An installed box whose rauc did not answer (its D-Bus service still starting on a busy boot, a timeout) is
    // asked again within the self-check's time: giving up at once left a new slot never marked good.
    const askUntil = Date.now() + this.timing.selfCheckMs;
    while (!rauc.available && rauc.installed && Date.now() < askUntil && !this.abort.signal.aborted) {
      this.bootState = { state: 'checking', detail: `waiting for rauc: ${rauc.reason}`, at: at() };
      this.log.warn({ reason: rauc.reason }, 'rauc status did not answer; asking again');
      await pause(this.timing.selfCheckPollMs, this.abort.signal);
      rauc = await this.rauc.status();
    }
    if (this.abort.signal.aborted) return;
    if (!rauc.available) {
      this.bootState = rauc.installed
        ? { state: 'failed', detail: `rauc did not answer within ${Math.round(this.timing.selfCheckMs / 1000)} s: ${rauc.reason}`, at: at() }
        : { state: 'not_a_box', detail: rauc.reason, at: at() };
      if (rauc.installed) this.log.error({ reason: rauc.reason }, 'rauc never answered; the running slot is not marked good');
      return;
    }
    this.bootState = { state: 'checking', detail: null, at: at() };
    const last = this.store.lastAttempt();
    const bootId = this.bootId();
    const boot = classifyBoot(last, rauc, bootId);
    const running = this.deps.ctx.version;
    if (boot.kind === 'fell_back' && last) {
      const message = `update to ${last.version} failed, running ${running} again${boot.reason ? ` (${boot.reason})` : ''}`;
      this.store.saveAttempt({ ...last, result: 'fell_back', finishedAt: new Date().toISOString(), message });
      this.log.warn({ version: last.version, running, slot: bootedSlot(rauc) }, message);
      this.emit();
    }
    if (boot.kind === 'trial' && last) {
      this.store.saveAttempt({ ...last, result: 'trying', trialBootId: last.trialBootId ?? bootId, message: 'booted into the new slot; checking itself' });
      this.emit();
      this.log.info({ version: last.version, slot: last.targetSlot }, 'first boot into the updated slot: checking before marking it good');
    }
    const checks = this.deps.selfCheck ?? (async () => []);
    const { ok, results } = await runSelfCheck({ checks, deadlineMs: this.timing.selfCheckMs, pollMs: this.timing.selfCheckPollMs, signal: this.abort.signal });
    if (this.abort.signal.aborted) return;
    const marked = ok ? await this.rauc.markGood() : { ok: false, message: failedChecks(results) };
    this.bootState = marked.ok
      ? { state: 'good', detail: `self-check passed; slot ${bootedSlot(rauc) ?? '?'} marked good`, at: at() }
      : { state: 'failed', detail: ok ? `mark-good failed: ${marked.message}` : marked.message, at: at() };
    if (boot.kind !== 'trial' || !last) {
      if (marked.ok) this.log.info({ slot: bootedSlot(rauc) }, 'self-check passed; slot marked good');
      else this.log.warn({ reason: marked.message }, ok ? 'mark-good failed' : 'self-check failed; the running slot is not marked good');
      return;
    }
    if (marked.ok) {
      this.store.saveAttempt({ ...last, result: 'updated', finishedAt: new Date().toISOString(), message: `updated to ${last.version}`, trialBootId: last.trialBootId ?? bootId });
      this.log.info({ version: last.version, slot: last.targetSlot }, 'self-check passed; the updated slot is marked good');
      this.emit();
      return;
    }
    const reason = ok ? `mark-good failed: ${marked.message}` : `self-check failed after ${Math.round(this.timing.selfCheckMs / 1000)} s: ${marked.message}`;
    this.store.saveAttempt({ ...last, result: 'trying', message: reason, trialBootId: last.trialBootId ?? bootId });
    this.emit();
    this.log.error({ version: last.version, reason }, 'the updated slot is not good; rebooting so the bootloader starts the old slot');
    const r = await (this.deps.reboot ?? systemReboot)();
    if (!r.ok) this.log.error({ reason: r.message }, 'reboot refused; the old slot starts on the next power cycle');
  }
}
