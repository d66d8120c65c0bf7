import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { tempDir } from '../fakes/temp-context.js';
import { externalTree, run } from './buildroot-source.js';

// The boards' post-build and post-image scripts, run as Buildroot runs them
// but on stand-ins for what Buildroot would have built (kernel, firmware,
// U-Boot, GRUB: files of the right names; the root filesystem: a real ext4
// image). genimage, mtools, rauc and grub-editenv are the real ones, so the
// partition tables, the boot partitions' files, GRUB's environment block and
// the signed update bundles are what a real build would make of them.
const keyring = join(packageRoot, 'ota', 'dev-keys', 'keyring.pem');
const boards = join(externalTree, 'board');

interface Part {
  start: number;
  size: number;
  type: string;
  name?: string;
  bootable?: boolean;
}
function partitions(img: string): { label: string; partitions: Part[] } {
  return (JSON.parse(execFileSync('sfdisk', ['-J', img], { encoding: 'utf8' })) as { partitiontable: { label: string; partitions: Part[] } }).partitiontable;
}
const fatFiles = (img: string, dir = '::') =>
  execFileSync('mdir', ['-b', '-i', img, dir], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^::\/?/, '').replace(/^.*\//, ''));
const fatRead = (img: string, file: string) => execFileSync('mtype', ['-i', img, `::${file}`], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });

