// The engine on the Raspberry Pi's CPU: built for aarch64 (Cortex-A72) with
// Debian's cross compiler and arm64 libraries (native/cmake/
// aarch64-linux-gnu.cmake), then run under user-mode QEMU: the C++ unit
// tests, and `process` on a WAV compared with the x86-64 build's output. The
// seccomp checks, which user-mode QEMU cannot run, run in a short boot of
// Debian's arm64 kernel under qemu-system-aarch64 (-M virt, Cortex-A72), so
// every native test has run on aarch64. QEMU's speed says nothing about a
// real Pi (see the README).
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultEngineBinary, packageRoot } from '../../src/paths.js';
import { decodeWav, encodeWav } from '../fakes/wav.js';

const buildDir = process.env.HUSHBOX_AARCH64_BUILD_DIR ?? join(packageRoot, 'build', 'native-aarch64');
const toolchain = join(packageRoot, 'native', 'cmake', 'aarch64-linux-gnu.cmake');
/** As in the toolchain file: /lib first, so the cross toolchain's libc is not mixed with libc6:arm64. */
const QEMU = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', '-E', 'LD_LIBRARY_PATH=/lib'];
/** The seccomp checks: user-mode QEMU cannot install a filter for its guest (seccomp() fails in the child). */
const SECCOMP_TESTS = [
  'realtime: Chain::process makes no system call (seccomp allows only exit)',
  'realtime: NoiseSuppressor::process allocates nothing, takes no lock and makes no system call',
];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}
function run(cmd: string, args: string[], cwd = packageRoot): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A folder outside the clone for what is fetched once per machine. */
function cacheDir(name: string): string {
  for (const dir of [process.env.HUSHBOX_CACHE_DIR, '/var/cache', tmpdir()]) {
    if (!dir) continue;
    try {
      mkdirSync(join(dir, name), { recursive: true });
      accessSync(join(dir, name), constants.W_OK);
      return join(dir, name);
    } catch {
      // next
    }
  }
  throw new Error(`no writable cache folder for ${name} (set HUSHBOX_CACHE_DIR)`);
}

/**
 * Debian's arm64 kernel (linux-image-arm64's current version), fetched with
 * apt-get download (arm64 is a foreign architecture here, see
 * scripts/prepare.mjs) and cached by its package name; only the kernel is
 * unpacked from it.
 */
async function arm64Kernel(): Promise<string> {
  const deps = await run('apt-cache', ['depends', 'linux-image-arm64:arm64']);
  const name = /Depends: (linux-image-[0-9][^:\s]*-arm64)/.exec(deps.stdout)?.[1];
  if (!name) throw new Error(`apt-cache knows no linux-image-arm64:arm64 (dpkg --add-architecture arm64 && apt-get update):\n${deps.stdout}${deps.stderr}`);
  const dir = join(cacheDir('hushbox-arm64-kernel'), name);
  const kernel = join(dir, 'vmlinuz');
  if (existsSync(kernel)) return kernel;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const dl = await run('apt-get', ['download', `${name}:arm64`], partial);
  if (dl.status !== 0) throw new Error(`apt-get download ${name}:arm64 failed:\n${dl.stderr}`);
  const deb = readdirSync(partial).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${name}:arm64 left no .deb`);
  const x = await run('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -xO "./boot/vmlinuz-\${2#linux-image-}" > vmlinuz && rm "$1"`, 'sh', deb, name], partial);
  if (x.status !== 0) throw new Error(`cannot unpack the kernel from ${deb}: ${x.stderr}`);
  try {
    renameSync(partial, dir);
  } catch {
    rmSync(partial, { recursive: true, force: true });
  }
  return kernel;
}

/** ELF e_machine: 0xb7 is AArch64, 0x3e x86-64. */
const elfMachine = (file: string) => readFileSync(file).readUInt16LE(18);

