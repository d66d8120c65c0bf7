// The box's own Mosquitto is not anonymous: users, password file and ACL, made at first boot on /data.
import { chmodSync, chownSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { writeFileAtomic } from '../presets/atomic-file.js';

/** Where the broker's files live in the data directory (rootfs/etc/mosquitto/conf.d/hushbox-auth.conf names them). */
export const BROKER_DIR = 'mqtt';
export const PASSWORD_FILE = 'passwd';
export const ACL_FILE = 'acl';
/** The users and their passwords in the clear, for the owner (GET /api/mqtt/credentials) and the supervisor: root only. */
export const CREDENTIALS_FILE = 'credentials.json';

export const SUPERVISOR_USER = 'hushbox';
export const CLIENT_USER = 'homeassistant';

const Login = Type.Object({ username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 16 }) });
export const BrokerCredentialsSchema = Type.Object({
  supervisor: Login,
  client: Login,
  created: Type.String(),
});
export type BrokerCredentials = Static<typeof BrokerCredentialsSchema>;

/**
 * One line of a Mosquitto 2 password file: `user:$7$<iterations>$<salt>$<hash>`,
 * PBKDF2-HMAC-SHA512 with a 12-byte salt, as `mosquitto_passwd` writes it.
 */
export function passwordLine(username: string, password: string, iterations = 101): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `${username}:$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** The topics the ACL is written for: the box's base topic (or a pattern of them) and Home Assistant's discovery prefix. */
export interface AclTopics {
  /** `hushbox/+` for the default base (`hushbox/<deviceId>`, whatever the id), else the configured base topic. */
  base: string;
  discoveryPrefix: string;
}

/** What the ACL is written for under a configuration: its base topic and discovery prefix. */
export function aclTopics(mqtt: { baseTopic: string; discoveryPrefix: string }): AclTopics {
  return { base: mqtt.baseTopic || 'hushbox/+', discoveryPrefix: mqtt.discoveryPrefix };
}

/**
 * What each user may do. Clients publish commands only: `<base>/set`,
 * `<base>/request/…` and Home Assistant's birth message; the box's state,
 * availability, health, update and responses are the supervisor's alone (the
 * broker drops a client's publish there). The topics follow the configuration
 * (`mqtt.baseTopic`, `mqtt.discoveryPrefix`).
 */
export function aclText(topics: AclTopics = aclTopics({ baseTopic: '', discoveryPrefix: 'homeassistant' })): string {
  const { base, discoveryPrefix: ha } = topics;
  for (const t of [base, ha]) {
    // One topic per line of the file: a line break would be a rule of its own.
    // eslint-disable-next-line no-control-regex
    if (!t || /[\u0000-\u001f\u007f#]/.test(t)) throw new Error(`cannot write an ACL for the topic ${JSON.stringify(t)}`);
  }
  return [
    "# hushbox: who may publish what on the box's broker (written by `hushbox mqtt-credentials` and the supervisor,",
    '# from mqtt.baseTopic and mqtt.discoveryPrefix in the config).',
    '',
    `user ${SUPERVISOR_USER}`,
    `topic readwrite ${base}/#`,
    `topic readwrite ${ha}/#`,
    '',
    `user ${CLIENT_USER}`,
    `topic read ${base}/#`,
    `topic write ${base}/set`,
    `topic write ${base}/request/#`,
    `topic read ${ha}/#`,
    `topic write ${ha}/status`,
    '',
  ].join('\n');
}

/** The mosquitto user's uid/gid from <root>/etc/passwd, so the broker can read its files after it drops root. */
function mosquittoIds(root: string): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith('mosquitto:'));
    const [, , uid, gid] = line?.split(':') ?? [];
    return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
  } catch {
    return undefined;
  }
}

