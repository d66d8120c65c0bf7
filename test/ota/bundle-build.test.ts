import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fakes/temp-context.js';
import { buildBundle, makeKeys, makeRootfs, otaDir, type Keys } from '../fakes/rauc-bundles.js';

// The real rauc (Debian's 1.8) and squashfs-tools: nothing here is mocked.
describe('ota/build-bundle.sh and ota/make-keys.sh', () => {
  const tmp = tempDir('hushbox-ota-build-');
  let keys: Keys;
  let image: string;

  beforeAll(() => {
    keys = makeKeys(join(tmp.dir, 'keys'));
    image = makeRootfs(tmp.dir);
  });
  afterAll(() => tmp.cleanup());

  const build = (args: string[]) => spawnSync(join(otaDir, 'build-bundle.sh'), args, { encoding: 'utf8' });

  it('makes development keys labelled as such, the signing certificate chained to the CA (ECDSA P-256)', () => {
    const subject = execFileSync('openssl', ['x509', '-in', keys.cert, '-noout', '-subject', '-issuer'], { encoding: 'utf8' });
    expect(subject).toMatch(/subject=.*DEVELOPMENT ONLY/);
    expect(subject).toMatch(/issuer=.*DEVELOPMENT ONLY CA/);
    expect(execFileSync('openssl', ['x509', '-in', keys.cert, '-noout', '-text'], { encoding: 'utf8' })).toContain('prime256v1');
    expect(execFileSync('openssl', ['verify', '-CAfile', keys.keyring, keys.cert], { encoding: 'utf8' })).toContain(': OK');
    // never overwrites keys that exist
    expect(spawnSync(join(otaDir, 'make-keys.sh'), [keys.dir]).status).not.toBe(0);
  });

  it('builds a verity bundle that rauc verifies against the keyring, with its version, compatible and hook', () => {
    const out = buildBundle({ image, version: '1.2.3', out: join(tmp.dir, 'good.raucb'), keys, keyring: keys.keyring });
    const info = JSON.parse(
      execFileSync('rauc', ['--keyring', keys.keyring, 'info', '--output-format=json', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    ) as { compatible: string; version: string; images: Record<string, { filename: string; hooks: string[] }>[] };
    expect(info.compatible).toBe('hushbox-x86_64');
    expect(info.version).toBe('1.2.3');
    expect(info.images[0]!.rootfs!.filename).toBe('rootfs.ext4');
    expect(info.images[0]!.rootfs!.hooks).toEqual(['post-install']);
    const text = execFileSync('rauc', ['--keyring', keys.keyring, 'info', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(text).toMatch(/Bundle Format:\s+verity/);
  });

  it('signs with the committed DEVELOPMENT key when given none, and the committed development keyring verifies it', () => {
    const out = join(tmp.dir, 'dev.raucb');
    const r = build(['--image', image, '--version', '0.9.0', '--out', out, '--keyring', join(otaDir, 'dev-keys', 'keyring.pem')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/WARNING: signing with the DEVELOPMENT key/);
    const v = spawnSync('rauc', ['--keyring', join(otaDir, 'dev-keys', 'keyring.pem'), 'info', out], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/Verified inline signature by '.*DEVELOPMENT ONLY/);
    // and a box with a keyring of its own refuses it
    expect(spawnSync('rauc', ['--keyring', keys.keyring, 'info', out]).status).not.toBe(0);
  });

  it('builds for the Pi with --compatible hushbox-rpi4', () => {
    const out = buildBundle({ image, version: '1.2.3', out: join(tmp.dir, 'pi.raucb'), keys, compatible: 'hushbox-rpi4' });
    const info = execFileSync('rauc', ['--keyring', keys.keyring, 'info', '--output-format=json', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(JSON.parse(info).compatible).toBe('hushbox-rpi4');
  });

  it('builds for the Pi 5 with its boot partition image as a second image (--boot), and refuses a Pi 5 bundle without one', () => {
    const boot = join(tmp.dir, 'boot.vfat');
    execFileSync('mkfs.vfat', ['-C', boot, '8192'], { stdio: 'ignore' });
    const out = buildBundle({ image, version: '1.2.3', out: join(tmp.dir, 'pi5.raucb'), keys, compatible: 'hushbox-rpi5', boot });
    const info = JSON.parse(
      execFileSync('rauc', ['--keyring', keys.keyring, 'info', '--output-format=json', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    ) as { compatible: string; images: Record<string, { filename: string }>[] };
    expect(info.compatible).toBe('hushbox-rpi5');
    const files = Object.fromEntries(info.images.flatMap((i) => Object.entries(i).map(([cls, v]) => [cls, v.filename])));
    expect(files).toEqual({ rootfs: 'rootfs.ext4', boot: 'boot.vfat' });
    const signing = ['--cert', keys.cert, '--key', keys.key];
    const none = build(['--image', image, '--version', '1.0.0', '--out', join(tmp.dir, 'x.raucb'), '--compatible', 'hushbox-rpi5', ...signing]);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/hushbox-rpi5 bundle needs --boot/);
    const extra = build(['--image', image, '--version', '1.0.0', '--out', join(tmp.dir, 'y.raucb'), '--boot', boot, ...signing]);
    expect(extra.stderr).toMatch(/hushbox-x86_64 box has no boot slot/);
  });

  it('names what was wrong: missing image, bad version, missing key, key of another certificate, unknown compatible', () => {
    const out = join(tmp.dir, 'bad.raucb');
    const signing = ['--cert', keys.cert, '--key', keys.key];
    expect(build(['--image', join(tmp.dir, 'nope.ext4'), '--version', '1.0.0', '--out', out, ...signing]).stderr).toMatch(/rootfs image .*nope\.ext4.* does not exist/);
    expect(build(['--version', '1.0.0', '--out', out, ...signing]).stderr).toMatch(/no rootfs image given/);
    expect(build(['--image', image, '--version', '1.0', '--out', out, ...signing]).stderr).toMatch(/bad version '1\.0'/);
    expect(build(['--image', image, '--version', '1.0.0', '--out', out, '--cert', keys.cert, '--key', join(tmp.dir, 'none.pem')]).stderr).toMatch(
      /signing key .*none\.pem.* does not exist/,
    );
    const other = makeKeys(join(tmp.dir, 'other'));
    const r = build(['--image', image, '--version', '1.0.0', '--out', out, '--cert', keys.cert, '--key', other.key]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/rauc bundle failed/);
    expect(build(['--image', image, '--version', '1.0.0', '--out', out, '--compatible', 'toaster', ...signing]).stderr).toMatch(/bad compatible 'toaster'/);
    expect(spawnSync('test', ['-e', out]).status).not.toBe(0);
  });

  it("the post-install hook stamps the new rootfs slot with the bundle's version", () => {
    const mnt = join(tmp.dir, 'slot');
    mkdirSync(mnt);
    const env = { ...process.env, RAUC_SLOT_CLASS: 'rootfs', RAUC_SLOT_MOUNT_POINT: mnt, RAUC_MF_VERSION: '1.2.3', RAUC_MF_COMPATIBLE: 'hushbox-x86_64', RAUC_SLOT_NAME: 'rootfs.1', RAUC_SLOT_BOOTNAME: 'B' };
    execFileSync(join(otaDir, 'hooks', 'hook.sh'), ['slot-post-install'], { env });
    expect(readFileSync(join(mnt, 'etc', 'hushbox-bundle'), 'utf8')).toBe(
      'HUSHBOX_BUNDLE_VERSION=1.2.3\nHUSHBOX_BUNDLE_COMPATIBLE=hushbox-x86_64\nHUSHBOX_SLOT=rootfs.1\nHUSHBOX_SLOT_BOOTNAME=B\n',
    );
  });

  it('the committed system.conf files parse in rauc and name the A/B rootfs slots', () => {
    for (const [file, compatible, bootloader] of [
      ['system-x86_64.conf', 'hushbox-x86_64', 'grub'],
      ['system-rpi4.conf', 'hushbox-rpi4', 'uboot'],
      ['system-rpi5.conf', 'hushbox-rpi5', 'custom'],
    ] as const) {
      const text = readFileSync(join(otaDir, file), 'utf8');
      expect(text).toContain(`compatible=${compatible}`);
      expect(text).toContain(`bootloader=${bootloader}`);
      expect(text).toMatch(/\[slot\.rootfs\.0\][^[]*bootname=A/);
      expect(text).toMatch(/\[slot\.rootfs\.1\][^[]*bootname=B/);
      // rauc reads the system configuration before it looks at the bundle: a broken file fails here
      const r = spawnSync('rauc', ['--conf', join(otaDir, file), '--keyring', keys.keyring, 'info', join(tmp.dir, 'good.raucb')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
  });
});
