// The whole payload of a RAUC "verity" bundle checked against its signed
// hash tree by reading it once, with nothing written: the bundle is
//   [payload (squashfs)] [dm-verity hash tree: verity-size bytes] [CMS signature] [signature size: u64 BE]
// and the signed manifest inside the CMS names the tree's root hash and salt.
// `rauc info` has already checked the signature over that manifest; this
// checks every payload block against it (what RAUC's dm-verity would find
// only in the middle of an install), and the stored tree too, since RAUC
// reads the payload through it. Replaces `rauc extract`, which wrote the
// whole image (896 MiB) to the data partition to find the same thing.
//
// The tree is dm-verity's format 1 as RAUC makes it: 4096-byte data and hash
// blocks, sha256 over salt + block, 128 hashes a hash block (zero-padded),
// levels until one block, the top level stored first.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

const BLOCK = 4096;
const DIGEST = 32;
const PER_BLOCK = BLOCK / DIGEST;
/** A signature larger than this is not a RAUC bundle's. */
const MAX_SIGNATURE = 1024 * 1024;

export interface VerityManifest {
  /** `format=` of the manifest's [bundle] section ('plain' when absent). */
  format: string;
  rootHash: Buffer;
  salt: Buffer;
  /** Bytes of the stored hash tree. */
  treeBytes: number;
}

export type VerityResult = { ok: true; payloadBytes: number } | { ok: false; reason: string };

/** One DER element: tag, and where its content lies in `buf`. */
function der(buf: Buffer, at: number): { tag: number; start: number; end: number } {
  if (at + 2 > buf.length) throw new Error('the signature ends inside an element');
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) throw new Error('the signature has a length it cannot have');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > buf.length) throw new Error('the signature ends inside an element');
  return { tag, start, end: start + len };
}

/** The content signed in a CMS SignedData (ContentInfo → [0] → SignedData → encapContentInfo → [0] → OCTET STRING). */
export function cmsContent(sig: Buffer): Buffer {
  const info = der(sig, 0);
  if (info.tag !== 0x30) throw new Error('the signature is not a CMS ContentInfo');
  const type = der(sig, info.start);
  const wrapped = der(sig, type.end);
  if (type.tag !== 0x06 || wrapped.tag !== 0xa0) throw new Error('the signature is not a CMS ContentInfo');
  const signed = der(sig, wrapped.start);
  const version = der(sig, signed.start);
  const digests = der(sig, version.end);
  const encap = der(sig, digests.end);
  if (signed.tag !== 0x30 || version.tag !== 0x02 || digests.tag !== 0x31 || encap.tag !== 0x30) throw new Error('the signature is not a CMS SignedData');
  const eType = der(sig, encap.start);
  if (eType.end >= encap.end) throw new Error('the signature carries no manifest (a detached signature: not a verity bundle)');
  const eContent = der(sig, eType.end);
  const octets = der(sig, eContent.start);
  if (eContent.tag !== 0xa0 || octets.tag !== 0x04) throw new Error('the signature\'s content is not an OCTET STRING');
  return sig.subarray(octets.start, octets.end);
}

/** The [bundle] section of a RAUC manifest. */
export function parseManifest(text: string): VerityManifest {
  let section = '';
  const bundle: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const head = /^\[(.+)\]$/.exec(line);
    if (head) section = head[1]!;
    else if (section === 'bundle' && line.includes('=')) bundle[line.slice(0, line.indexOf('=')).trim()] = line.slice(line.indexOf('=') + 1).trim();
  }
  const format = bundle.format ?? 'plain';
  if (format !== 'verity') return { format, rootHash: Buffer.alloc(0), salt: Buffer.alloc(0), treeBytes: 0 };
  const hex = (k: string) => {
    const v = bundle[k] ?? '';
    if (!/^[0-9a-f]{64}$/i.test(v)) throw new Error(`the manifest's verity-${k.slice(7)} is not 64 hex digits`);
    return Buffer.from(v, 'hex');
  };
  const treeBytes = Number(bundle['verity-size']);
  if (!Number.isSafeInteger(treeBytes) || treeBytes <= 0 || treeBytes % BLOCK !== 0) throw new Error('the manifest\'s verity-size is not a whole number of 4096-byte blocks');
  return { format, rootHash: hex('verity-hash'), salt: hex('verity-salt'), treeBytes };
}