/** Two seconds of a voice-like mic (harmonics of 150 Hz with vibrato, 50 Hz hum, seeded noise) and a guitar-like tone. */
function testSignal(rate: number): Float64Array[] {
  const n = 2 * rate;
  let seed = 12345;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const mic = new Float64Array(n);
  const inst = new Float64Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * 150 * (1 + 0.02 * Math.sin(2 * Math.PI * 5 * t))) / rate;
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(h * phase) / h;
    const syllable = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    mic[i] = 0.15 * syllable * v + 0.05 * Math.sin(2 * Math.PI * 50 * t) + 0.02 * noise();
    inst[i] = 0.2 * Math.sin(2 * Math.PI * 196 * t) * Math.exp(-((t % 0.5) * 4));
  }
  return [mic, inst];
}

describe('the engine built for aarch64 (Raspberry Pi 4/5), run under qemu-aarch64', () => {
  beforeAll(async () => {
    // Configured every time (quick once done), so these options always apply.
    const c = await run('cmake', ['-S', 'native', '-B', buildDir, '-G', 'Ninja', `-DCMAKE_TOOLCHAIN_FILE=${toolchain}`,
      // the addon too, against Node's headers without cmake-js, as the Buildroot package builds it
      '-DHUSHBOX_NODE_INCLUDE_DIR=/usr/include/node',
      // as the images build it by default: no JACK (the jack backend then says it is missing)
      '-DHUSHBOX_REQUIRE_JACK=OFF']);
    if (c.status !== 0) throw new Error(`cmake configure for aarch64 failed:\n${c.stdout}\n${c.stderr}`);
    const b = await run('cmake', ['--build', buildDir]);
    if (b.status !== 0) throw new Error(`aarch64 build failed:\n${b.stdout}\n${b.stderr}`);
  }, 1_200_000);

  it('builds the engine, the addon and the native tests for aarch64 with warnings as errors', () => {
    for (const file of ['hushbox-engine', 'hushbox-native-tests', 'Release/hushbox.node']) {
      expect(elfMachine(join(buildDir, file)), file).toBe(0xb7);
    }
    expect(elfMachine(defaultEngineBinary())).toBe(0x3e);
  });

  it('the DSP\'s vector code compiles to NEON: the real FFT, the noise suppressor and the tonal remover\'s decimator use 4-lane float instructions', async () => {
    const r = await run('aarch64-linux-gnu-objdump', ['-d', '--no-show-raw-insn', join(buildDir, 'libhushbox_dsp.a')]);
    expect(r.status, r.stderr).toBe(0);
    // per object file: how many instructions work on four floats in a q register (v0.4s ...)
    const perObject = new Map<string, number>();
    let current = '';
    for (const line of r.stdout.split('\n')) {
      const obj = /^(\S+\.o):\s+file format/.exec(line);
      if (obj) current = obj[1]!;
      else if (/\b(fmla|fmul|fadd|fsub|fmls)\s+v\d+\.4s/.test(line)) perObject.set(current, (perObject.get(current) ?? 0) + 1);
    }
    const count = (name: string) => [...perObject].filter(([o]) => o.includes(name)).reduce((a, [, n]) => a + n, 0);
    expect(count('real_fft')).toBeGreaterThan(100);
    expect(count('noise_suppressor')).toBeGreaterThan(20);
    // The decimator's filter (its only vector loop since the analysis was cut into steps: 3 such instructions with Debian's g++ 12).
    expect(count('tonal_remover')).toBeGreaterThanOrEqual(2);
  });

  it('passes every native test under qemu-aarch64 but the two seccomp checks, which user-mode emulation cannot run', async () => {
    const r = await run(QEMU[0]!, [...QEMU.slice(1), join(buildDir, 'hushbox-native-tests')], buildDir);
    const lines = r.stdout.split('\n');
    const failed = lines.filter((l) => l.startsWith('FAIL ')).map((l) => l.slice(5).trim());
    const passed = lines.filter((l) => l.startsWith('ok ')).length;
    expect(failed.sort(), r.stdout.slice(-4000) + r.stderr.slice(-2000)).toEqual([...SECCOMP_TESTS].sort());
    expect(passed).toBeGreaterThanOrEqual(70);
    expect(r.stdout).toMatch(new RegExp(`${passed} passed, ${SECCOMP_TESTS.length} failed`));
  }, 1_200_000);

  it('passes the real-time checks, seccomp ones included, in Debian\'s arm64 kernel under qemu-system-aarch64', async () => {
    const outDir = join(packageRoot, 'build', 'qemu-arm64');
    mkdirSync(outDir, { recursive: true });
    const kernel = await arm64Kernel();
    const initramfs = await run('sh', [join(packageRoot, 'test/system/qemu-arm64/build-initramfs.sh'), outDir, join(buildDir, 'hushbox-native-tests')]);
    expect(initramfs.status, initramfs.stderr).toBe(0);
    const vm = await run('timeout', ['600', 'qemu-system-aarch64', '-M', 'virt', '-cpu', 'cortex-a72', '-m', '512', '-smp', '2',
      '-nographic', '-no-reboot', '-kernel', kernel, '-initrd', initramfs.stdout.trim().split('\n').pop()!,
      '-append', 'console=ttyAMA0 quiet panic=-1 hushbox_filter=realtime:']);
    const console = vm.stdout + vm.stderr;
    writeFileSync(join(outDir, 'console.log'), console);
    expect(console, console.slice(-3000)).toMatch(/HUSHBOX-ARM64-DONE status=0/);
    for (const name of SECCOMP_TESTS) expect(console).toContain(`ok   ${name}`);
    expect(console).toMatch(/(\d+) passed, 0 failed/);
    expect(Number(/(\d+) passed, 0 failed/.exec(console)![1])).toBeGreaterThanOrEqual(4);
  }, 900_000);

  it('`process` on a WAV gives the x86-64 output within 1e-5 (-100 dBFS) per sample, the error 110 dB under the signal (not bit-exact: aarch64 fuses multiply-adds)', async () => {
    const dir = join(packageRoot, 'build', 'arm64-process');
    mkdirSync(dir, { recursive: true });
    const rate = 48000;
    const input = join(dir, 'in.wav');
    writeFileSync(input, encodeWav({ rate, format: 'float32', channels: testSignal(rate) }));
    const x86 = join(dir, 'out-x86_64.wav');
    const arm = join(dir, 'out-aarch64.wav');
    const a = await run(defaultEngineBinary(), ['process', input, x86]);
    expect(a.status, a.stderr).toBe(0);
    const b = await run(QEMU[0]!, [...QEMU.slice(1), join(buildDir, 'hushbox-engine'), 'process', input, arm]);
    expect(b.status, b.stderr).toBe(0);
    const ref = decodeWav(readFileSync(x86));
    const got = decodeWav(readFileSync(arm));
    expect(got.channels.length).toBe(ref.channels.length);
    let maxDiff = 0;
    let signal = 0;
    let error = 0;
    for (let c = 0; c < ref.channels.length; c++) {
      const x = ref.channels[c]!;
      const y = got.channels[c]!;
      expect(y.length).toBe(x.length);
      for (let i = 0; i < x.length; i++) {
        const d = Math.abs(x[i]! - y[i]!);
        maxDiff = Math.max(maxDiff, d);
        signal += x[i]! * x[i]!;
        error += d * d;
      }
    }
    // the chain did something: the output is not silence
    expect(signal / (ref.channels.length * ref.channels[0]!.length)).toBeGreaterThan(1e-4);
    const snrDb = 10 * Math.log10(signal / Math.max(error, 1e-30));
    writeFileSync(join(dir, 'result.json'), JSON.stringify({ maxDiff, snrDb }, null, 2));
    // measured: 2.7e-7 and 131 dB (a few float32 roundings apart)
    expect(maxDiff).toBeLessThan(1e-5);
    expect(snrDb).toBeGreaterThan(110);
  }, 600_000);
});
