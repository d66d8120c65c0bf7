import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { tempDir } from '../fakes/temp-context.js';

const script = join(packageRoot, 'ota', 'restamp-rootfs.sh');
const cat = (image: string, path: string) => execFileSync('debugfs', ['-R', `cat ${path}`, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const run = (...args: string[]) => execFileSync(script, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('ota/restamp-rootfs.sh (another version of a built root filesystem, for update tests)', () => {
  const tmp = tempDir('hushbox-restamp-');
  let image: string;

  beforeAll(() => {
    const root = join(tmp.dir, 'root');
    const osRelease = 'PRETTY_NAME="hushbox 1.4.0 (Debian trixie)"\nNAME="hushbox"\nVERSION="1.4.0"\nVERSION_ID="1.4.0"\nIMAGE_VERSION="1.4.0"\n';
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'usr/lib/hushbox/bin'), { recursive: true });
    writeFileSync(join(root, 'etc/os-release'), osRelease);
    writeFileSync(join(root, 'usr/lib/os-release'), osRelease);
    writeFileSync(join(root, 'usr/lib/hushbox/package.json'), JSON.stringify({ name: 'hushbox', version: '1.4.0', type: 'module' }, null, 2));
    writeFileSync(join(root, 'usr/lib/hushbox/bin/hushbox.js'), "#!/usr/bin/env node\nimport('../dist/main.js');\n", { mode: 0o755 });
    image = join(tmp.dir, 'rootfs.ext4');
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', root, image, '8M']);
  });
  afterAll(() => tmp.cleanup());

  it('stamps the new version into both os-release files and the supervisor\'s package.json, on a copy that passes e2fsck', () => {
    const out = join(tmp.dir, 'next.ext4');
    expect(run('--rootfs', image, '--version', '1.5.0', '--out', out)).toBe('');
    for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
      const text = cat(out, f);
      expect(text).toContain('VERSION_ID="1.5.0"');
      expect(text).toContain('PRETTY_NAME="hushbox 1.5.0 (Debian trixie)"');
      expect(text).toContain('IMAGE_VERSION="1.5.0"');
      expect(text).not.toContain('1.4.0');
    }
    expect(JSON.parse(cat(out, '/usr/lib/hushbox/package.json'))).toEqual({ name: 'hushbox', version: '1.5.0', type: 'module' });
    expect(cat(out, '/usr/lib/hushbox/bin/hushbox.js')).toContain("import('../dist/main.js')");
    // the original is untouched
    expect(cat(image, '/etc/os-release')).toContain('VERSION_ID="1.4.0"');
    execFileSync('e2fsck', ['-fn', out], { stdio: 'ignore' });
  });

  it('with --broken, gives the copy a supervisor that exits at once, executable, owned by root', () => {
    const out = join(tmp.dir, 'broken.ext4');
    run('--rootfs', image, '--version', '1.6.0', '--out', out, '--broken');
    expect(cat(out, '/usr/lib/hushbox/bin/hushbox.js')).toMatch(/broken on purpose[\s\S]*process\.exit\(1\)/);
    const stat = execFileSync('debugfs', ['-R', 'stat /usr/lib/hushbox/bin/hushbox.js', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(stat).toMatch(/Mode:\s+0755/);
    expect(stat).toMatch(/User:\s+0\s+Group:\s+0/);
  });

  it('names what is wrong: no image, a bad version, an output that is not .ext4, an image without a version', () => {
    const fails = (args: string[], msg: RegExp) => expect(() => run(...args)).toThrow(expect.objectContaining({ stderr: expect.stringMatching(msg) }));
    fails(['--rootfs', join(tmp.dir, 'nope.ext4'), '--version', '1.0.0', '--out', join(tmp.dir, 'x.ext4')], /does not exist/);
    fails(['--rootfs', image, '--version', 'latest', '--out', join(tmp.dir, 'x.ext4')], /bad version 'latest'/);
    fails(['--rootfs', image, '--version', '1.0.0', '--out', join(tmp.dir, 'x.img')], /must end in \.ext4/);
    const bare = join(tmp.dir, 'bare.ext4');
    mkdirSync(join(tmp.dir, 'bare/etc'), { recursive: true });
    writeFileSync(join(tmp.dir, 'bare/etc/os-release'), 'NAME=debian\n');
    mkdirSync(join(tmp.dir, 'bare/usr/lib/hushbox'), { recursive: true });
    writeFileSync(join(tmp.dir, 'bare/usr/lib/hushbox/package.json'), '{}');
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', join(tmp.dir, 'bare'), bare, '4M']);
    fails(['--rootfs', bare, '--version', '1.0.0', '--out', join(tmp.dir, 'y.ext4')], /no VERSION_ID/);
  });
});
