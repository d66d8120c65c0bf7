// What the owner account costs: login latency (scrypt alone, and a whole login over HTTP) and the cost of auth per request
// (GET /api/status anonymous, with a bearer token, with a session cookie; side by side, repeated).
// Usage: npm run build && node bench/auth.mjs [--rounds 3] [--seconds 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { AuthService } from '../dist/auth/auth-service.js';
import { defaultConfig } from '../dist/config/config.js';
import { EventBus } from '../dist/events.js';
import { hashPassword, verifyPassword } from '../dist/auth/password.js';
import { buildApp } from '../dist/web/app.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const spread = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const hash = await hashPassword('correct horse battery staple');
const logins = [];
for (let i = 0; i < 20; i++) {
  const t = process.hrtime.bigint();
  await verifyPassword('correct horse battery staple', hash);
  logins.push(Number(process.hrtime.bigint() - t) / 1e6);
}
console.log(`scrypt verify (one login), 20 runs: median ${median(logins).toFixed(1)} ms, range ${spread(logins)} ms`);

const dir = mkdtempSync(join(tmpdir(), 'hushbox-bench-auth-'));
const log = pino({ level: 'silent' });
const config = defaultConfig({});
const ctx = { config, dataDir: dir, log, bus: new EventBus(log), version: 'bench', startedAt: new Date() };
const engine = {
  status: () => ({ state: 'running', pid: 1, backend: 'sim', device: 'hw:Gen', reason: null, restarts: 0 }),
  telemetry: () => null,
  params: () => [{ id: 'mic.trim.gain', name: 'Mic trim', unit: 'dB', scale: 'db', min: -24, max: 24, default: 0, value: 0 }],
};
const auth = new AuthService(ctx);
await auth.start();
const app = await buildApp({ ctx, engine, auth });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${app.server.address().port}`;
const setup = await fetch(`${base}/api/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'correct horse battery staple' }) });
const cookie = setup.headers.getSetCookie()[0].split(';')[0];
const { token } = await (await fetch(`${base}/api/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ name: 'bench' }) })).json();

// A whole login over HTTP (the request, scrypt, a new session written to disk): as many as the
// rate limit lets one address make in a minute after the onboarding (5 password attempts).
const httpLogins = [];
for (let i = 0; i < 4; i++) {
  const t = process.hrtime.bigint();
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'correct horse battery staple' }) });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  httpLogins.push(Number(process.hrtime.bigint() - t) / 1e6);
}
console.log(`POST /api/auth/login (whole request), ${httpLogins.length} runs: median ${median(httpLogins).toFixed(1)} ms, range ${spread(httpLogins)} ms`);

const kinds = { anonymous: {}, token: { authorization: `Bearer ${token}` }, session: { cookie } };
const results = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [kind, headers] of Object.entries(kinds)) {
    const res = await autocannon({ url: `${base}/api/status`, headers, connections: 10, duration: seconds });
    if (res.non2xx) throw new Error(`${kind}: ${res.non2xx} answers were not 2xx`);
    results[kind].push(res.requests.average);
  }
}
console.log(`GET /api/status, ${rounds} rounds of ${seconds} s each, 10 connections (requests/s):`);
for (const [kind, xs] of Object.entries(results)) {
  const ratio = xs.map((x, i) => x / results.anonymous[i]);
  console.log(`  ${kind.padEnd(9)} median ${median(xs).toFixed(0)}  range ${spread(xs)}  vs anonymous ${median(ratio).toFixed(3)} (${spread(ratio.map((x) => x * 100))} %)`);
}
await app.close();
await auth.stop();
rmSync(dir, { recursive: true, force: true });
