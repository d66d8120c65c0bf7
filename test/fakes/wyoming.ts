// The Wyoming reference package (wyoming 1.6.0, by the protocol's authors),
// unpacked from shared/vendor into a temporary directory, and a client built
// from it (test/fakes/wyoming-client.py) run with python3.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/paths.js';

const TARBALL = 'wyoming-1.6.0.tar.gz';
const SHA256 = 'b1f7138addfec9eae6eea78a2b333b012a58346ad499d6e0fe0e32bd9dd19dae';
const clientScript = join(dirname(fileURLToPath(import.meta.url)), 'wyoming-client.py');

/** shared/vendor/wyoming-1.6.0.tar.gz: $HUSHBOX_VENDOR_DIR, else the nearest shared/vendor above the repository. */
export function findWyomingTarball(): string {
  const candidates: string[] = [];
  if (process.env.HUSHBOX_VENDOR_DIR) candidates.push(join(process.env.HUSHBOX_VENDOR_DIR, TARBALL));
  let dir = packageRoot;
  for (let i = 0; i < 5; i++) {
    candidates.push(join(dir, 'shared', 'vendor', TARBALL));
    dir = resolve(dir, '..');
  }
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`${TARBALL} not found (looked in ${candidates.join(', ')}); set HUSHBOX_VENDOR_DIR`);
  const sum = createHash('sha256').update(readFileSync(found)).digest('hex');
  if (sum !== SHA256) throw new Error(`${found}: sha256 ${sum}, expected ${SHA256}`);
  return found;
}

export interface WyomingSummary {
  starts: Array<{ rate: number; width: number; channels: number; timestamp: number | null; format: string | null }>;
  /** [timestamp ms, samples, rate, width, channels] per audio-chunk */
  chunks: Array<[number, number, number, number, number]>;
  stops: Array<number | null>;
  closed: boolean;
}

export class WyomingReference {
  readonly dir = mkdtempSync(join(tmpdir(), 'hushbox-wyoming-'));
  readonly pythonPath: string;

  constructor() {
    execFileSync('tar', ['-xzf', findWyomingTarball(), '-C', this.dir]);
    this.pythonPath = join(this.dir, 'wyoming-1.6.0');
    if (!existsSync(join(this.pythonPath, 'wyoming', 'client.py'))) throw new Error('the wyoming tarball has no wyoming/client.py');
  }

  /** Read events for `seconds`; the PCM of every chunk, concatenated. */
  async read(
    uri: string,
    seconds: number,
    opts: { token?: string; rate?: number; format?: string; pauseAt?: number; pauseFor?: number } = {},
  ): Promise<{ summary: WyomingSummary; pcm: Buffer }> {
    const out = join(this.dir, `pcm-${Math.random().toString(36).slice(2)}.raw`);
    const args = [clientScript, 'read', uri, String(seconds), out];
    if (opts.token !== undefined) args.push('--token', opts.token);
    if (opts.rate !== undefined) args.push('--rate', String(opts.rate), '--format', opts.format ?? 's16le');
    if (opts.pauseAt !== undefined) args.push('--pause-at', String(opts.pauseAt), '--pause-for', String(opts.pauseFor ?? 1));
    const stdout = await this.run(args);
    const summary = JSON.parse(stdout.trim().split('\n').pop()!) as WyomingSummary;
    const pcm = existsSync(out) ? readFileSync(out) : Buffer.alloc(0);
    rmSync(out, { force: true });
    return { summary, pcm };
  }

  /** Send describe; the mic program of the info the box answers. */
  async describe(uri: string): Promise<{ name: string; installed: boolean; mic_format: { rate: number; width: number; channels: number } }> {
    return JSON.parse((await this.run([clientScript, 'describe', uri])).trim().split('\n').pop()!) as {
      name: string;
      installed: boolean;
      mic_format: { rate: number; width: number; channels: number };
    };
  }

  /** Connect and never read for `seconds`; whether the box closed the connection by then. */
  async stuck(uri: string, seconds: number): Promise<{ closed: boolean }> {
    const stdout = await this.run([clientScript, 'stuck', uri, String(seconds)]);
    return JSON.parse(stdout.trim().split('\n').pop()!) as { closed: boolean };
  }

  private run(args: string[]): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn('python3', args, { env: { ...process.env, PYTHONPATH: this.pythonPath } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolvePromise(stdout) : reject(new Error(`wyoming client exited ${code}: ${stderr}`)),
      );
    });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Little-endian s16 PCM to floats in -1..1. */
export function s16ToFloat(pcm: Buffer): Float64Array {
  const n = Math.floor(pcm.length / 2);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = pcm.readInt16LE(2 * i) / 32768;
  return out;
}

/** Amplitude of the component at `hz` (least squares against sin and cos), and the signal's RMS. */
export function toneAmplitude(x: Float64Array, rate: number, hz: number): { amplitude: number; rms: number } {
  let s = 0;
  let c = 0;
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    const w = (2 * Math.PI * hz * i) / rate;
    s += x[i]! * Math.sin(w);
    c += x[i]! * Math.cos(w);
    e += x[i]! * x[i]!;
  }
  return { amplitude: (2 * Math.hypot(s, c)) / x.length, rms: Math.sqrt(e / x.length) };
}
