// A box booted from the built image (board/debian) in QEMU, for system tests:
// OVMF, TCG, a copy-on-write overlay of the image per box (the built image is
// never changed), Intel HDA sound, the i6300esb watchdog, the front panel and
// MQTT forwarded to free ports on 127.0.0.1, the serial console in a file, and a
// root shell on the second serial port (systemd's debug shell, switched on with
// EXTRA_CMDLINE in the ESP's grubenv, which grub.cfg appends to the kernel's
// arguments) to run commands in the guest.
//
//   const image = await ensureImage();            // builds (cached) when needed
//   const box = await QemuBox.create({ image });
//   await box.start();                            // power on
//   await box.waitForHttp('/api/status');
//   await box.run('findmnt -n -o OPTIONS /');     // { code, output }
//   await box.reboot();                           // systemctl reboot, waits for the next boot
//   await box.powerCut();                         // SIGKILL QEMU; start() powers on again
//   await box.grubenv();                          // { ORDER, A_OK, A_TRY, ... }
//   await box.remove();
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, copyFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { freePort, waitFor } from './net.js';

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
/** Kernel arguments that give the harness its shell: a root bash on ttyS1 (QEMU's second serial port). */
export const DEBUG_SHELL_CMDLINE = 'systemd.debug_shell=ttyS1';

