// TLS to a real mosquitto: the box checks the broker certificate against the configured CA.
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import { freePort } from '../fakes/broker.js';
import { tempDir } from '../fakes/temp-context.js';
import { startSupervisor } from '../fakes/supervisor.js';

const tmp = tempDir('hushbox-tls-');
const f = (name: string) => join(tmp.dir, name);
let broker: MosquittoProcess;
let tlsPort: number;
const cleanups: Array<() => Promise<void>> = [];

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
const until = async (cond: () => boolean, what: string, timeoutMs = 20_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

beforeAll(async () => {
  // a CA, and a broker certificate for 127.0.0.1 signed by it; a second CA that signed nothing
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hushbox test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=other CA', '-keyout', f('other.key'), '-out', f('other.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > '${f('ext.cnf')}'`]);
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f('server.pem'));
  // mosquitto started as root reads them after dropping to its own user
  chmodSync(tmp.dir, 0o755);
  for (const n of ['ca.pem', 'server.pem', 'server.key']) chmodSync(f(n), 0o644);
  tlsPort = await freePort();
  const plainPort = await freePort();
  broker = new MosquittoProcess({
    port: plainPort,
    extraConfig: [`listener ${tlsPort} 127.0.0.1`, `cafile ${f('ca.pem')}`, `certfile ${f('server.pem')}`, `keyfile ${f('server.key')}`, 'allow_anonymous true'],
  });
  await broker.start();
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await broker?.dispose();
  tmp.cleanup();
});

describe('MQTT over TLS', () => {
  it('connects with the configured CA and refuses a broker certificate it cannot verify', async () => {
    const good = await startSupervisor((c) => {
      c.deviceId = 'tlsgood';
      c.mqtt.enabled = true;
      c.mqtt.url = `mqtts://127.0.0.1:${tlsPort}`;
      c.mqtt.ca = f('ca.pem');
    });
    cleanups.push(good.stop);
    const bad = await startSupervisor((c) => {
      c.deviceId = 'tlsbad';
      c.mqtt.enabled = true;
      c.mqtt.url = `mqtts://127.0.0.1:${tlsPort}`;
      c.mqtt.ca = f('other.pem');
    });
    cleanups.push(bad.stop);
    await until(() => good.sup.mqtt.connected(), 'TLS connection with the right CA');
    await new Promise((r) => setTimeout(r, 1000));
    expect(bad.sup.mqtt.connected()).toBe(false);
    expect(bad.sup.engine.status().state).toBe('running');
  });
});