export function readBrokerCredentials(dataDir: string): BrokerCredentials | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(join(dataDir, BROKER_DIR, CREDENTIALS_FILE), 'utf8'));
    return Value.Check(BrokerCredentialsSchema, v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Make the broker's users (random 24-character passwords), password file and
 * ACL in <data>/mqtt, unless they exist: the first boot makes them, later
 * boots keep them (and write the password file and the ACL, for `topics`, again). Returns the credentials.
 */
export function ensureBrokerCredentials(dataDir: string, opts: { root?: string; topics?: AclTopics } = {}): { credentials: BrokerCredentials; created: boolean } {
  const existing = readBrokerCredentials(dataDir);
  const dir = join(dataDir, BROKER_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const credentials: BrokerCredentials = existing ?? {
    supervisor: { username: SUPERVISOR_USER, password: randomBytes(18).toString('base64url') },
    client: { username: CLIENT_USER, password: randomBytes(18).toString('base64url') },
    created: new Date().toISOString(),
  };
  if (!existing) writeFileAtomic(join(dir, CREDENTIALS_FILE), `${JSON.stringify(credentials, null, 2)}\n`, 0o600);
  // The password file and ACL are written again from the credentials each time: cheap, and a hand-edited
  // or half-written one is put right.
  const passwd = join(dir, PASSWORD_FILE);
  writeFileAtomic(passwd, `${passwordLine(credentials.supervisor.username, credentials.supervisor.password)}\n${passwordLine(credentials.client.username, credentials.client.password)}\n`, 0o600);
  giveToBroker(passwd, opts.root);
  writeBrokerAcl(dataDir, opts.topics, opts.root);
  return { credentials, created: !existing };
}

/**
 * The broker reads its files after dropping root, as the mosquitto user, and Mosquitto 2.0.16+
 * warns (and "future versions will refuse to load") a password or ACL file whose owner or group is
 * not its own or that others can read: mosquitto:mosquitto, 0600. Where there is no mosquitto user
 * (a developer's machine) or we are not root, the hashes are left readable.
 */
function giveToBroker(file: string, root = '/'): void {
  const ids = mosquittoIds(root);
  if (ids && process.getuid?.() === 0) {
    chownSync(file, ids.uid, ids.gid);
    chmodSync(file, 0o600);
  } else {
    chmodSync(file, 0o644);
  }
}

/**
 * Write <data>/mqtt/acl for these topics unless it already says exactly that. Returns whether it
 * changed (then a running broker must be told to read it again: reloadBroker).
 */
export function writeBrokerAcl(dataDir: string, topics: AclTopics = aclTopics({ baseTopic: '', discoveryPrefix: 'homeassistant' }), root?: string): boolean {
  const acl = join(dataDir, BROKER_DIR, ACL_FILE);
  const text = aclText(topics);
  let same = false;
  try {
    same = readFileSync(acl, 'utf8') === text;
  } catch {
    // none yet
  }
  if (!same) writeFileAtomic(acl, text, 0o600);
  giveToBroker(acl, root);
  return !same;
}

/** Where the box's Mosquitto keeps its pid (Debian's /etc/mosquitto/mosquitto.conf). */
export const BROKER_PID_FILE = '/run/mosquitto/mosquitto.pid';

/**
 * Ask the running Mosquitto to read its password file and ACL again (SIGHUP: both are reloaded).
 * The pid is checked to be a mosquitto's first: a stale pid file must not hang up another process.
 * Returns the pid signalled, or undefined when no broker runs (it reads the files when it starts).
 */
export function reloadBroker(pidFile = process.env.HUSHBOX_BROKER_PID_FILE ?? BROKER_PID_FILE): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'mosquitto') return undefined;
  } catch {
    return undefined;
  }
  process.kill(pid, 'SIGHUP');
  return pid;
}

/**
 * Whether a broker URL names this machine by its loopback (localhost, 127.0.0.0/8, ::1): only such a
 * broker is the box's own and is sent the supervisor's user (never a broker elsewhere).
 */
export function isLoopback(url: string): boolean {
  let h: string;
  try {
    h = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return h === 'localhost' || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h) || h === '::1';
}
