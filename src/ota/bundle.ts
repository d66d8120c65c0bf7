// A bundle on the data partition: received from an upload, verified with rauc.
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OtaError, bundleError, runRauc, type OtaSettings } from './rauc.js';
import type { BundleCheck } from './schema.js';
import { compareVersions, isVersion } from './version.js';
import { checkVerityPayload, readManifest } from './verity.js';

/** Uploads live in directories with this prefix in the data directory, and nowhere else. */
export const OTA_TEMP_PREFIX = '.tmp-ota-';

export interface Upload {
  dir: string;
  file: string;
  size: number;
}

/** A directory of its own for one bundle in the data directory. */
export function bundleDir(dataDir: string): Upload {
  const dir = mkdtempSync(join(dataDir, OTA_TEMP_PREFIX));
  return { dir, file: join(dir, 'bundle.raucb'), size: 0 };
}

/** An upload that sends nothing for this long is abandoned (and its connection closed), so one stalled client cannot hold `ota_busy`. */
export const UPLOAD_IDLE_MS = 30_000;

/** Stream a request body into a directory of its own in the data directory, within the size limit and the idle timeout. */
export async function receiveBundle(
  dataDir: string,
  body: Readable | undefined,
  declaredBytes: number | undefined,
  max: number,
  onBytes?: (n: number) => void,
  idleMs = UPLOAD_IDLE_MS,
): Promise<Upload> {
  if (!body || declaredBytes === 0) throw new OtaError('no_bundle', 'no bundle in the request body (send the .raucb file as application/octet-stream)', 400);
  if (declaredBytes !== undefined && declaredBytes > max) {
    throw new OtaError('too_large', `the bundle is ${declaredBytes} bytes; this box takes at most ${max}`, 413);
  }
  const up = bundleDir(dataDir);
  let size = 0;
  let idle: NodeJS.Timeout | undefined;
  const stalled = () =>
    body.destroy(new OtaError('upload_stalled', `the upload sent nothing for ${Math.round(idleMs / 1000)} s after ${size}${declaredBytes !== undefined ? ` of ${declaredBytes}` : ''} bytes; abandoned`, 408));
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(stalled, idleMs);
  };
  try {
    arm();
    const limit = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        arm();
        size += chunk.length;
        onBytes?.(size);
        if (size > max) cb(new OtaError('too_large', `the bundle is more than ${max} bytes, the most this box takes`, 413));
        else cb(null, chunk);
      },
    });
    await pipeline(body, limit, createWriteStream(up.file)).finally(() => clearTimeout(idle));
    if (size === 0) throw new OtaError('no_bundle', 'no bundle in the request body (send the .raucb file as application/octet-stream)', 400);
    if (declaredBytes !== undefined && size !== declaredBytes) {
      throw new OtaError('truncated_upload', `the upload ended after ${size} of ${declaredBytes} bytes`, 400);
    }
    return { ...up, size };
  } catch (err) {
    rmSync(up.dir, { recursive: true, force: true });
    if (err instanceof OtaError) throw err;
    throw new OtaError('truncated_upload', `the upload broke off after ${size} bytes (${(err as Error).message})`, 400);
  }
}

/** Signature and manifest (`rauc info`), then every payload block against the signed hash tree (`checkVerityPayload`). */
export async function verifyBundle(s: OtaSettings, up: Upload, installedVersion: string): Promise<BundleCheck> {
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
  // `rauc info` checks the signature over the manifest only; the payload is
  // checked here, every block against the signed hash tree, reading the file
  // once and writing nothing (RAUC would find a bad block only mid-install).
  await checkPayload(up.file);
  const cmp = isVersion(installedVersion) ? compareVersions(m.version, installedVersion) : 1;
  return {
    compatible: m.compatible,
    version: m.version,
    description: m.description ?? null,
    build: m.build ?? null,
    signer: /signature by '([^']*)'/.exec(info.stderr)?.[1] ?? null,
    sizeBytes: up.size,
    images,
    installedVersion,
    action: cmp > 0 ? 'upgrade' : cmp === 0 ? 'reinstall' : 'downgrade',
  };
}

/** `rauc info --output-format=json` (RAUC 1.8). */
interface RaucInfo {
  compatible: string;
  version: unknown;
  description?: string | null;
  build?: string | null;
  images?: Record<string, { filename: string; size: number; checksum: string }>[];
}

/** The whole payload of a verity bundle against its signed root hash; any other format is refused. */
async function checkPayload(file: string): Promise<void> {
  let read: Awaited<ReturnType<typeof readManifest>>;
  try {
    read = await readManifest(file);
  } catch (err) {
    throw new OtaError('bundle_rejected', `the bundle's signed manifest cannot be read: ${(err as Error).message}`, 422);
  }
  if (read.manifest.format !== 'verity') {
    throw new OtaError('bundle_rejected', `the bundle's format is '${read.manifest.format}'; this box takes only 'verity' bundles, whose every block is checked`, 422);
  }
  const r = await checkVerityPayload(file, read.manifest, read.payloadEnd);
  if (!r.ok) throw new OtaError('bundle_corrupted', `the bundle's content does not match its signed hash: it was damaged or tampered with (${r.reason})`, 422);
}
