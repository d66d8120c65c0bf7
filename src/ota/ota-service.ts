import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../presets/atomic-file.js';
import type { Service, ServiceContext } from '../service.js';
import { OtaError, bundleError, otaSettings, raucInstall, raucStatus, runRauc, type OtaSettings } from './rauc.js';
import { OtaStateFileSchema, type Attempt, type BundleCheck, type OtaStatus } from './schema.js';
import { compareVersions, isVersion } from './version.js';

/** Uploads and their extracted content live in directories with this prefix in the data directory, and nowhere else. */
export const OTA_TEMP_PREFIX = '.tmp-ota-';
const STATE_FILE = 'ota.json';

interface Upload {
  dir: string;
  file: string;
  size: number;
}

export interface BundleOptions {
  /** Accept a bundle older than the running firmware. */
  allowDowngrade: boolean;
}

/**
 * Update bundles: verifies them for real with rauc (signature against the
 * keyring, payload against its signed hash tree, compatible, version) and, on a
 * box with a RAUC system, installs them to the inactive slot.
 */
export class OtaService implements Service {
  readonly name = 'ota';
  private readonly log: Logger;
  private settingsCache: OtaSettings | undefined;
  private progress: { running: boolean; percent: number | null; message: string | null } = { running: false, percent: null, message: null };
  /** A bundle is being received, checked or installed. */
  private busy = false;

  constructor(private readonly ctx: ServiceContext, private readonly settingsOverride?: OtaSettings) {
    this.log = ctx.log.child({ service: this.name });
  }

  get settings(): OtaSettings {
    this.settingsCache ??= this.settingsOverride ?? otaSettings();
    return this.settingsCache;
  }

  async start(): Promise<void> {
    void this.settings;
    // Debris of an upload that a crash or power cut interrupted.
    for (const name of readdirSync(this.ctx.dataDir)) {
      if (name.startsWith(OTA_TEMP_PREFIX)) rmSync(join(this.ctx.dataDir, name), { recursive: true, force: true });
    }
    const last = this.lastAttempt();
    if (last?.result === 'running') {
      this.saveAttempt({ ...last, result: 'failed', finishedAt: new Date().toISOString(), message: 'the supervisor stopped before the install finished; the slots in rauc status show how it ended' });
    }
    this.log.debug({ compatible: this.settings.compatible, keyring: this.settings.keyring }, 'ota ready');
  }

  async stop(): Promise<void> {
    // An install in progress belongs to the RAUC service and goes on without us; waiting
    // for it could outlast systemd's stop timeout. The next start records it as interrupted.
  }

  async status(): Promise<OtaStatus> {
    return {
      version: this.ctx.version,
      compatible: this.settings.compatible,
      maxBundleBytes: this.settings.maxBundleBytes,
      rauc: await raucStatus(this.settings),
      install: { ...this.progress },
      lastAttempt: this.lastAttempt(),
    };
  }

  /** Verify an uploaded bundle and say what installing it would do; keeps nothing. */
  async check(body: Readable | undefined, declaredBytes: number | undefined): Promise<BundleCheck> {
    this.requireKeyring();
    this.claim();
    try {
      const up = await this.receive(body, declaredBytes);
      try {
        return await this.verify(up);
      } finally {
        rmSync(up.dir, { recursive: true, force: true });
      }
    } finally {
      this.busy = false;
    }
  }

  /** One bundle at a time: a second upload could fill the data partition, and an install owns the slots. */
  private claim(): void {
    if (this.busy) throw new OtaError('ota_busy', 'another bundle is being checked or installed; try again when it is done', 409);
    this.busy = true;
  }

  /**
   * Verify an uploaded bundle and start `rauc install` with it. Answers once the
   * install has started; its progress and result show in status().
   */
  async install(body: Readable | undefined, declaredBytes: number | undefined, opts: BundleOptions): Promise<BundleCheck> {
    const rauc = await raucStatus(this.settings);
    if (!rauc.available) throw new OtaError('rauc_unavailable', `cannot install on this machine: ${rauc.reason}`, 409);
    this.requireKeyring();
    this.claim();
    let up: Upload | undefined;
    let check: BundleCheck;
    try {
      up = await this.receive(body, declaredBytes);
      check = await this.verify(up);
      if (check.action === 'downgrade' && !opts.allowDowngrade) {
        throw new OtaError('downgrade', `the bundle's version ${check.version} is older than the running ${check.installedVersion}; ask with allowDowngrade=true to install it anyway`, 409);
      }
    } catch (err) {
      if (up) rmSync(up.dir, { recursive: true, force: true });
      this.busy = false;
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
    };
    this.saveAttempt(attempt);
    this.progress = { running: true, percent: 0, message: 'starting' };
    this.log.info({ version: check.version }, 'installing update bundle');
    void raucInstall(this.settings, upload.file, (percent, message) => {
      this.progress = { running: true, percent, message };
    }).then(({ ok, message }) => {
      rmSync(upload.dir, { recursive: true, force: true });
      const done: Attempt = {
        ...attempt,
        finishedAt: new Date().toISOString(),
        result: ok ? 'installed' : 'failed',
        message: ok ? 'installed to the inactive slot; it runs after the next reboot' : message,
      };
      this.saveAttempt(done);
      this.progress = { running: false, percent: ok ? 100 : this.progress.percent, message: done.message };
      this.busy = false;
      if (ok) this.log.info({ version: check.version }, 'update installed');
      else this.log.warn({ version: check.version, reason: message }, 'update failed');
    });
    return check;
  }

