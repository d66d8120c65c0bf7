import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { freePort, waitFor } from './net.js';
import { onboardOwner, ownerFetch } from './owner-http.js';

export interface RunningSupervisor {
  proc: ChildProcess;
  url: string;
  port: number;
  dataDir: string;
  output: () => string;
  /** SIGTERM and wait; returns the exit code. */
  stop(): Promise<number | null>;
  /** An API token of the owner (the box is onboarded at start unless `onboard: false`). */
  token: string;
  /** Remove the data directory (after stop). */
  cleanup(): void;
}

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Wait for the engine to run (default true). */
  waitRunning?: boolean;
  /** Set the owner password and make a token at start, as the page would (default true). */
  onboard?: boolean;
  /** The HTTP port (default: a free one); a box restarted on its old port, for a page that reconnects. */
  port?: number;
  /** How long the supervisor may take to answer (default 30 s: under load on the shared 2-core machine a start took 12-16 s). */
  startTimeoutMs?: number;
}

/** How long stop() waits for the supervisor to exit after SIGTERM. */
const STOP_WAIT_MS = 20_000;

/** Start the real supervisor (`hushbox start`, compiled) with the real engine. */
export async function startSupervisor(opts: StartOptions = {}): Promise<RunningSupervisor> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'hushbox-test-'));
  const port = opts.port ?? (await freePort());
  const proc = spawn(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'start', ...(opts.args ?? [])], {
    env: { ...process.env, HUSHBOX_DATA_DIR: dataDir, HUSHBOX_HTTP_PORT: String(port), HUSHBOX_LOG_LEVEL: 'warn',
      // never a developer's real broker on localhost:1883: a closed port (the box runs fine without MQTT)
      HUSHBOX_MQTT_URL: 'mqtt://127.0.0.1:1',
      ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const sup: RunningSupervisor = {
    proc,
    url,
    port,
    dataDir,
    output: () => out,
    token: '',
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      // Each service has 5 s to stop (Supervisor.stop): a supervisor still there after 20 s is a fault, said with its output.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_WAIT_MS)));
      const first = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (first === 'late') {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`the supervisor did not exit within ${STOP_WAIT_MS / 1000} s of SIGTERM (killed); its output:\n${out.slice(-4000)}`);
      }
      const [code] = first as [number | null];
      return code;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      'the supervisor to answer /api/status',
      async () => {
        if (proc.exitCode !== null) throw new Error(`supervisor exited with ${proc.exitCode}: ${out}`);
        const res = await fetch(`${url}/api/status`);
        if (!res.ok) return false;
        const body = (await res.json()) as { engine: { state: string }; telemetry: unknown };
        return opts.waitRunning === false || (body.engine.state === 'running' && body.telemetry !== null);
      },
      opts.startTimeoutMs ?? 30_000,
    );
    if (opts.onboard !== false) sup.token = (await onboardOwner(url)).token;
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return sup;
}

/** GET as the owner. */
export async function getJson<T = unknown>(url: string): Promise<T> {
  const res = await ownerFetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A JSON request as the owner. */
export async function sendJson(method: string, url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await ownerFetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
