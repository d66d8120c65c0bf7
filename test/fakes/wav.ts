/** Just enough WAV for tests: PCM 16/24/32-bit and 32-bit float, any channels. */
export type WavFormat = 'int16' | 'int24' | 'int32' | 'float32';

export interface Wav {
  rate: number;
  format: WavFormat;
  /** channels[c][i], full scale 1.0 */
  channels: Float64Array[];
}

const BYTES: Record<WavFormat, number> = { int16: 2, int24: 3, int32: 4, float32: 4 };

export function encodeWav(w: Wav): Buffer {
  const ch = w.channels.length;
  const frames = w.channels[0]!.length;
  const bps = BYTES[w.format];
  const data = Buffer.alloc(frames * ch * bps);
  let o = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < ch; c++) {
      const x = Math.max(-1, Math.min(1, w.channels[c]![i]!));
      if (w.format === 'float32') data.writeFloatLE(x, o);
      else if (w.format === 'int16') data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(x * 32768))), o);
      else if (w.format === 'int24') data.writeIntLE(Math.max(-8388608, Math.min(8388607, Math.round(x * 8388608))), o, 3);
      else data.writeInt32LE(Math.max(-2147483648, Math.min(2147483647, Math.round(x * 2147483648))), o);
      o += bps;
    }
  }
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(w.format === 'float32' ? 3 : 1, 8);
  fmt.writeUInt16LE(ch, 10);
  fmt.writeUInt32LE(w.rate, 12);
  fmt.writeUInt32LE(w.rate * ch * bps, 16);
  fmt.writeUInt16LE(ch * bps, 20);
  fmt.writeUInt16LE(bps * 8, 22);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(4 + fmt.length + 8 + data.length, 4);
  head.write('WAVE', 8, 'ascii');
  const dataHead = Buffer.alloc(8);
  dataHead.write('data', 0, 'ascii');
  dataHead.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, fmt, dataHead, data]);
}

export function decodeWav(buf: Buffer): Wav {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAVE file');
  let pos = 12;
  let tag = 0;
  let ch = 0;
  let rate = 0;
  let bits = 0;
  let data: Buffer | undefined;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = buf.subarray(pos + 8, pos + 8 + size);
    if (id === 'fmt ') {
      tag = body.readUInt16LE(0);
      ch = body.readUInt16LE(2);
      rate = body.readUInt32LE(4);
      bits = body.readUInt16LE(14);
      if (tag === 0xfffe) tag = body.readUInt16LE(24);
    } else if (id === 'data') {
      data = body;
    }
    pos += 8 + size + (size & 1);
  }
  if (!data || !ch) throw new Error('no fmt or data chunk');
  const format: WavFormat = tag === 3 ? 'float32' : bits === 16 ? 'int16' : bits === 24 ? 'int24' : 'int32';
  const bps = BYTES[format];
  const frames = Math.floor(data.length / (bps * ch));
  const channels = Array.from({ length: ch }, () => new Float64Array(frames));
  let o = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < ch; c++) {
      channels[c]![i] =
        format === 'float32' ? data.readFloatLE(o) : format === 'int16' ? data.readInt16LE(o) / 32768 : format === 'int24' ? data.readIntLE(o, 3) / 8388608 : data.readInt32LE(o) / 2147483648;
      o += bps;
    }
  }
  return { rate, format, channels };
}
