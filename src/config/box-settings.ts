// The box's own settings made on the front panel (its name, the MQTT broker and login), kept in
// <data>/box-settings.json beside config.json: the owner's config file stays as they wrote it, and
// what the page set wins over it at the next start (the service unit's environment still wins over
// both, as for the port).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError } from '../errors.js';
import { writeFileAtomic } from '../presets/atomic-file.js';
import type { ServiceContext } from '../service.js';
import { isLoopback, readBrokerCredentials } from '../mqtt/broker-credentials.js';
import type { Config } from './schema.js';
import { requireRoom } from './data-space.js';

export const BOX_SETTINGS_FILE = 'box-settings.json';

const URL_PATTERN = '^(mqtts?|wss?)://';
/** How long a change of broker waits for the client to connect before answering. */
const CONNECT_WAIT_MS = 3000;

export const BoxSettingsFileSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    mqtt: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          url: Type.Optional(Type.String({ pattern: URL_PATTERN })),
          username: Type.Optional(Type.String()),
          password: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type BoxSettingsFile = Static<typeof BoxSettingsFileSchema>;

export const BoxSettingsPatchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 64, description: "the box's name (Home Assistant's device, the page's header)" })),
    mqtt: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          url: Type.Optional(Type.String({ maxLength: 512, description: 'mqtt://host:1883, mqtts://, ws:// or wss://; the login goes in username and password, not in the URL' })),
          username: Type.Optional(Type.String({ maxLength: 256, description: "'' logs in without a user" })),
          password: Type.Optional(Type.String({ maxLength: 256, description: "left out keeps the password; '' clears it" })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type BoxSettingsPatch = Static<typeof BoxSettingsPatchSchema>;

export const BoxSettingsSchema = Type.Object({
  name: Type.String(),
  deviceId: Type.String(),
  mqtt: Type.Object({
    enabled: Type.Boolean(),
    url: Type.String({ description: 'without a password' }),
    username: Type.String({ description: "'' when none (the box's own broker logs in with its own user)" }),
    passwordSet: Type.Boolean(),
    connected: Type.Boolean(),
    ownBroker: Type.Boolean({ description: "the box's own broker, with the users made at first boot" }),
    fromEnvironment: Type.Boolean({ description: 'HUSHBOX_MQTT_URL names the broker at each start: a broker set here holds until the next start' }),
  }),
});
export type BoxSettings = Static<typeof BoxSettingsSchema>;

/** The settings file, or {} (absent, unreadable or invalid: the config file's values stand). */
export function readBoxSettings(dataDir: string): BoxSettingsFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dataDir, BOX_SETTINGS_FILE), 'utf8'));
  } catch {
    return {};
  }
  return Value.Check(BoxSettingsFileSchema, parsed) ? parsed : {};
}

function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new ValidationError(`the broker address '${url}' is not a URL: write it as mqtt://host:1883`);
  }
  if (!/^(mqtts?|wss?):$/.test(u.protocol)) throw new ValidationError(`the broker address must start with mqtt://, mqtts://, ws:// or wss://, not ${u.protocol}//`);
  if (!u.hostname) throw new ValidationError('the broker address has no host');
  if (u.username || u.password) throw new ValidationError('put the login in Username and Password, not in the address');
  return u.toString().replace(/\/$/, '');
}

/** A login written into the URL (mqtt://user:pass@host, as config.json allows) as fields, the URL without it. */
function splitLogin(m: Config['mqtt']): { url: string; username: string; password: string } {
  try {
    const u = new URL(m.url);
    const login = { username: m.username ?? decodeURIComponent(u.username), password: m.password ?? decodeURIComponent(u.password) };
    u.username = '';
    u.password = '';
    return { url: u.toString().replace(/\/$/, ''), ...login };
  } catch {
    return { url: m.url, username: m.username ?? '', password: m.password ?? '' };
  }
}

export interface BoxSettingsDeps {
  ctx: ServiceContext;
  /** Whether the MQTT client is connected now. */
  mqttConnected: () => boolean;
  /** Connect again with ctx.config.mqtt as it is now (stop, then start). */
  restartMqtt: () => Promise<void>;
  /** The name changed: Home Assistant's device is announced again. */
  renamed: () => void;
  /** For the box's event list: what changed. */
  changed?: (message: string) => void;
  env?: Record<string, string | undefined>;
}

/** Read and change the box's name and its MQTT broker; applied at once and kept for the next start. */
export class BoxSettingsStore {
  constructor(private readonly deps: BoxSettingsDeps) {}