  lastAttempt(): Attempt | null {
    const path = join(this.ctx.dataDir, STATE_FILE);
    if (!existsSync(path)) return null;
    try {
      const state: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (Value.Check(OtaStateFileSchema, state)) return state.lastAttempt;
    } catch {
      // fall through
    }
    this.log.warn({ path }, 'update state file unreadable; ignoring it');
    return null;
  }

  private saveAttempt(a: Attempt): void {
    writeFileAtomic(join(this.ctx.dataDir, STATE_FILE), `${JSON.stringify({ lastAttempt: a }, null, 2)}\n`);
  }

  private requireKeyring(): void {
    if (!existsSync(this.settings.keyring)) {
      throw new OtaError('no_keyring', `this box has no keyring to verify bundles against (${this.settings.keyring} is missing)`, 503);
    }
  }

  /** Stream the request body into a directory of its own in the data directory, within the size limit. */
  private async receive(body: Readable | undefined, declaredBytes: number | undefined): Promise<Upload> {
    const max = this.settings.maxBundleBytes;
    if (!body || declaredBytes === 0) throw new OtaError('no_bundle', 'no bundle in the request body (send the .raucb file as application/octet-stream)', 400);
    if (declaredBytes !== undefined && declaredBytes > max) {
      throw new OtaError('too_large', `the bundle is ${declaredBytes} bytes; this box takes at most ${max}`, 413);
    }
    const dir = mkdtempSync(join(this.ctx.dataDir, OTA_TEMP_PREFIX));
    const file = join(dir, 'bundle.raucb');
    let size = 0;
    try {
      const limit = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          if (size > max) cb(new OtaError('too_large', `the bundle is more than ${max} bytes, the most this box takes`, 413));
          else cb(null, chunk);
        },
      });
      await pipeline(body, limit, createWriteStream(file));
      if (size === 0) throw new OtaError('no_bundle', 'no bundle in the request body (send the .raucb file as application/octet-stream)', 400);
      if (declaredBytes !== undefined && size !== declaredBytes) {
        throw new OtaError('truncated_upload', `the upload ended after ${size} of ${declaredBytes} bytes`, 400);
      }
      return { dir, file, size };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      if (err instanceof OtaError) throw err;
      throw new OtaError('truncated_upload', `the upload broke off after ${size} bytes (${(err as Error).message})`, 400);
    }
  }

  /** Signature and manifest (`rauc info`), then every payload block against the signed hash tree (`rauc extract`). */
  private async verify(up: Upload): Promise<BundleCheck> {
    const s = this.settings;
    const conf = existsSync(s.systemConf) ? ['--conf', s.systemConf] : [];
    const info = await runRauc(s, [...conf, '--keyring', s.keyring, 'info', '--output-format=json', up.file], 60_000);
    if (info.spawnError) throw new OtaError('rauc_missing', `rauc could not be run on this machine (${info.spawnError.code}); install the rauc package`, 503);
    if (info.code !== 0) throw bundleError(info.stderr);
    let m: RaucInfo;
    try {
      m = JSON.parse(info.stdout) as RaucInfo;
    } catch {
      throw new OtaError('bundle_rejected', 'rauc info answered something other than JSON for this bundle', 422);
    }
    if (m.compatible !== s.compatible) {
      throw new OtaError('wrong_compatible', `the bundle is for '${m.compatible}', this box takes '${s.compatible}'`, 422);
    }
    if (typeof m.version !== 'string' || !isVersion(m.version)) {
      throw new OtaError('bad_version', `the bundle's version '${String(m.version)}' is not MAJOR.MINOR.PATCH[-suffix]`, 422);
    }
    const images = (m.images ?? []).flatMap((img) => Object.entries(img).map(([slotClass, i]) => ({ slotClass, filename: i.filename, sizeBytes: i.size, sha256: i.checksum })));
    const need = images.reduce((n, i) => n + i.sizeBytes, 0) + 16 * 1024 * 1024;
    const fsStat = statfsSync(up.dir);
    const free = fsStat.bavail * fsStat.bsize;
    if (need > free) {
      const mib = (n: number) => Math.ceil(n / (1024 * 1024));
      throw new OtaError('no_space', `checking this bundle needs ${mib(need)} MiB free on the data partition for its images; there are ${mib(free)} MiB`, 507);
    }
    // `rauc info` checks the signature over the manifest only; the payload of a
    // verity bundle is checked as it is read, which `rauc extract` does in full.
    const extract = await runRauc(s, [...conf, '--keyring', s.keyring, 'extract', up.file, join(up.dir, 'content')], 10 * 60_000);
    rmSync(join(up.dir, 'content'), { recursive: true, force: true });
    if (extract.code !== 0) throw bundleError(extract.stderr);

    const cmp = isVersion(this.ctx.version) ? compareVersions(m.version, this.ctx.version) : 1;
    return {
      compatible: m.compatible,
      version: m.version,
      description: m.description ?? null,
      build: m.build ?? null,
      signer: /signature by '([^']*)'/.exec(info.stderr)?.[1] ?? null,
      sizeBytes: up.size,
      images,
      installedVersion: this.ctx.version,
      action: cmp > 0 ? 'upgrade' : cmp === 0 ? 'reinstall' : 'downgrade',
    };
  }
}

/** `rauc info --output-format=json` (RAUC 1.8). */
interface RaucInfo {
  compatible: string;
  version: unknown;
  description?: string | null;
  build?: string | null;
  images?: Record<string, { filename: string; size: number; checksum: string }>[];
}
