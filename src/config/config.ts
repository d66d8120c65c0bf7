import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../presets/atomic-file.js';
import { defaultEngineBinary } from '../paths.js';
import { withBoxSettings } from './box-settings.js';
import { ConfigSchema, type Config } from './schema.js';

type Env = Record<string, string | undefined>;

/** Where the box keeps the device id it first derived, so that it stays when /etc/machine-id does not. */
export const DEVICE_ID_FILE = 'device-id';
const DEVICE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * A device id of this machine: 10 hex digits of a hash of /etc/machine-id
 * (systemd asks that the id itself not be shown), so two boxes, or a box and a
 * developer's run, never share MQTT topics and unique ids as two copies of one
 * hostname do. The hostname only when there is no machine id.
 */
export function machineDeviceId(env: Env = process.env): string {
  const root = env.HUSHBOX_ROOT ?? '/';
  for (const file of ['etc/machine-id', 'var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(join(root, file), 'utf8').trim().toLowerCase();
      if (/^[0-9a-f]{32}$/.test(id)) return createHash('sha256').update(`hushbox:${id}`).digest('hex').slice(0, 10);
    } catch {
      // next
    }
  }
  return (hostname().toLowerCase().replace(/[^a-z0-9_-]/g, '-').replace(/^[^a-z0-9]+/, '') || 'hushbox').slice(0, 64);
}

/**
 * The device id kept in the data directory, or (first start) the machine's, written there: a
 * read-only image whose /etc/machine-id is made anew at each boot keeps one id all the same.
 */
function storedDeviceId(dataDir: string, env: Env): string {
  const file = join(dataDir, DEVICE_ID_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (DEVICE_ID.test(kept)) return kept;
  } catch {
    // first start
  }
  const id = machineDeviceId(env);
  try {
    if (existsSync(dataDir)) writeFileAtomic(file, `${id}\n`);
  } catch {
    // a full or read-only data partition: the derived id serves, and is derived the same next time
  }
  return id;
}

/** Defaults that work on a developer's machine: the sim backend, port 8080. */
export function defaultConfig(env: Env = process.env): Config {
  return {
    deviceId: machineDeviceId(env),
    name: 'hushbox',
    http: { host: '0.0.0.0', port: 8080 },
    engine: {
      binary: env.HUSHBOX_ENGINE ?? defaultEngineBinary(),
      backend: 'sim',
      device: 'hw:Gen',
      input: 'demo',
      rate: 48000,
      frames: 64,
      periods: 2,
      channels: 2,
      priority: 70,
      cpu: -1,
    },
    system: {
      root: env.HUSHBOX_ROOT ?? '/',
      // Never retune a developer's machine by surprise: the box's image turns this on.
      tune: env.HUSHBOX_TUNE === '1',
      audioCpu: -1,
      irqPriority: 90,
      swappiness: 10,
    },
    mqtt: {
      enabled: true,
      url: 'mqtt://localhost:1883',
      rejectUnauthorized: true,
      baseTopic: '',
      discovery: true,
      discoveryPrefix: 'homeassistant',
      panelUrl: '',
      localBroker: false,
    },
    auth: {
      // The FAT boot partition: /boot/efi on the x86-64 image, /boot/firmware or /boot on a Pi.
      resetFiles: env.HUSHBOX_RESET_FILE
        ? [env.HUSHBOX_RESET_FILE]
        : ['/boot/efi/hushbox-reset-password', '/boot/firmware/hushbox-reset-password', '/boot/hushbox-reset-password'],
      allowedHosts: [],
      socket: env.HUSHBOX_API_SOCKET ?? '',
    },
  };
}

/** The Unix socket the shell command uses: config auth.socket, else <data>/api.sock; undefined when 'off'. */
export function apiSocketPath(config: Config, dataDir: string): string | undefined {
  const s = config.auth?.socket ?? '';
  if (s === 'off') return undefined;
  return s || join(dataDir, 'api.sock');
}

