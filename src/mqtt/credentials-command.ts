import { parseArgs } from 'node:util';
import { resolveDataDir } from '../config/config.js';
import { BROKER_DIR, ensureBrokerCredentials } from './broker-credentials.js';

/**
 * `hushbox mqtt-credentials [--data DIR] [--json]`: make the box broker's users,
 * password file and ACL in <data>/mqtt if they are not there (first boot, before
 * mosquitto starts), and print the login for Home Assistant and other clients.
 */
export function mqttCredentialsCommand(argv: string[]): string {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const dataDir = resolveDataDir(values.data);
  const { credentials, created } = ensureBrokerCredentials(dataDir);
  if (values.json) return `${JSON.stringify({ created, username: credentials.client.username, password: credentials.client.password }, null, 2)}\n`;
  return `${created ? 'made' : 'kept'} the broker's users in ${dataDir}/${BROKER_DIR}\nfor Home Assistant and other clients: user ${credentials.client.username}, password ${credentials.client.password}\n`;
}
