// The data partition of a QEMU box's disk, checked from outside with the box
// off: copied out of the qcow2 overlay, then e2fsck on the copy (the journal
// replayed as the box would at boot, then a read-only full check that must
// find nothing).
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';

/** A GPT partition by name, from the first 34 sectors of a disk. */
export function gptPartition(headFile: string, name: string): { firstByte: number; bytes: number } {
  const fd = openSync(headFile, 'r');
  const buf = Buffer.alloc(34 * 512);
  try {
    readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  if (buf.toString('latin1', 512, 520) !== 'EFI PART') throw new Error('no GPT on the disk');
  const entriesLba = Number(buf.readBigUInt64LE(512 + 72));
  const count = buf.readUInt32LE(512 + 80);
  const size = buf.readUInt32LE(512 + 84);
  for (let i = 0; i < count; i++) {
    const off = entriesLba * 512 + i * size;
    if (off + size > buf.length) break;
    const label = buf.toString('utf16le', off + 56, off + 128).replace(/\0.*$/, '');
    if (label === name) {
      const first = Number(buf.readBigUInt64LE(off + 32));
      const last = Number(buf.readBigUInt64LE(off + 40));
      return { firstByte: first * 512, bytes: (last - first + 1) * 512 };
    }
  }
  throw new Error(`no GPT partition named '${name}'`);
}

/** What e2fsck may correct after a power cut without the filesystem having been damaged. */
const SUMMARY_ONLY = /^(Free (blocks|inodes) count wrong|Directories count wrong for group)\b/;

/** e2fsck of the partition labelled `name` of a qcow2 disk, on a copy in `workDir`. */
export function fsckPartition(disk: string, workDir: string, name = 'data'): { clean: boolean; report: string } {
  const head = join(workDir, 'gpt.bin');
  execFileSync('qemu-img', ['dd', '-U', '-f', 'qcow2', '-O', 'raw', 'bs=512', 'count=34', `if=${disk}`, `of=${head}`]);
  const part = gptPartition(head, name);
  const mib = 1024 * 1024;
  if (part.firstByte % mib !== 0) throw new Error(`partition ${name} does not start on a MiB boundary`);
  const raw = join(workDir, `${name}.raw`);
  rmSync(raw, { force: true });
  // qemu-img 7.2's dd stops at count blocks from the start of the input, skipped blocks included (5 MiB asked
  // after skip=3 gives 2): ask for skip + count, then cut the copy to the partition's exact size, and refuse a
  // short copy, which e2fsck would report as a filesystem larger than its device.
  const skip = part.firstByte / mib;
  execFileSync('qemu-img', ['dd', '-U', '-f', 'qcow2', '-O', 'raw', `bs=${mib}`, `skip=${skip}`, `count=${skip + Math.ceil(part.bytes / mib)}`, `if=${disk}`, `of=${raw}`]);
  const copied = statSync(raw).size;
  if (copied < part.bytes) throw new Error(`copied ${copied} bytes of partition ${name}, which has ${part.bytes}`);
  truncateSync(raw, part.bytes);
  const run = (args: string[]) => {
    try {
      return { code: 0, out: execFileSync('e2fsck', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { code: e.status, out: `${e.stdout}${e.stderr}` };
    }
  };
  const replay = run(['-fy', raw]);
  const check = run(['-fn', raw]);
  rmSync(raw, { force: true });
  // After the journal is replayed nothing may need fixing but the superblock's free-space totals, which ext4 does
  // not journal and which e2fsck -p recounts at every boot after a power cut (preen mode fixes them silently): no
  // other question answered yes in the first pass, nothing found in the second.
  const lines = replay.out.split('\n').map((l) => l.trim());
  const problems = lines.flatMap((l, i) => (/\? yes$/.test(l) ? [/^\w+\? yes$/.test(l) ? (lines[i - 1] ?? l) : l] : []));
  const damage = problems.filter((p) => !SUMMARY_ONLY.test(p));
  return { clean: replay.code <= 1 && damage.length === 0 && check.code === 0, report: `e2fsck -fy (exit ${replay.code}):\n${replay.out}\ne2fsck -fn (exit ${check.code}):\n${check.out}` };
}
