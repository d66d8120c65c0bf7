// The whole supervisor with system, health and systemd wired: real engine, real HTTP,
// READY=1 to a real notify socket, a fake root tree (tuning off).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/supervisor.js';
import { fixturePath } from '../fakes/fixtures.js';
import { tempDir, contextWith, waitFor } from '../fakes/context.js';
import { onboardOwner, ownerFetch } from '../fakes/owner-http.js';

let supervisor: Supervisor;
let base: string;
const messages: string[] = [];
const cleanups: Array<() => void | Promise<void>> = [];

beforeAll(async () => {
  const tmp = tempDir();
  cleanups.push(tmp.remove);
  const sock = join(tmp.dir, 'notify.sock');
  const py = spawn('python3', ['-u', '-c', `import socket\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(${JSON.stringify(sock)})\nprint("ready", flush=True)\nwhile True: print(s.recv(4096).decode().replace("\\n","|"), flush=True)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => void py.kill('SIGKILL'));
  py.stdout!.setEncoding('utf8').on('data', (d: string) => messages.push(...d.split('\n').filter(Boolean)));
  await waitFor('the notify socket', () => messages.includes('ready'));
  const ctx = contextWith({ http: { host: '127.0.0.1', port: 0 }, engine: { priority: 0 }, system: { root: fixturePath('pi4-scarlett-solo'), tune: false } });
  process.env.NOTIFY_SOCKET = sock;
  cleanups.push(() => void delete process.env.NOTIFY_SOCKET);
  supervisor = new Supervisor({ dataDir: join(tmp.dir, 'data'), log: ctx.log, config: ctx.config });
  await supervisor.start();
  cleanups.push(() => supervisor.stop());
  base = `http://127.0.0.1:${supervisor.web.port()}`;
  await onboardOwner(base);
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('supervisor with system, health and systemd', () => {
  it('tells systemd it is ready once everything is up', async () => {
    await waitFor('READY=1', () => messages.some((m) => m.startsWith('READY=1')));
    expect((await ownerFetch(`${base}/api/status`)).ok).toBe(true);
  });

  it('serves the system report, health and doctor over HTTP', async () => {
    const sys = await (await ownerFetch(`${base}/api/system`)).json();
    expect(sys).toMatchObject({ tune: false, interface: { model: 'Scarlett Solo 4th Gen' } });
    expect(sys.steps).toHaveLength(6);
    const health = await (await ownerFetch(`${base}/api/health`)).json();
    expect(health.engine.state).toBe('running');
    expect(health.throttling.raw).toBe('0x50000');
    const doctor = await (await ownerFetch(`${base}/api/doctor`)).json();
    expect(doctor.checks.find((c: { id: string }) => c.id === 'engine.running').status).toBe('pass');
  });

  it('restarts the engine on a profile change through /api/audio', async () => {
    const pid = supervisor.engine.status().pid;
    const r = await ownerFetch(`${base}/api/audio`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'streaming' }) });
    expect(r.status).toBe(200);
    // The engine declares 'streaming' as 48 kHz, 256 x 3.
    expect(await r.json()).toMatchObject({ profile: 'streaming', frames: 256, periods: 3, engine: { state: 'running', restarts: 1 } });
    expect(supervisor.engine.status().pid).not.toBe(pid);
  });
});