/** The data directory: --data, then $HUSHBOX_DATA_DIR, then ~/.local/share/hushbox. */
export function resolveDataDir(flag: string | undefined, env: Env = process.env): string {
  if (flag) return resolve(flag);
  if (env.HUSHBOX_DATA_DIR) return resolve(env.HUSHBOX_DATA_DIR);
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'hushbox');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: unknown, patch: unknown): unknown {
  if (!isObject(base) || !isObject(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = k in base ? merge(base[k], v) : v;
  return out;
}

/** Validate a whole config; the error names every field that is wrong. */
export function validateConfig(candidate: unknown, source: string): Config {
  if (Value.Check(ConfigSchema, candidate)) return candidate;
  const problems = [...Value.Errors(ConfigSchema, candidate)]
    .slice(0, 10)
    .map((e) => `${e.path || '/'}: ${e.message}${e.value !== undefined ? ` (got ${JSON.stringify(e.value)})` : ''}`);
  throw new ConfigError(`${source}: invalid configuration: ${problems.join('; ')}`, problems);
}

/**
 * Defaults, then the file (if any), then the front panel's settings (<data>/box-settings.json),
 * then the environment (an empty HUSHBOX_MQTT_URL counts as unset). A missing file given
 * explicitly is an error; a missing default file is not.
 */
export function loadConfig(opts: { file?: string; dataDir: string; env?: Env }): Config {
  const env = opts.env ?? process.env;
  let merged: unknown = { ...defaultConfig(env), deviceId: storedDeviceId(opts.dataDir, env) };
  const file = opts.file ?? join(opts.dataDir, 'config.json');
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || opts.file) {
      throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
    }
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`);
    }
    if (!isObject(parsed)) throw new ConfigError(`${file}: expected a JSON object`);
    merged = merge(merged, parsed);
  }
  // What the owner set on the front panel (the name, the MQTT broker) wins over the file.
  merged = withBoxSettings(merged, opts.dataDir);
  if (env.HUSHBOX_HTTP_PORT !== undefined) {
    const port = Number(env.HUSHBOX_HTTP_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError(`HUSHBOX_HTTP_PORT: expected a port number 0..65535, got '${env.HUSHBOX_HTTP_PORT}'`);
    }
    merged = merge(merged, { http: { port } });
  }
  // The service unit's environment wins over the file, as for the port.
  if (env.HUSHBOX_TUNE !== undefined) {
    if (env.HUSHBOX_TUNE !== '0' && env.HUSHBOX_TUNE !== '1') throw new ConfigError(`HUSHBOX_TUNE: expected 0 or 1, got '${env.HUSHBOX_TUNE}'`);
    merged = merge(merged, { system: { tune: env.HUSHBOX_TUNE === '1' } });
  }
  if (env.HUSHBOX_DEVICE_ID !== undefined) {
    // The image derives it from the machine id (hushbox-identity.service).
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(env.HUSHBOX_DEVICE_ID)) {
      throw new ConfigError(`HUSHBOX_DEVICE_ID: expected lower-case letters, digits, - and _ (at most 64, e.g. hushbox-1a2b3c4d), got '${env.HUSHBOX_DEVICE_ID}'`);
    }
    merged = merge(merged, { deviceId: env.HUSHBOX_DEVICE_ID });
  }
  if (env.HUSHBOX_ROOT !== undefined) merged = merge(merged, { system: { root: env.HUSHBOX_ROOT } });
  if (env.HUSHBOX_MQTT_URL !== undefined && env.HUSHBOX_MQTT_URL !== '') {
    let url: URL;
    try {
      url = new URL(env.HUSHBOX_MQTT_URL);
    } catch {
      throw new ConfigError(`HUSHBOX_MQTT_URL: not a URL: '${env.HUSHBOX_MQTT_URL}' (e.g. mqtt://user:pass@host:1883)`);
    }
    if (!/^(mqtts?|wss?|tcp|ssl):$/.test(url.protocol)) {
      throw new ConfigError(`HUSHBOX_MQTT_URL: expected an mqtt://, mqtts://, ws:// or wss:// URL, got '${url.protocol}'`);
    }
    merged = merge(merged, { mqtt: { url: env.HUSHBOX_MQTT_URL, enabled: true } });
  }
  if (env.HUSHBOX_MQTT_LOCAL_BROKER !== undefined) {
    merged = merge(merged, { mqtt: { localBroker: env.HUSHBOX_MQTT_LOCAL_BROKER === '1' || env.HUSHBOX_MQTT_LOCAL_BROKER === 'true' } });
  }
  return validateConfig(merged, text !== undefined ? file : 'configuration');
}
