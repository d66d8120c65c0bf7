// The payload check that replaced `rauc extract` before an install: real
// bundles made by the real rauc (ota/build-bundle.sh), checked block by block
// against the root hash in their signed manifest.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkVerityPayload, cmsContent, parseManifest, readManifest } from '../../src/ota/verity.js';
import { buildBundle, flipByte, makeKeys, makeRootfs, type Keys } from '../fakes/rauc-bundles.js';
import { tempDir } from '../fakes/temp-context.js';

describe('checkVerityPayload', () => {
  const tmp = tempDir('hushbox-verity-');
  let keys: Keys;
  let good: string;

  const check = async (file: string) => {
    const { manifest, payloadEnd } = await readManifest(file);
    return checkVerityPayload(file, manifest, payloadEnd);
  };

  beforeAll(() => {
    keys = makeKeys(join(tmp.dir, 'keys'));
    good = buildBundle({ image: makeRootfs(tmp.dir), version: '1.2.3', out: join(tmp.dir, 'good.raucb'), keys });
  });

  it('reads the signed manifest rauc wrote, and takes a good bundle', async () => {
    const { manifest, payloadEnd } = await readManifest(good);
    expect(manifest.format).toBe('verity');
    expect(manifest.rootHash).toHaveLength(32);
    expect(manifest.salt).toHaveLength(32);
    // the tree computed here from the payload gives the root hash rauc signed, and equals the tree rauc stored
    const r = await checkVerityPayload(good, manifest, payloadEnd);
    expect(r).toEqual({ ok: true, payloadBytes: payloadEnd - manifest.treeBytes });
    expect(payloadEnd).toBeLessThan(statSync(good).size);
  });

  it('finds one flipped bit anywhere in the payload', async () => {
    const { manifest, payloadEnd } = await readManifest(good);
    const payload = payloadEnd - manifest.treeBytes;
    for (const at of [0, 4095, 4096, Math.floor(payload / 2), payload - 1]) {
      const bad = flipByte(good, join(tmp.dir, `payload-${at}.raucb`), at);
      expect(await check(bad), `bit flipped at ${at}`).toEqual({ ok: false, reason: 'the payload does not match the signed root hash' });
    }
  });

  it('finds a damaged stored hash tree, which RAUC would read the payload through', async () => {
    const { manifest, payloadEnd } = await readManifest(good);
    const bad = flipByte(good, join(tmp.dir, 'tree.raucb'), payloadEnd - manifest.treeBytes + 5);
    expect(await check(bad)).toEqual({ ok: false, reason: 'the stored hash tree does not match the payload' });
  });

  it('refuses a bundle cut short or with junk for a signature, naming what is wrong', async () => {
    const cut = join(tmp.dir, 'cut.raucb');
    copyFileSync(good, cut);
    truncateSync(cut, statSync(good).size - 100);
    await expect(readManifest(cut)).rejects.toThrow(/signature/);
    const junk = join(tmp.dir, 'junk.raucb');
    const b = Buffer.alloc(64 * 1024, 7);
    b.writeBigUInt64BE(100n, b.length - 8);
    writeFileSync(junk, b);
    await expect(readManifest(junk)).rejects.toThrow(/not a CMS/);
    expect(() => cmsContent(Buffer.from([0x30, 0x85, 1, 2]))).toThrow(/length/);
  });

  it('says when a bundle is not a verity bundle (plain: a detached signature, nothing to check blocks against)', async () => {
    const dir = join(tmp.dir, 'plain');
    mkdirSync(dir);
    copyFileSync(makeRootfs(join(tmp.dir)), join(dir, 'rootfs.ext4'));
    writeFileSync(join(dir, 'manifest.raucm'), '[update]\ncompatible=hushbox-x86_64\nversion=1.2.3\n\n[bundle]\nformat=plain\n\n[image.rootfs]\nfilename=rootfs.ext4\n');
    const plain = join(tmp.dir, 'plain.raucb');
    execFileSync('rauc', ['bundle', '--cert', keys.cert, '--key', keys.key, dir, plain], { stdio: 'pipe' });
    await expect(readManifest(plain)).rejects.toThrow(/detached signature: not a verity bundle/);
  });

  it('parses the manifest\'s [bundle] section and refuses bad values', () => {
    const h = 'ab'.repeat(32);
    expect(parseManifest(`[update]\nversion=1\n[bundle]\nformat=verity\nverity-hash=${h}\nverity-salt=${h}\nverity-size=8192\n`)).toMatchObject({ format: 'verity', treeBytes: 8192 });
    expect(parseManifest('[update]\nversion=1\n').format).toBe('plain');
    expect(() => parseManifest(`[bundle]\nformat=verity\nverity-hash=12\nverity-salt=${h}\nverity-size=8192\n`)).toThrow(/verity-hash is not 64 hex digits/);
    expect(() => parseManifest(`[bundle]\nformat=verity\nverity-hash=${h}\nverity-salt=${h}\nverity-size=100\n`)).toThrow(/verity-size/);
  });
});
