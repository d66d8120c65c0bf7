import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { HushboxError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { RaucStatus } from './schema.js';

/** A bundle or an OTA request that cannot go ahead; the code names what was wrong. */
export class OtaError extends HushboxError {
  override readonly statusCode: number;
  constructor(code: string, message: string, statusCode: number) {
    super(code, message);
    this.statusCode = statusCode;
  }
}

export interface OtaSettings {
  /** RAUC's system configuration; its presence means this machine is set up for RAUC. */
  systemConf: string;
  /** The certificates a bundle's signature must chain to. */
  keyring: string;
  /** The RAUC compatible of this box: bundles for anything else are refused. */
  compatible: string;
  maxBundleBytes: number;
  /** The rauc executable. */
  rauc: string;
}

/** A key of one section of an ini file such as system.conf (no includes, no continuation lines). */
export function iniValue(text: string, section: string, key: string): string | undefined {
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      current = s[1]!.trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (current === section && eq > 0 && line.slice(0, eq).trim() === key) return line.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Where the OTA settings come from: RAUC's system.conf on a box; on a developer's
 * machine, the development keyring in ota/dev-keys and a compatible by CPU.
 * Environment overrides: HUSHBOX_RAUC_CONF, HUSHBOX_OTA_KEYRING,
 * HUSHBOX_OTA_COMPATIBLE, HUSHBOX_OTA_MAX_BYTES, HUSHBOX_RAUC.
 */
export function otaSettings(env: NodeJS.ProcessEnv = process.env): OtaSettings {
  const systemConf = env.HUSHBOX_RAUC_CONF ?? '/etc/rauc/system.conf';
  let conf = '';
  try {
    conf = readFileSync(systemConf, 'utf8');
  } catch {
    // not a RAUC system: the defaults below
  }
  const maxRaw = env.HUSHBOX_OTA_MAX_BYTES;
  const maxBundleBytes = maxRaw === undefined ? 1024 * 1024 * 1024 : Number(maxRaw);
  if (!Number.isSafeInteger(maxBundleBytes) || maxBundleBytes <= 0) {
    throw new HushboxError('invalid_config', `HUSHBOX_OTA_MAX_BYTES: expected a positive whole number of bytes, got '${maxRaw}'`);
  }
  return {
    systemConf,
    keyring: env.HUSHBOX_OTA_KEYRING ?? iniValue(conf, 'keyring', 'path') ?? join(packageRoot, 'ota', 'dev-keys', 'keyring.pem'),
    compatible: env.HUSHBOX_OTA_COMPATIBLE ?? iniValue(conf, 'system', 'compatible') ?? (arch() === 'arm64' ? 'hushbox-rpi4' : 'hushbox-x86_64'),
    maxBundleBytes,
    rauc: env.HUSHBOX_RAUC ?? 'rauc',
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command could not be started at all (ENOENT: not installed). */
  spawnError?: NodeJS.ErrnoException;
}

export function runRauc(settings: OtaSettings, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(settings.rauc, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
      if (e && typeof e.code === 'string') return resolve({ code: null, stdout, stderr, spawnError: e });
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The lines of RAUC's output that say what went wrong, without its log prefixes and OpenSSL's stack. */
export function raucReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^rauc-Message:/.test(l) && !/^[0-9A-F]{8,}:error:/.test(l));
  return lines.join('; ').slice(0, 300) || 'rauc gave no reason';
}

/** Map a failed `rauc info` to an error that names what was wrong with the bundle. */
export function bundleError(stderr: string): OtaError {
  const reason = raucReason(stderr);
  if (/Invalid bundle format|exceeds bundle size|too small|Failed to open bundle|not a (valid )?bundle|unknown bundle format/i.test(stderr)) {
    return new OtaError('not_a_bundle', `not a RAUC bundle, or a truncated one (${reason})`, 400);
  }
  if (/payload is corrupted|Verification of data area failed|hash|checksum/i.test(stderr)) {
    return new OtaError('bundle_corrupted', `the bundle's content does not match its signed hash: it was damaged or tampered with (${reason})`, 422);
  }
  if (/signature|certificate|verify|CMS/i.test(stderr)) {
    return new OtaError('bad_signature', `the bundle's signature does not verify against this box's keyring (${reason})`, 422);
  }
  return new OtaError('bundle_rejected', `rauc refused the bundle (${reason})`, 422);
}

/** RAUC's view of this machine, or why there is none. */
export async function raucStatus(settings: OtaSettings): Promise<RaucStatus> {
  if (!existsSync(settings.systemConf)) {
    return { available: false, reason: `no RAUC system here (${settings.systemConf} does not exist); this is not an installed box` };
  }
  const r = await runRauc(settings, ['--conf', settings.systemConf, 'status', '--detailed', '--output-format=json'], 15_000);
  if (r.spawnError) return { available: false, installed: true, reason: `rauc could not be run (${r.spawnError.code})` };
  if (r.code !== 0) return { available: false, installed: true, reason: `rauc status failed: ${raucReason(r.stderr)}` };
  try {
    return parseRaucStatus(JSON.parse(r.stdout));
  } catch {
    const said = `${r.stdout.trim().slice(0, 120)}${r.stderr.trim() ? ` (stderr: ${raucReason(r.stderr).slice(0, 120)})` : ''}`;
    return { available: false, installed: true, reason: `rauc status answered something other than JSON: ${said || 'nothing'}` };
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** `rauc status --output-format=json` (RAUC 1.8) into the API's shape. */
export function parseRaucStatus(j: unknown): RaucStatus {
  const o = (j ?? {}) as Record<string, unknown>;
  const slots = Array.isArray(o.slots) ? o.slots : [];
  return {
    available: true,
    compatible: str(o.compatible) ?? '',
    booted: str(o.booted),
    bootPrimary: str(o.boot_primary),
    slots: slots.flatMap((entry: unknown) =>
      Object.entries((entry ?? {}) as Record<string, Record<string, unknown>>).map(([name, s]) => {
        const bundle = ((s.slot_status as Record<string, unknown> | undefined)?.bundle ?? {}) as Record<string, unknown>;
        return {
          name,
          class: str(s.class) ?? name.split('.')[0]!,
          bootname: str(s.bootname),
          state: str(s.state) ?? 'unknown',
          bootStatus: str(s.boot_status),
          bundleVersion: str(bundle.version),
        };
      }),
    ),
  };
}

/**
 * `rauc install`, reporting its progress lines ("40% Copying image to rootfs.1").
 * Resolves with the exit code and RAUC's reason on failure.
 */
export function raucInstall(settings: OtaSettings, bundle: string, onProgress: (percent: number, message: string) => void): Promise<RaucResult> {
  return new Promise((resolve) => {
    const child = spawn(settings.rauc, ['install', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let last = '';
    const onLine = (line: string) => {
      // "  40% Copying image to rootfs.1" (RAUC 1.8); later releases may prefix the bundle's name
      const m = /(?:^|\s)(\d{1,3})%\s+(.*)$/.exec(line);
      if (m) onProgress(Math.min(100, Number(m[1])), m[2]!.trim());
      if (line.trim()) last = line.trim();
    };
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split(/\r\n|\r|\n/);
      buf = lines.pop()!;
      lines.forEach(onLine);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ ok: false, message: `rauc could not be run (${(err as NodeJS.ErrnoException).code ?? err.message})` }));
    child.on('close', (code) => {
      if (buf) onLine(buf);
      resolve(code === 0 ? { ok: true, message: last || 'installed' } : { ok: false, message: raucReason(stderr) });
    });
  });
}

export interface RaucResult {
  ok: boolean;
  message: string;
}

/**
 * The RAUC operations the supervisor needs, as one small interface: the real
 * one runs the rauc command (which talks to the RAUC service over D-Bus on a
 * box); unit tests give a fake of this one layer.
 */
export interface Rauc {
  /** The slots and which one is booted, or why there is no RAUC system. */
  status(): Promise<RaucStatus>;
  /** Install a bundle (already verified) to the inactive slot, reporting progress. */
  install(bundle: string, onProgress: (percent: number, message: string) => void): Promise<RaucResult>;
  /** `rauc status mark-good`: the booted slot works; the bootloader stops counting its tries. */
  markGood(): Promise<RaucResult>;
}

export function raucCli(settings: () => OtaSettings): Rauc {
  return {
    status: () => raucStatus(settings()),
    install: (bundle, onProgress) => raucInstall(settings(), bundle, onProgress),
    async markGood() {
      const s = settings();
      const r = await runRauc(s, ['--conf', s.systemConf, 'status', 'mark-good'], 30_000);
      if (r.spawnError) return { ok: false, message: `rauc could not be run (${r.spawnError.code})` };
      return r.code === 0 ? { ok: true, message: (r.stdout.trim() || 'marked good').slice(0, 300) } : { ok: false, message: raucReason(r.stderr) };
    },
  };
}

/** `systemctl reboot`: systemd stops every service (the supervisor with them) and restarts the machine. */
export function systemReboot(): Promise<RaucResult> {
  return new Promise((resolve) => {
    execFile('systemctl', ['reboot'], { timeout: 30_000 }, (err, _stdout, stderr) => {
      resolve(err ? { ok: false, message: (stderr || err.message).trim().slice(0, 300) } : { ok: true, message: 'rebooting' });
    });
  });
}