  get(): BoxSettings {
    const { config, dataDir } = this.deps.ctx;
    const m = config.mqtt;
    const env = this.deps.env ?? process.env;
    const login = splitLogin(m);
    return {
      name: config.name,
      deviceId: config.deviceId,
      mqtt: {
        enabled: m.enabled,
        url: login.url,
        username: login.username,
        passwordSet: login.password !== '',
        connected: m.enabled && this.deps.mqttConnected(),
        // The supervisor then logs in as the user made at first boot (src/mqtt/mqtt-service.ts).
        ownBroker: login.username === '' && isLoopback(login.url) && readBrokerCredentials(dataDir) !== undefined,
        fromEnvironment: !!env.HUSHBOX_MQTT_URL,
      },
    };
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** Check the whole change, keep it, then apply it: the name at once, the broker by connecting again. One change at a time. */
  apply(patch: BoxSettingsPatch): Promise<BoxSettings> {
    const run = this.queue.then(() => this.applyNow(patch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(patch: BoxSettingsPatch): Promise<BoxSettings> {
    const { ctx } = this.deps;
    const file = readBoxSettings(ctx.dataDir);
    let renamed = false;
    let mqttChanged = false;
    if (patch.name !== undefined) {
      const name = patch.name.trim();
      if (!name) throw new ValidationError('Give the box a name.');
      renamed = name !== ctx.config.name;
      file.name = name;
    }
    const now = ctx.config.mqtt;
    const before = { enabled: now.enabled, ...splitLogin(now) };
    const next = { ...before };
    if (patch.mqtt) {
      const m = patch.mqtt;
      if (m.enabled !== undefined) next.enabled = m.enabled;
      if (m.url !== undefined) next.url = checkUrl(m.url);
      if (m.username !== undefined) {
        next.username = m.username.trim();
        // No user, no password: a password kept from before would be sent with nobody's name.
        if (m.password === undefined && next.username === '') next.password = '';
      }
      if (m.password !== undefined) next.password = m.password;
      if (next.username === '' && next.password !== '') throw new ValidationError('a password needs a username');
      mqttChanged = (['enabled', 'url', 'username', 'password'] as const).some((k) => next[k] !== before[k]);
      // '' is kept as '' in the file, so that a user named in config.json does not come back at the next start.
      file.mqtt = { ...(file.mqtt ?? {}), ...next };
    }
    if (renamed || mqttChanged) {
      requireRoom(ctx.dataDir, 'the box settings', 4096);
      writeFileAtomic(join(ctx.dataDir, BOX_SETTINGS_FILE), `${JSON.stringify(file, null, 2)}\n`, 0o600);
    }
    if (renamed) {
      this.deps.changed?.(`renamed from ${ctx.config.name} to ${file.name!}`);
      ctx.config.name = file.name!;
      ctx.bus.emit('boxInfo', { name: ctx.config.name, deviceId: ctx.config.deviceId, version: ctx.version });
    }
    if (mqttChanged) {
      ctx.config.mqtt = withLogin({ ...now, enabled: next.enabled, url: next.url }, next.username, next.password);
      ctx.log.info({ url: next.url, enabled: next.enabled, username: next.username || null }, 'MQTT broker changed on the front panel');
      this.deps.changed?.(next.enabled ? `MQTT broker set to ${next.url}${next.username ? ` as ${next.username}` : ''}` : 'MQTT turned off');
      await this.deps.restartMqtt();
      // The answer says whether it worked: a broker that takes the login answers within moments.
      const until = Date.now() + CONNECT_WAIT_MS;
      while (next.enabled && !this.deps.mqttConnected() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    } else if (renamed) {
      this.deps.renamed();
    }
    return this.get();
  }
}

/** The MQTT config with this login; '' is none (the client then logs in as nobody, or as the box's own broker user). */
function withLogin(mqtt: Config['mqtt'], username: string | undefined, password: string | undefined): Config['mqtt'] {
  const out = { ...mqtt };
  delete out.username;
  delete out.password;
  if (username) out.username = username;
  if (password) out.password = password;
  return out;
}

/**
 * The settings file over a loaded config (before the environment): called by loadConfig. A file
 * that no longer fits (hand-edited) is ignored whole.
 */
export function withBoxSettings(config: unknown, dataDir: string): unknown {
  const file = readBoxSettings(dataDir);
  if (typeof config !== 'object' || config === null) return config;
  const c = { ...(config as Config) };
  if (file.name) c.name = file.name;
  if (file.mqtt && c.mqtt) {
    const m = file.mqtt;
    const mqtt = { ...c.mqtt, ...(m.enabled !== undefined ? { enabled: m.enabled } : {}), ...(m.url !== undefined ? { url: m.url } : {}) };
    c.mqtt = withLogin(mqtt, m.username ?? c.mqtt.username, m.password ?? c.mqtt.password);
  }
  return c;
}