describe('board post-build and post-image scripts, on stand-ins for Buildroot\'s output', () => {
  const tmp = tempDir('hushbox-board-images-');
  afterAll(() => tmp.cleanup());

  /** images/ as Buildroot leaves it before post-image: the given files plus a real rootfs.ext4 with a kernel stand-in. */
  function images(board: string, files: Record<string, string>, kernel: string): { dir: string; build: string } {
    const dir = join(tmp.dir, board, 'images');
    const build = join(tmp.dir, board, 'build');
    const root = join(tmp.dir, board, 'rootfs');
    mkdirSync(build, { recursive: true });
    mkdirSync(join(root, 'boot'), { recursive: true });
    writeFileSync(join(root, 'boot', kernel), randomBytes(64 * 1024));
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    execFileSync('mkfs.ext4', ['-q', '-L', 'hushbox-root', '-d', root, join(dir, 'rootfs.ext4'), '16M']);
    return { dir, build };
  }

  async function postImage(board: string, dir: string, build: string) {
    const r = await run(join(boards, board, 'post-image.sh'), [], {
      env: { ...process.env, BINARIES_DIR: dir, BUILD_DIR: build, HUSHBOX_RELEASE_VERSION: '1.2.3' },
    });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    return r;
  }

  function bundleInfo(file: string) {
    return JSON.parse(execFileSync('rauc', ['--keyring', keyring, 'info', '--output-format=json', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as {
      compatible: string;
      version: string;
      images: Record<string, { filename: string }>[];
    };
  }
  const imageClasses = (info: ReturnType<typeof bundleInfo>) => info.images.flatMap((i) => Object.keys(i)).sort();

  it('Raspberry Pi 4: an MBR card of boot (firmware, U-Boot, boot.scr), rootfs A and B, data; a rootfs-only bundle', async () => {
    const { dir, build } = images('rpi4-64', {
      'bcm2711-rpi-4-b.dtb': 'dtb', 'bcm2711-rpi-400.dtb': 'dtb', 'bcm2711-rpi-cm4.dtb': 'dtb',
      'rpi-firmware/start4.elf': 'elf', 'rpi-firmware/fixup4.dat': 'dat',
      'rpi-firmware/config.txt': readFileSync(join(boards, 'rpi4-64', 'config.txt'), 'utf8'),
      'u-boot.bin': 'u-boot', 'boot.scr': 'script',
    }, 'Image');
    await postImage('rpi4-64', dir, build);
    const table = partitions(join(dir, 'sdcard.img'));
    expect(table.label).toBe('dos');
    expect(table.partitions.map((p) => p.type)).toEqual(['c', '83', '83', '83']);
    expect(table.partitions[0]!.bootable).toBe(true);
    for (const p of table.partitions) expect(p.start % 2048, 'aligned to 1 MiB').toBe(0);
    expect(table.partitions[1]!.size).toBe(table.partitions[2]!.size);
    expect(table.partitions[1]!.size * 512).toBeGreaterThanOrEqual(1024 * 1024 * 1024);
    expect(fatFiles(join(dir, 'boot.vfat')).sort()).toEqual(
      ['bcm2711-rpi-4-b.dtb', 'bcm2711-rpi-400.dtb', 'bcm2711-rpi-cm4.dtb', 'boot.scr', 'config.txt', 'fixup4.dat', 'start4.elf', 'u-boot.bin'],
    );
    expect(fatRead(join(dir, 'boot.vfat'), 'config.txt')).toMatch(/^kernel=u-boot\.bin$/m);
    expect(execFileSync('e2label', [join(dir, 'data.ext4')], { encoding: 'utf8' }).trim()).toBe('hushbox-data');
    const info = bundleInfo(join(dir, 'hushbox-rpi4-1.2.3.raucb'));
    expect([info.compatible, info.version]).toEqual(['hushbox-rpi4', '1.2.3']);
    expect(imageClasses(info)).toEqual(['rootfs']);
  }, 180_000);

  it('Raspberry Pi 5: a GPT card of config (autoboot.txt), boot A and B naming their rootfs, rootfs A and B, data; the bundle carries boot and rootfs', async () => {
    const { dir, build } = images('rpi5', {
      Image: 'kernel', 'bcm2712-rpi-5-b.dtb': 'dtb', 'bcm2712d0-rpi-5-b.dtb': 'dtb', 'bcm2712-rpi-500.dtb': 'dtb',
      'rpi-firmware/config.txt': readFileSync(join(boards, 'rpi5', 'config.txt'), 'utf8'),
      'rpi-firmware/cmdline.txt': readFileSync(join(boards, 'rpi5', 'cmdline.txt'), 'utf8'),
    }, 'Image');
    await postImage('rpi5', dir, build);
    const table = partitions(join(dir, 'sdcard.img'));
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p) => p.name)).toEqual(['config', 'boot-a', 'boot-b', 'rootfs-a', 'rootfs-b', 'data']);
    // autoboot.txt's boot_partition numbers are these partitions' numbers: 2 = boot-a, 3 = boot-b
    const autoboot = fatRead(join(dir, 'config.vfat'), 'autoboot.txt');
    expect(autoboot).toMatch(/\[all\]\s+tryboot_a_b=1\s+boot_partition=2\s+\[tryboot\]\s+boot_partition=3/);
    expect(fatRead(join(dir, 'boot.vfat'), 'cmdline.txt')).toMatch(/root=PARTLABEL=rootfs-a .*rauc\.slot=A/);
    expect(fatRead(join(dir, 'boot-b.vfat'), 'cmdline.txt')).toMatch(/root=PARTLABEL=rootfs-b .*rauc\.slot=B/);
    for (const img of ['boot.vfat', 'boot-b.vfat']) {
      expect(fatFiles(join(dir, img)).sort()).toEqual(['Image', 'bcm2712-rpi-5-b.dtb', 'bcm2712-rpi-500.dtb', 'bcm2712d0-rpi-5-b.dtb', 'cmdline.txt', 'config.txt']);
    }
    const info = bundleInfo(join(dir, 'hushbox-rpi5-1.2.3.raucb'));
    expect(info.compatible).toBe('hushbox-rpi5');
    expect(imageClasses(info)).toEqual(['boot', 'rootfs']);
    // the box's own RAUC configuration accepts it (slot classes match the bundle's images)
    const r = spawnSync('rauc', ['--conf', join(packageRoot, 'ota', 'system-rpi5.conf'), '--keyring', keyring, 'info', join(dir, 'hushbox-rpi5-1.2.3.raucb')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }, 180_000);

  it('x86-64 EFI: a GPT disk of efi (GRUB, grub.cfg, a grubenv GRUB reads), rootfs A and B, data; a rootfs-only bundle', async () => {
    const { dir, build } = images('x86_64-efi', { 'efi-part/EFI/BOOT/bootx64.efi': 'grub' }, 'bzImage');
    await postImage('x86_64-efi', dir, build);
    const table = partitions(join(dir, 'disk.img'));
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p) => p.name)).toEqual(['efi', 'rootfs-a', 'rootfs-b', 'data']);
    expect(table.partitions[0]!.type).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
    expect(fatFiles(join(dir, 'efi.vfat'), '::EFI/BOOT').sort()).toEqual(['bootx64.efi', 'grub.cfg', 'grubenv']);
    const env = execFileSync('grub-editenv', [join(dir, 'efi-part', 'EFI', 'BOOT', 'grubenv'), 'list'], { encoding: 'utf8' });
    expect(env.trim().split('\n').sort()).toEqual(['A_OK=1', 'A_TRY=0', 'B_OK=1', 'B_TRY=0', 'ORDER=A B']);
    expect(statSync(join(dir, 'efi-part', 'EFI', 'BOOT', 'grubenv')).size).toBe(1024);
    const info = bundleInfo(join(dir, 'hushbox-x86_64-1.2.3.raucb'));
    expect(info.compatible).toBe('hushbox-x86_64');
    expect(imageClasses(info)).toEqual(['rootfs']);
  }, 180_000);

  it('post-build stamps the version into os-release, mounts the data partition, masks every getty, adds the board\'s boot pieces', () => {
    for (const [board, extra] of [
      ['rpi4-64', ['etc/fw_env.config', 'boot/firmware']],
      ['rpi5', ['usr/libexec/hushbox/rauc-tryboot', 'usr/libexec/hushbox/rauc-post-install']],
      ['x86_64-efi', ['boot/efi']],
    ] as const) {
      const target = join(tmp.dir, `target-${board}`);
      mkdirSync(join(target, 'usr', 'lib'), { recursive: true });
      mkdirSync(join(target, 'etc', 'systemd', 'system'), { recursive: true });
      writeFileSync(join(target, 'etc', 'fstab'), '/dev/root / auto ro 0 1\n');
      for (let i = 0; i < 2; i++) {
        execFileSync(join(boards, board, 'post-build.sh'), [target], { env: { ...process.env, HUSHBOX_RELEASE_VERSION: '1.2.3' } });
      }
      const osRelease = readFileSync(join(target, 'etc', 'os-release'), 'utf8');
      expect(osRelease).toContain('VERSION_ID="1.2.3"');
      expect(osRelease).toContain(`IMAGE_ID="hushbox-${board}"`);
      const fstab = readFileSync(join(target, 'etc', 'fstab'), 'utf8');
      expect(fstab.match(/^LABEL=hushbox-data \/data ext4 .*x-systemd\.growfs/gm), 'once, however often it runs').toHaveLength(1);
      expect(fstab).toMatch(/^\/dev\/root \/ auto ro /m);
      for (const unit of ['getty.target', 'getty@.service', 'serial-getty@.service', 'console-getty.service']) {
        const link = join(target, 'etc', 'systemd', 'system', unit);
        expect(lstatSync(link).isSymbolicLink() && readlinkSync(link), unit).toBe('/dev/null');
      }
      for (const path of extra) expect(existsSync(join(target, path)), `${board}: ${path}`).toBe(true);
    }
  }, 120_000);

  it('without HUSHBOX_RELEASE_VERSION the version is git describe --dirty, in the form RAUC bundles take', () => {
    const env = { ...process.env };
    delete env.HUSHBOX_RELEASE_VERSION;
    const v = execFileSync(join(externalTree, 'scripts', 'version.sh'), { env, encoding: 'utf8' }).trim();
    const head = execFileSync('git', ['-C', packageRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(v).toMatch(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/);
    expect(v).toContain(head.slice(0, 7));
  });
});
