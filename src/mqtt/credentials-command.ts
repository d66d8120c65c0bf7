import { parseArgs } from 'node:util';
import { loadConfig, resolveDataDir } from '../config/config.js';
import { aclTopics, BROKER_DIR, ensureBrokerCredentials } from './broker-credentials.js';

/**
 * `hushbox mqtt-credentials [--data DIR] [--json]`: make the box broker's users,
 * password file and ACL in <data>/mqtt if they are not there (first boot, before
 * mosquitto starts), and print the login for Home Assistant and other clients.
 * The ACL is written for the base topic and discovery prefix of <data>/config.json.
 */
export function mqttCredentialsCommand(argv: string[]): string {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const dataDir = resolveDataDir(values.data);
  let topics = aclTopics({ baseTopic: '', discoveryPrefix: 'homeassistant' });
  let warning = '';
  try {
    topics = aclTopics(loadConfig({ dataDir }).mqtt);
  } catch (err) {
    // The broker must start even when the config is broken (the supervisor says why): the default topics.
    warning = `the configuration cannot be read (${(err as Error).message}): the ACL is written for the default topics\n`;
  }
  const { credentials, created } = ensureBrokerCredentials(dataDir, { topics });
  process.stderr.write(warning);
  if (values.json) return `${JSON.stringify({ created, username: credentials.client.username, password: credentials.client.password }, null, 2)}\n`;
  return `${created ? 'made' : 'kept'} the broker's users in ${dataDir}/${BROKER_DIR} (ACL for ${topics.base}/ and ${topics.discoveryPrefix}/)\nfor Home Assistant and other clients: user ${credentials.client.username}, password ${credentials.client.password}\n`;
}
