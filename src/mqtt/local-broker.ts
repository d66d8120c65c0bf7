import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The mosquitto binary, if installed (it lives in /usr/sbin on Debian). */
export function findMosquitto(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, 'mosquitto');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Whether something accepts TCP connections on host:port. */
export function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface MosquittoOptions {
  port: number;
  host?: string;
  /** Extra lines for mosquitto.conf (e.g. password_file). */
  extraConfig?: string[];
}

/** A private mosquitto: its own config in a temporary directory, no persistence. */
export class MosquittoProcess {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  private output: string[] = [];

  constructor(readonly opts: MosquittoOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 5000): Promise<void> {
    if (this.child) return;
    const bin = findMosquitto();
    if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
    const host = this.opts.host ?? '127.0.0.1';
    this.dir ??= mkdtempSync(join(tmpdir(), 'hushbox-mosquitto-'));
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [`listener ${this.opts.port} ${host}`, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', 'log_dest stderr', 'log_type error', 'log_type warning', ...(this.opts.extraConfig ?? [])].join('\n') + '\n',
    );
    this.output = [];
    const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (this.output = [...this.output.slice(-20), s]));
    const deadline = Date.now() + timeoutMs;
    while (!(await isListening(host, this.opts.port, 200))) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.child = undefined;
        throw new Error(`mosquitto exited at start: ${this.output.join('').trim()}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`mosquitto did not listen on ${host}:${this.opts.port} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Stop it (SIGTERM, or SIGKILL when `kill`); the config directory stays for a restart. */
  async stop(kill = false): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(kill ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** Stop and remove the temporary directory. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
