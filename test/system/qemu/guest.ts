// Boots Debian's PREEMPT_RT kernel under QEMU (software emulation) from the
// initramfs build-initramfs.sh makes, and collects the "@@HB <name> <json>"
// lines init.sh prints on the serial console. Shared by the system tests.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultEngineBinary, nativeBuildDir, packageRoot } from '../../../src/paths.js';

export const guardLibrary = join(nativeBuildDir, 'Release', 'libhushbox_rt_guard.so');
export type Json = Record<string, unknown>;

/** Builds OUT_DIR/initramfs.cpio.gz; answers the kernel image to boot. */
export function buildInitramfs(outDir: string): string {
  const r = spawnSync('sh', [join(packageRoot, 'test/system/qemu/build-initramfs.sh'), outDir, defaultEngineBinary(), guardLibrary], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cannot build the QEMU initramfs: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout.trim().split('\n').pop()!;
}

/** Boots the guest until it powers off (or the timeout); the console is kept in OUT_DIR/console[-NAME].log. */
export async function boot(outDir: string, kernel: string, timeoutMs: number, scenario = ''): Promise<Map<string, Json>> {
  const append = `console=ttyS0 quiet panic=-1${scenario ? ` hbtest=${scenario}` : ''}`;
  const qemu = spawn(
    'qemu-system-x86_64',
    ['-accel', 'tcg', '-m', '512', '-smp', '2', '-nographic', '-no-reboot', '-kernel', kernel,
      '-initrd', join(outDir, 'initramfs.cpio.gz'), '-append', append],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  qemu.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  qemu.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const timer = setTimeout(() => qemu.kill('SIGKILL'), timeoutMs);
  await new Promise<void>((resolve, reject) => {
    qemu.once('error', (e) => reject(new Error(`cannot start qemu-system-x86_64: ${e.message}`)));
    qemu.once('exit', () => resolve());
  });
  clearTimeout(timer);
  const log = join(outDir, scenario ? `console-${scenario}.log` : 'console.log');
  writeFileSync(log, out);
  const results = new Map<string, Json>();
  for (const line of out.split(/\r?\n/)) {
    const m = /@@HB (\w+) (\{.*\})\s*$/.exec(line);
    if (m) results.set(m[1]!, JSON.parse(m[2]!) as Json);
  }
  if (!results.has('done')) throw new Error(`the guest did not finish; console tail (all of it in ${log}):\n${out.slice(-3000)}`);
  return results;
}
