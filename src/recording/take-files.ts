import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

/** What a take's header says: rate, channels, frames (null when it does not say). */
export interface TakeHeader {
  rate: number | null;
  channels: number | null;
  frames: number | null;
}

const none: TakeHeader = { rate: null, channels: null, frames: null };

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

interface WavLayout {
  rate: number;
  channels: number;
  blockAlign: number;
  dataOffset: number; // of the data chunk's size field
  dataSize: number;
}

function wavLayout(head: Buffer): WavLayout | null {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') return null;
  let pos = 12;
  let rate = 0;
  let channels = 0;
  let blockAlign = 0;
  while (pos + 8 <= head.length) {
    const id = head.toString('ascii', pos, pos + 4);
    const size = head.readUInt32LE(pos + 4);
    if (id === 'fmt ' && pos + 8 + 16 <= head.length) {
      channels = head.readUInt16LE(pos + 10);
      rate = head.readUInt32LE(pos + 12);
      blockAlign = head.readUInt16LE(pos + 20);
    } else if (id === 'data') {
      return channels && blockAlign ? { rate, channels, blockAlign, dataOffset: pos + 4, dataSize: size } : null;
    }
    pos += 8 + size + (size & 1);
  }
  return null;
}

/** Rate, channels and length from a WAV or FLAC header. */
export function readTakeHeader(path: string): TakeHeader {
  try {
    const head = readHead(path, 4096);
    if (head.toString('ascii', 0, 4) === 'fLaC') {
      // STREAMINFO, the first metadata block: 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits samples.
      const si = head.subarray(8, 8 + 34);
      if (si.length < 18) return none;
      const rate = (si[10]! << 12) | (si[11]! << 4) | (si[12]! >> 4);
      const channels = ((si[12]! >> 1) & 7) + 1;
      const frames = (si[13]! & 0x0f) * 2 ** 32 + si.readUInt32BE(14);
      return { rate, channels, frames: frames > 0 ? frames : null };
    }
    const w = wavLayout(head);
    return w ? { rate: w.rate, channels: w.channels, frames: Math.floor(w.dataSize / w.blockAlign) } : none;
  } catch {
    return none;
  }
}

/**
 * A WAV whose header says less (or more) than the file holds, as a power cut
 * or a killed engine leaves it: set the RIFF and data sizes to what is there,
 * in whole frames. Returns true when the header was rewritten.
 */
export function repairWav(path: string): boolean {
  const w = wavLayout(readHead(path, 4096));
  if (!w) return false;
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const available = size - (w.dataOffset + 4);
    const dataSize = Math.max(0, available - (available % w.blockAlign));
    const riffSize = w.dataOffset + 4 + dataSize - 8;
    if (dataSize === w.dataSize && riffSize === readHead(path, 8).readUInt32LE(4)) return false;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(riffSize >>> 0);
    writeSync(fd, b, 0, 4, 4);
    b.writeUInt32LE(dataSize >>> 0);
    writeSync(fd, b, 0, 4, w.dataOffset);
    return true;
  } finally {
    closeSync(fd);
  }
}
