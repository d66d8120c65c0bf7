import { createServer } from 'node:net';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { MosquittoProcess } from '../../src/mqtt/local-broker.js';

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A real mosquitto on a free port, for one test file. */
export async function startBroker(): Promise<{ broker: MosquittoProcess; port: number; url: string }> {
  const port = await freePort();
  const broker = new MosquittoProcess({ port });
  await broker.start();
  return { broker, port, url: `mqtt://127.0.0.1:${port}` };
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A test client that records every message and can wait for one. */
export class TestClient {
  readonly messages: Received[] = [];
  private waiters: Array<{ match: (m: Received) => boolean; resolve: (m: Received) => void }> = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload: payload.toString(), retain: packet.retain };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async connect(url: string, subscribe: string[], opts: IClientOptions = {}): Promise<TestClient> {
    const client = await connectAsync(url, { reconnectPeriod: 200, clientId: `test-${Math.random().toString(36).slice(2)}`, ...opts });
    const t = new TestClient(client);
    if (subscribe.length) await client.subscribeAsync(subscribe, { qos: 1 });
    return t;
  }

  /** The first message (already received or arriving) that matches. */
  waitFor(match: (m: Received) => boolean, what: string, timeoutMs = 10_000, since = 0): Promise<Received> {
    const seen = this.messages.slice(since).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got: ${this.messages.slice(-5).map((m) => `${m.topic} ${m.payload.slice(0, 80)}`).join(' | ')}`)), timeoutMs);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** Send a request and wait for the response that echoes its transaction. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are arbitrary JSON, checked by the tests
  async request(base: string, command: string, body: Record<string, unknown> | string, transaction = Math.random().toString(36).slice(2)): Promise<{ status: string; data?: any; error?: { code: string; message: string }; transaction?: unknown }> {
    const payload = typeof body === 'string' ? body : JSON.stringify({ ...body, transaction });
    const since = this.messages.length;
    await this.client.publishAsync(`${base}/request/${command}`, payload, { qos: 1 });
    const m = await this.waitFor(
      (x) => x.topic === `${base}/response/${command}` && (typeof body === 'string' || (JSON.parse(x.payload) as { transaction?: unknown }).transaction === transaction),
      `response to ${command}`,
      10_000,
      since,
    );
    return JSON.parse(m.payload);
  }

  async end(): Promise<void> {
    await this.client.endAsync(true);
  }
}
