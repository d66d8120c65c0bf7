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

/**
 * What each user may do. Clients publish commands only: `<base>/set`,
 * `<base>/request/…` and Home Assistant's birth message; the box's state,
 * availability, health, update and responses are the supervisor's alone (the
 * broker drops a client's publish there). Base topics are `hushbox/<id>`.
 */
export function aclText(): string {
  return [
    '# hushbox: who may publish what on the box\'s broker (made by `hushbox mqtt-credentials`).',
    '',
    `user ${SUPERVISOR_USER}`,
    'topic readwrite hushbox/#',
    'topic readwrite homeassistant/#',
    '',
    `user ${CLIENT_USER}`,
    'topic read hushbox/#',
    'topic write hushbox/+/set',
    'topic write hushbox/+/request/#',
    'topic read homeassistant/#',
    'topic write homeassistant/status',
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
 * boots keep them. Returns the credentials.
 */
export function ensureBrokerCredentials(dataDir: string, opts: { root?: string } = {}): { credentials: BrokerCredentials; created: boolean } {
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
  const acl = join(dir, ACL_FILE);
  writeFileAtomic(passwd, `${passwordLine(credentials.supervisor.username, credentials.supervisor.password)}\n${passwordLine(credentials.client.username, credentials.client.password)}\n`, 0o640);
  writeFileAtomic(acl, aclText(), 0o640);
  const ids = mosquittoIds(opts.root ?? '/');
  for (const f of [passwd, acl]) {
    if (ids && process.getuid?.() === 0) chownSync(f, 0, ids.gid);
    else chmodSync(f, 0o644); // no mosquitto user to give it to: hashes only, readable
  }
  return { credentials, created: !existing };
}
