import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fakes/temp-context.js';
import { buildrootSource, externalTree, run } from './buildroot-source.js';

// Buildroot 2026.02.3 itself checks board/buildroot: its kconfig loads each
// defconfig with the external tree, its check-package lints the tree. It
// cannot download sources here, so nothing is built.
const DEFCONFIGS = ['hushbox_rpi4_64', 'hushbox_rpi5', 'hushbox_x86_64_efi'] as const;
/** What picks the slot on each board, and the RAUC system.conf that goes with it. */
const BOOT: Record<(typeof DEFCONFIGS)[number], string[]> = {
  hushbox_rpi4_64: ['BR2_TARGET_UBOOT', 'BR2_PACKAGE_HOST_UBOOT_TOOLS_BOOT_SCRIPT', 'BR2_PACKAGE_UBOOT_TOOLS_FWPRINTENV', 'BR2_PACKAGE_HUSHBOX_RAUC_RPI4'],
  hushbox_rpi5: ['BR2_PACKAGE_RPI_FIRMWARE', 'BR2_PACKAGE_HUSHBOX_RAUC_RPI5'],
  hushbox_x86_64_efi: ['BR2_TARGET_GRUB2_X86_64_EFI', 'BR2_TARGET_GRUB2_INSTALL_TOOLS', 'BR2_PACKAGE_HUSHBOX_RAUC_X86_64'],
};

/** `BR2_X=value` and `# BR2_X is not set` lines of a defconfig or .config, by symbol. */
function symbols(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(BR2_\w+)=(.*)$/.exec(line);
    if (set) out.set(set[1]!, set[2]!);
    const unset = /^# (BR2_\w+) is not set$/.exec(line);
    if (unset) out.set(unset[1]!, 'n');
  }
  return out;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : [p];
  });
}

const isShellScript = (file: string) => readFileSync(file, 'utf8').startsWith('#!/bin/sh');

describe('board/buildroot, checked by Buildroot 2026.02.3', () => {
  const tmp = tempDir('hushbox-buildroot-');
  let br: string;
  const configs = new Map<string, string>();

  beforeAll(async () => {
    br = await buildrootSource();
  }, 180_000);
  afterAll(() => tmp.cleanup());

  const make = (out: string, ...targets: string[]) => run('make', ['-s', '-C', br, `BR2_EXTERNAL=${externalTree}`, `O=${out}`, ...targets]);

  for (const name of DEFCONFIGS) {
    it(`${name}_defconfig loads and keeps every symbol it sets (none dropped for an unknown name or an unmet dependency)`, async () => {
      const out = join(tmp.dir, name);
      const r = await make(out, `${name}_defconfig`);
      expect(r.status, r.stderr + r.stdout).toBe(0);
      const config = readFileSync(join(out, '.config'), 'utf8');
      configs.set(name, config);
      const wanted = symbols(readFileSync(join(externalTree, 'configs', `${name}_defconfig`), 'utf8'));
      const got = symbols(config);
      expect(wanted.size).toBeGreaterThan(40);
      const dropped = [...wanted].filter(([sym, value]) => got.get(sym) !== value && !(value === 'n' && !got.has(sym)));
      expect(dropped.map(([sym, value]) => `${sym}=${value} (got ${got.get(sym) ?? 'nothing'})`)).toEqual([]);
      // what the box is made of, whatever the board
      for (const sym of ['BR2_INIT_SYSTEMD', 'BR2_PACKAGE_HUSHBOX', 'BR2_PACKAGE_NODEJS', 'BR2_PACKAGE_MOSQUITTO', 'BR2_PACKAGE_AVAHI_DAEMON', 'BR2_PACKAGE_RAUC', 'BR2_PACKAGE_ALSA_LIB', 'BR2_PACKAGE_ALSA_UTILS', 'BR2_PACKAGE_LIBSOXR', 'BR2_PACKAGE_LIBSNDFILE', 'BR2_PACKAGE_FLAC']) {
        expect(got.get(sym), sym).toBe('y');
      }
      for (const sym of BOOT[name]) expect(got.get(sym), sym).toBe('y');
      expect(got.get('BR2_TARGET_GENERIC_GETTY')).toBe('n');
      expect(got.get('BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW')).toBe('n');
      expect(got.get('BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES')).toContain('$(BR2_EXTERNAL_HUSHBOX_PATH)/kernel/hushbox.fragment');
    }, 300_000);
  }

  it('every file and folder the defconfigs name exists (external paths and Buildroot-relative ones)', () => {
    expect(configs.size).toBe(DEFCONFIGS.length);
    for (const [name, config] of configs) {
      const named = symbols(readFileSync(join(externalTree, 'configs', `${name}_defconfig`), 'utf8'));
      for (const [sym, value] of symbols(config)) {
        if (!named.has(sym)) continue;
        if (!/(FILE|FILES|SCRIPT|OVERLAY|PATCH_DIR|SOURCE|KEYRING)$/.test(sym) || !value.startsWith('"') || value === '""') continue;
        for (const path of value.slice(1, -1).split(/\s+/)) {
          const file = path.replace('$(BR2_EXTERNAL_HUSHBOX_PATH)', externalTree);
          expect(existsSync(file.startsWith('/') ? file : join(br, file)), `${name}: ${sym} names ${path}`).toBe(true);
        }
      }
    }
  });

  // Buildroot parses every package's makefile for this (about half a minute), so for one board.
  it('the hushbox package resolves: its dependencies, the board\'s RAUC system.conf and the version from git', async () => {
    const expected = { hushbox_rpi5: 'system-rpi5.conf' };
    for (const name of ['hushbox_rpi5'] as const) {
      const r = await make(join(tmp.dir, name), 'printvars', 'VARS=HUSHBOX_RAUC_SYSTEM_CONF HUSHBOX_FINAL_DEPENDENCIES HUSHBOX_VERSION', 'QUOTED_VARS=');
      expect(r.status, r.stderr).toBe(0);
      const vars = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(vars.HUSHBOX_RAUC_SYSTEM_CONF).toMatch(new RegExp(`/ota/${expected[name]}$`));
      expect(existsSync(vars.HUSHBOX_RAUC_SYSTEM_CONF!)).toBe(true);
      expect(vars.HUSHBOX_FINAL_DEPENDENCIES!.split(' ')).toEqual(expect.arrayContaining(['alsa-lib', 'libsndfile', 'libsoxr', 'nodejs', 'host-nodejs', 'host-pkgconf']));
      expect(vars.HUSHBOX_VERSION).toMatch(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/);
    }
  }, 600_000);

  it('utils/check-package passes on every file of the external tree', async () => {
    const all = files(externalTree).map((f) => relative(externalTree, f));
    // Debian's python3, which has python3-magic (a python3 earlier on PATH may lack it).
    const r = await run('/usr/bin/python3', [join(br, 'utils', 'check-package'), '-b', ...all], { cwd: externalTree });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr + r.stdout).toMatch(/\b0 warnings generated/);
    // it did look at the package, the defconfigs and the scripts
    const processed = /(\d+) lines processed/.exec(r.stderr + r.stdout);
    expect(Number(processed?.[1])).toBeGreaterThan(300);
  }, 300_000);

  it('shellcheck passes on every script in board/', async () => {
    const scripts = files(join(externalTree)).filter((f) => statSync(f).size > 0 && isShellScript(f));
    expect(scripts.length).toBeGreaterThanOrEqual(12);
    const r = await run('shellcheck', ['--shell=sh', ...scripts]);
    expect(r.status, r.stdout).toBe(0);
  }, 300_000);
});
