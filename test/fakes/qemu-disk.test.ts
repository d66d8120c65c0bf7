// The update tests' /data check (fsckPartition) on a small qcow2 disk made
// here: a GPT with a partition that does not start at the disk's beginning,
// holding a clean ext4, must check clean; the same filesystem damaged must not.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsckPartition, gptPartition } from './qemu-disk.js';

const dir = mkdtempSync(join(tmpdir(), 'hushbox-qemu-disk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MIB = 1024 * 1024;

/** A 24 MiB disk: "efi" at 1 MiB (4 MiB), "data" at 5 MiB (16 MiB) holding an ext4 with a file; as qcow2. */
function makeDisk(name: string, damage: 'none' | 'root' | 'totals' = 'none'): string {
  const raw = join(dir, `${name}.raw`);
  execFileSync('truncate', ['-s', `${24 * MIB}`, raw]);
  execFileSync('sfdisk', ['--quiet', raw], { input: 'label: gpt\nstart=2048, size=8192, name=efi\nstart=10240, size=32768, name=data\n' });
  const fs = join(dir, `${name}.ext4`);
  const tree = join(dir, `${name}-tree`);
  execFileSync('mkdir', ['-p', tree]);
  writeFileSync(join(tree, 'preset.json'), '{"name":"kept"}\n');
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, fs, `${16 * 1024}k`]);
  // the root directory's inode cleared: e2fsck must find it gone
  if (damage === 'root') execFileSync('debugfs', ['-w', '-R', 'clri <2>', fs], { stdio: 'ignore' });
  // the superblock's free totals stale, as ext4 leaves them after a power cut (not journaled)
  if (damage === 'totals') {
    execFileSync('debugfs', ['-w', '-R', 'ssv free_blocks_count 100', fs], { stdio: 'ignore' });
    execFileSync('debugfs', ['-w', '-R', 'ssv free_inodes_count 7', fs], { stdio: 'ignore' });
  }
  execFileSync('dd', [`if=${fs}`, `of=${raw}`, 'bs=1M', 'seek=5', 'conv=notrunc', 'status=none']);
  const qcow = join(dir, `${name}.qcow2`);
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow]);
  return qcow;
}

describe('fsckPartition', () => {
  it('finds the data partition by its GPT label', () => {
    const raw = join(dir, 'gpt.raw');
    execFileSync('truncate', ['-s', `${24 * MIB}`, raw]);
    execFileSync('sfdisk', ['--quiet', raw], { input: 'label: gpt\nstart=2048, size=8192, name=efi\nstart=10240, size=32768, name=data\n' });
    expect(gptPartition(raw, 'data')).toEqual({ firstByte: 5 * MIB, bytes: 16 * MIB });
    expect(() => gptPartition(raw, 'nope')).toThrow(/no GPT partition named 'nope'/);
  });

  it('checks a clean filesystem that starts 5 MiB into the disk as clean (the whole partition copied)', () => {
    const r = fsckPartition(makeDisk('clean'), dir);
    expect(r.report).not.toMatch(/physical size of the device/);
    expect(r.clean, r.report).toBe(true);
  });

  it('does not call a damaged filesystem clean', () => {
    const r = fsckPartition(makeDisk('damaged', 'root'), dir);
    expect(r.clean, r.report).toBe(false);
  });

  it('calls a filesystem clean whose only fault is the free totals a power cut leaves stale (e2fsck -p recounts them)', () => {
    const r = fsckPartition(makeDisk('totals', 'totals'), dir);
    expect(r.report).toMatch(/Free blocks count wrong \(100,/);
    expect(r.report).toMatch(/Free inodes count wrong \(7,/);
    expect(r.clean, r.report).toBe(true);
  });
});