/** The signed manifest of a bundle file (signature not checked here: `rauc info` does that). */
export async function readManifest(file: string): Promise<{ manifest: VerityManifest; payloadEnd: number }> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size < 8 + BLOCK) throw new Error('too small to be a bundle');
    const tail = Buffer.alloc(8);
    await fh.read(tail, 0, 8, size - 8);
    const sigBytes = Number(tail.readBigUInt64BE(0));
    if (sigBytes <= 0 || sigBytes > MAX_SIGNATURE || sigBytes > size - 8) throw new Error(`a signature size of ${sigBytes} bytes at its end`);
    const sig = Buffer.alloc(sigBytes);
    await fh.read(sig, 0, sigBytes, size - 8 - sigBytes);
    const manifest = parseManifest(cmsContent(sig).toString('utf8'));
    return { manifest, payloadEnd: size - 8 - sigBytes };
  } finally {
    await fh.close();
  }
}

const hashOf = (salt: Buffer, block: Buffer) => createHash('sha256').update(salt).update(block).digest();

/** The levels of hash blocks above the leaf hashes, bottom first, each block zero-padded. */
function levels(salt: Buffer, leaves: Buffer[]): Buffer[][] {
  const out: Buffer[][] = [];
  let cur = leaves;
  for (;;) {
    const blocks: Buffer[] = [];
    for (let i = 0; i < cur.length; i += PER_BLOCK) {
      const blk = Buffer.alloc(BLOCK);
      cur.slice(i, i + PER_BLOCK).forEach((h, j) => h.copy(blk, j * DIGEST));
      blocks.push(blk);
    }
    out.push(blocks);
    if (blocks.length === 1) return out;
    cur = blocks.map((b) => hashOf(salt, b));
  }
}

/**
 * Reads the payload once and checks it, and the stored tree, against the
 * manifest's root hash. Answers why not when it does not match; throws only
 * when the file cannot be read.
 */
export async function checkVerityPayload(file: string, m: VerityManifest, payloadEnd: number): Promise<VerityResult> {
  const payloadBytes = payloadEnd - m.treeBytes;
  if (payloadBytes <= 0 || payloadBytes % BLOCK !== 0) return { ok: false, reason: `the payload is ${payloadBytes} bytes, not a whole number of 4096-byte blocks` };
  const fh = await open(file, 'r');
  try {
    const leaves: Buffer[] = [];
    const chunk = Buffer.alloc(256 * BLOCK);
    for (let pos = 0; pos < payloadBytes; ) {
      const want = Math.min(chunk.length, payloadBytes - pos);
      const { bytesRead } = await fh.read(chunk, 0, want, pos);
      if (bytesRead !== want) return { ok: false, reason: `the payload ends after ${pos + bytesRead} of ${payloadBytes} bytes` };
      for (let off = 0; off < want; off += BLOCK) leaves.push(hashOf(m.salt, chunk.subarray(off, off + BLOCK)));
      pos += want;
    }
    const tree = levels(m.salt, leaves);
    const top = tree[tree.length - 1]![0]!;
    if (!hashOf(m.salt, top).equals(m.rootHash)) return { ok: false, reason: 'the payload does not match the signed root hash' };
    const computed = Buffer.concat(tree.reverse().flat());
    if (computed.length > m.treeBytes) return { ok: false, reason: `the hash tree needs ${computed.length} bytes; the manifest gives it ${m.treeBytes}` };
    const stored = Buffer.alloc(m.treeBytes);
    await fh.read(stored, 0, m.treeBytes, payloadBytes);
    if (!stored.subarray(0, computed.length).equals(computed) || stored.subarray(computed.length).some((b) => b !== 0)) {
      return { ok: false, reason: 'the stored hash tree does not match the payload' };
    }
    return { ok: true, payloadBytes };
  } finally {
    await fh.close();
  }
}
