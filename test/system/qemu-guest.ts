// Boots Debian's PREEMPT_RT kernel under QEMU (software emulation) from an
// initramfs built by test/system/qemu/build-initramfs.sh, and reads back the
// "@@HB <name> <json>" lines its /init prints on the serial console.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

export interface GuestOptions {
  outDir: string;
  engine: string;
  guard?: string;
  /** Kernel modules to carry (with their dependencies). */
  modules: string[];
  /** The /init, a file in test/system/qemu/. */
  init: string;
  /** More programs to carry, with their libraries. */
  bins?: string[];
  /** Appended to the kernel command line. */
  append?: string;
  /** The accelerator option (default `tcg`), e.g. `tcg,thread=single` for -icount. */
  accel?: string;
  /** More QEMU options (e.g. `-icount`). */
  qemuArgs?: string[];
  /** Virtual CPUs (default 2). */
  smp?: number;
  timeoutMs: number;
}

/** Build the initramfs, boot it, and answer each reported result by name (the console is kept in outDir). */
export async function runGuest(o: GuestOptions): Promise<Map<string, Record<string, unknown>>> {
  const r = spawnSync('sh', [join(packageRoot, 'test/system/qemu/build-initramfs.sh'), o.outDir, o.engine, o.guard ?? ''], {
    encoding: 'utf8',
    env: { ...process.env, HB_MODULES: o.modules.join(' '), HB_INIT: o.init, HB_BINS: (o.bins ?? []).join(' ') },
  });
  if (r.status !== 0) throw new Error(`cannot build the QEMU initramfs: ${r.stderr.trim() || r.stdout.trim()}`);
  const kernel = r.stdout.trim().split('\n').pop()!;
  const qemu = spawn(
    'qemu-system-x86_64',
    ['-accel', o.accel ?? 'tcg', ...(o.qemuArgs ?? []), '-m', '512', '-smp', String(o.smp ?? 2), '-nographic', '-no-reboot', '-kernel', kernel,
      '-initrd', join(o.outDir, 'initramfs.cpio.gz'), '-append', `console=ttyS0 quiet panic=-1 ${o.append ?? ''}`.trim()],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  qemu.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  qemu.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const timer = setTimeout(() => qemu.kill('SIGKILL'), o.timeoutMs);
  await new Promise<void>((resolve, reject) => {
    qemu.once('error', (e) => reject(new Error(`cannot start qemu-system-x86_64: ${e.message}`)));
    qemu.once('exit', () => resolve());
  });
  clearTimeout(timer);
  writeFileSync(join(o.outDir, 'console.log'), out);
  const results = new Map<string, Record<string, unknown>>();
  for (const line of out.split(/\r?\n/)) {
    const m = /@@HB (\w+) (\{.*\})\s*$/.exec(line);
    if (m) results.set(m[1]!, JSON.parse(m[2]!) as Record<string, unknown>);
  }
  if (!results.has('done')) throw new Error(`the guest did not finish; console tail:\n${out.slice(-3000)}`);
  return results;
}