export interface BuiltImage {
  dir: string;
  /** The raw disk image (the overlay's backing file). */
  raw: string;
  version: string;
  /** The signed RAUC bundle of the same root filesystem. */
  bundle: string;
  rootfs: string;
}

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`${what}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what}: ${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r.stdout;
}

/** The built image's files in `dir` (build/image by default), without building. */
export function imageFiles(dir = join(packageRoot, 'build', 'image')): BuiltImage {
  const version = readFileSync(join(dir, 'VERSION'), 'utf8').trim();
  return {
    dir,
    raw: join(dir, 'hushbox-x86_64.img'),
    version,
    bundle: join(dir, `hushbox-x86_64-${version}.raucb`),
    rootfs: join(dir, 'rootfs.ext4'),
  };
}

/**
 * Builds the image (board/debian/build.sh, every step cached by its inputs: a
 * clean machine builds it from scratch, an unchanged tree in seconds) and
 * answers its files. Progress goes to this process's stderr. Asynchronous: a
 * build of minutes must not hold the test worker's event loop (vitest's worker
 * then misses its own calls and fails the run though every test passed).
 */
export async function ensureImage(env: Record<string, string> = {}): Promise<BuiltImage> {
  const child = spawn('sh', [join(packageRoot, 'board/debian/build.sh')], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  const timer = setTimeout(() => child.kill('SIGTERM'), 30 * 60_000);
  const [code, signal] = (await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c, sig) => resolve([c, sig]));
  }).finally(() => clearTimeout(timer))) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`the image build failed (board/debian/build.sh exited ${code ?? signal}); its output is above`);
  return imageFiles(env.HUSHBOX_IMAGE_OUT);
}

interface Partition {
  start: number;
  size: number;
}

/** Byte offsets of the image's partitions, from its GPT. */
function partitions(raw: string): Partition[] {
  const table = JSON.parse(run('sfdisk', ['--json', raw], 'reading the partition table')) as {
    partitiontable: { sectorsize?: number; partitions: Array<{ start: number; size: number }> };
  };
  const sector = table.partitiontable.sectorsize ?? 512;
  return table.partitiontable.partitions.map((p) => ({ start: p.start * sector, size: p.size * sector }));
}

export function parseGrubenv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

export interface QemuBoxOptions {
  image: BuiltImage;
  /** Size of the box's disk; the data partition grows to fill it at the first boot. */
  diskSize?: string;
  memMiB?: number;
  /** Switch on the debug shell on ttyS1 (default true); without it run() is not available. */
  debugShell?: boolean;
  /**
   * What the emulated i6300esb does when the guest stops petting it: 'reset' (default, as the hardware does) or
   * 'report' (QEMU only counts it: watchdogFirings). Its timer runs on the host's clock while a TCG guest on a
   * loaded host can be starved for that long, so long tests that are not about the watchdog may ask for 'report'.
   */
  watchdog?: 'reset' | 'report';
}

export interface RunResult {
  code: number;
  output: string;
}

/** One box: its disk overlay, EFI variables, ports, serial log and QEMU process. */
export class QemuBox {
  readonly dir: string;
  readonly disk: string;
  readonly serialLog: string;
  private readonly vars: string;
  private readonly shellSocket: string;
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private shell: Socket | undefined;
  private shellBuf = '';
  private queue: Promise<unknown> = Promise.resolve();
  private readonly esp: Partition;
  private firings = 0;

  private constructor(
    readonly opts: QemuBoxOptions,
    readonly httpPort: number,
    readonly mqttPort: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'hushbox-qemu-box-'));
    this.disk = join(this.dir, 'disk.qcow2');
    this.vars = join(this.dir, 'vars.fd');
    this.serialLog = join(this.dir, 'serial.log');
    this.shellSocket = join(this.dir, 'shell.sock');
    this.esp = partitions(opts.image.raw)[0]!;
  }

  /** A new box with a fresh disk (a copy-on-write overlay of the image), powered off. */
  static async create(opts: QemuBoxOptions): Promise<QemuBox> {
    for (const f of [opts.image.raw, OVMF_CODE, OVMF_VARS]) {
      if (!existsSync(f)) throw new Error(`${f} is missing (image: npm run image; OVMF: apt-get install ovmf)`);
    }
    const box = new QemuBox(opts, await freePort(), await freePort());
    try {
      run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', opts.image.raw, box.disk, opts.diskSize ?? '4G'], 'creating the box disk');
      copyFileSync(OVMF_VARS, box.vars);
      if (opts.debugShell !== false) await box.setGrubenv({ EXTRA_CMDLINE: DEBUG_SHELL_CMDLINE });
    } catch (err) {
      rmSync(box.dir, { recursive: true, force: true });
      throw err;
    }
    return box;
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Times the hardware watchdog fired with the 'report' action (always 0 with 'reset': the box resets instead). */
  get watchdogFirings(): number {
    return this.firings;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Power on. The serial console is appended to serialLog (one file across boots). */
  async start(): Promise<void> {
    if (this.running) throw new Error('the box is already running');
    const args = [
      '-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', String(this.opts.memMiB ?? 1024),
      '-nodefaults', '-display', 'none', '-monitor', 'none',
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${this.vars}`,
      '-drive', `if=virtio,format=qcow2,file=${this.disk}`,
      '-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${this.httpPort}-:80,hostfwd=tcp:127.0.0.1:${this.mqttPort}-:1883`,
      '-device', 'virtio-net-pci,netdev=net0',
      '-audiodev', 'none,id=snd0', '-device', 'intel-hda', '-device', 'hda-duplex,audiodev=snd0',
      '-device', 'i6300esb', '-action', `watchdog=${this.opts.watchdog === 'report' ? 'debug' : 'reset'}`,
      '-chardev', `file,id=con,path=${this.serialLog},append=on`, '-serial', 'chardev:con',
      '-chardev', `socket,id=shell,path=${this.shellSocket},server=on,wait=off`, '-serial', 'chardev:shell',
    ];
    const proc = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      // QEMU's 'debug' watchdog action prints this and carries on
      this.firings += (text.match(/watchdog: timer fired/g) ?? []).length;
    });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      proc.once('error', (e) => reject(new Error(`cannot start qemu-system-x86_64: ${e.message}`)));
      proc.once('spawn', () => resolve());
    });
    // QEMU creates the shell socket once it is up.
    await waitFor('QEMU to start', () => {
      if (proc.exitCode !== null) throw new Error(`QEMU exited ${proc.exitCode}: ${stderr.trim()}`);
      return existsSync(this.shellSocket);
    }, 30_000, 50);
  }

  /** Bytes of serial console so far: pass to waitForLine() to look only at what comes after. */
  mark(): number {
    return existsSync(this.serialLog) ? statSync(this.serialLog).size : 0;
  }

  /** The serial console from `from` (a mark()) on. */
  console(from = 0): string {
    if (!existsSync(this.serialLog)) return '';
    const fd = openSync(this.serialLog, 'r');
    try {
      const size = statSync(this.serialLog).size;
      const buf = Buffer.alloc(Math.max(0, size - from));
      readSync(fd, buf, 0, buf.length, from);
      return buf.toString('latin1');
    } finally {
      closeSync(fd);
    }
  }

  /** Waits for a serial console line matching `re` after `from`; answers the match. */
  async waitForLine(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    return waitFor(`console line ${re} (console: ${this.serialLog})`, () => {
      if (!this.running) throw new Error(`QEMU is not running; console tail:\n${this.console(from).slice(-2000)}`);
      return re.exec(this.console(from));
    }, timeoutMs, 250);
  }

  /** Waits until `path` answers 200 through the forwarded port; answers the response's JSON or text. */
  async waitForHttp(path: string, timeoutMs: number): Promise<unknown> {
    try {
      return await this.answer200(path, timeoutMs);
    } catch (err) {
      // The box is removed after a failed test: what its console said goes with the error.
      const tail = this.console().slice(-4000).replace(new RegExp(String.fromCharCode(27) + '\\[[0-9;?]*[A-Za-z]', 'g'), '');
      throw new Error(`${(err as Error).message}\n--- the box's serial console, last lines ---\n${tail}`);
    }
  }

  private answer200(path: string, timeoutMs: number): Promise<unknown> {
    return waitFor(`${this.url}${path} to answer 200 (console: ${this.serialLog})`, async () => {
      if (!this.running) throw new Error('QEMU exited');
      const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) return null;
      const text = await res.text();
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }, timeoutMs, 1000);
  }

  /**
   * Runs a shell command as root in the guest (bash on ttyS1) and answers its
   * exit code and output (stdout and stderr). Commands run one at a time.
   */
  run(command: string, timeoutMs = 60_000): Promise<RunResult> {
    const next = this.queue.then(() => this.runNow(command, timeoutMs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async connectShell(timeoutMs: number): Promise<Socket> {
    if (this.shell && !this.shell.destroyed) return this.shell;
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(this.shellSocket);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    sock.on('data', (d: Buffer) => (this.shellBuf += d.toString('latin1')));
    sock.on('error', () => sock.destroy());
    this.shell = sock;
    this.shellBuf = '';
    // The shell starts with the boot and may not be there yet: ask until it
    // answers. $((6*7)) is expanded only by a shell, never by the tty's echo.
    const tag = `R${Math.random().toString(36).slice(2, 10)}`;
    await waitFor(`the debug shell on ttyS1 (is ${DEBUG_SHELL_CMDLINE} in grubenv's EXTRA_CMDLINE?)`, () => {
      if (!this.running) throw new Error('QEMU exited');
      if (this.shellBuf.includes(`@@${tag}42`)) return true;
      sock.write(`stty -echo 2>/dev/null; echo @@${tag}$((6*7))\n`);
      return false;
    }, timeoutMs, 2000);
    return sock;
  }

  private async runNow(command: string, timeoutMs: number): Promise<RunResult> {
    const sock = await this.connectShell(timeoutMs);
    const id = Math.random().toString(36).slice(2, 10);
    this.shellBuf = '';
    sock.write(`echo @@B$((0))${id}; ( ${command}\n) </dev/null 2>&1; echo @@E${id}=$?\n`);
    const begin = new RegExp(`@@B0${id}\\r?\\n`);
    const end = new RegExp(`@@E${id}=(\\d+)`);
    const m = await waitFor(`the guest to finish: ${command}`, () => {
      if (!this.running) throw new Error('QEMU exited');
      return end.exec(this.shellBuf);
    }, timeoutMs, 100);
    const b = begin.exec(this.shellBuf);
    const output = this.shellBuf.slice(b ? b.index + b[0].length : 0, m.index).replace(/\r/g, '');
    return { code: Number(m[1]), output };
  }

  /** Runs a command that must succeed; answers its output. */
  async sh(command: string, timeoutMs = 60_000): Promise<string> {
    const r = await this.run(command, timeoutMs);
    if (r.code !== 0) throw new Error(`guest command failed (exit ${r.code}): ${command}\n${r.output}`);
    return r.output;
  }

  private dropShell(): void {
    this.shell?.destroy();
    this.shell = undefined;
    this.queue = Promise.resolve();
  }

  /** `systemctl reboot` in the guest; waits until GRUB starts the next boot. QEMU keeps running. */
  async reboot(timeoutMs = 180_000): Promise<void> {
    const from = this.mark();
    // Through run(), so the shell is known to have read the whole command before
    // the connection is dropped: QEMU feeds the serial port a few bytes at a time
    // and loses what it has not yet passed on when the socket closes (a bare
    // write-then-close lost "systemctl reboot" and the box never rebooted).
    await this.sh('systemctl --no-block reboot');
    this.dropShell();
    await this.waitForLine(/Booting `hushbox slot/, timeoutMs, from);
  }

  /** Pulls the plug: SIGKILL to QEMU, nothing flushed. start() powers the box on again. */
  async powerCut(): Promise<void> {
    this.dropShell();
    if (this.running) this.proc!.kill('SIGKILL');
    await this.exited;
  }

  /** Orderly power-off (systemctl poweroff), with a power cut if it takes longer than timeoutMs. */
  async shutdown(timeoutMs = 120_000): Promise<void> {
    if (!this.running) return;
    try {
      await this.sh('systemctl --no-block poweroff', 30_000);
    } catch {
      // no shell: cut the power
    }
    this.dropShell();
    const timer = setTimeout(() => this.proc?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Reads the ESP out of the box's disk (works while QEMU runs: what the guest has written back). */
  private extractEsp(): string {
    const esp = join(this.dir, 'esp.img');
    rmSync(esp, { force: true });
    run('qemu-img', ['dd', '-U', '-f', 'qcow2', '-O', 'raw', 'bs=512', `skip=${this.esp.start / 512}`, `count=${this.esp.size / 512}`, `if=${this.disk}`, `of=${esp}`], 'reading the ESP');
    return esp;
  }

  /**
   * GRUB's environment (ORDER, A_OK, A_TRY, B_OK, B_TRY, EXTRA_CMDLINE). From the
   * guest while it runs and its shell answers (the guest's cache may not be on
   * the disk yet), else from the disk.
   */
  async grubenv(): Promise<Record<string, string>> {
    if (this.running && this.shell) {
      return parseGrubenv(await this.sh('grub-editenv /boot/efi/EFI/BOOT/grubenv list'));
    }
    const esp = this.extractEsp();
    const file = join(this.dir, 'grubenv');
    run('mcopy', ['-o', '-n', '-i', esp, '::/EFI/BOOT/grubenv', file], 'reading grubenv');
    return parseGrubenv(run('grub-editenv', [file, 'list'], 'reading grubenv'));
  }

  /** Sets variables in the ESP's grubenv; only while the box is off (as with the SD card in a reader). */
  async setGrubenv(vars: Record<string, string>): Promise<void> {
    if (this.running) throw new Error('setGrubenv: power the box off first (powerCut or shutdown)');
    const esp = this.extractEsp();
    const file = join(this.dir, 'grubenv');
    run('mcopy', ['-o', '-n', '-i', esp, '::/EFI/BOOT/grubenv', file], 'reading grubenv');
    run('grub-editenv', [file, 'set', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], 'editing grubenv');
    run('mcopy', ['-o', '-n', '-i', esp, file, '::/EFI/BOOT/grubenv'], 'writing grubenv');
    run('qemu-io', ['-f', 'qcow2', '-c', `write -q -s ${esp} ${this.esp.start} ${this.esp.size}`, this.disk], 'writing the ESP back');
  }

  /** Powers off (power cut) and deletes the box's disk and logs. */
  async remove(): Promise<void> {
    await this.powerCut();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
