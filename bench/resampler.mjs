#!/usr/bin/env node
// The stream's resampling as a client receives it: the engine (sim backend,
// 48 kHz) plays one tone at a time on the raw mic at -6 dBFS; a client of its
// Wyoming socket takes 16 kHz f32 (s16 would hide the stopband under its rounding); per tone, the level of the tone in what
// arrives (passband) or of everything that arrives (stopband: any alias),
// relative to the input. A sweep of tones: passband ripple over 100 Hz..7 kHz,
// stopband attenuation over 8.5..23.5 kHz.
//
//   node bench/resampler.mjs [--seconds S per tone]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const engine = process.env.HUSHBOX_ENGINE ?? join(root, 'build', 'native', 'hushbox-engine');
if (!existsSync(engine)) {
  process.stderr.write(`bench/resampler: no engine at ${engine}; run npm run build first\n`);
  process.exit(1);
}
const i = process.argv.indexOf('--seconds');
const seconds = i > 0 ? Number(process.argv[i + 1]) : 1.2;
const LEVEL_DB = -6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function receive(socket, ms) {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    const pcm = [];
    // f32, so what the resampler lets through is not hidden under s16 rounding.
    c.on('connect', () => {
      const data = Buffer.from(JSON.stringify({ rate: 16000, format: 'f32' }));
      c.write(`${JSON.stringify({ type: 'hushbox-format', version: '1.6.0', data_length: data.length })}\n`);
      c.write(data);
    });
    let buf = Buffer.alloc(0);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const nl = buf.indexOf(10);
        if (nl < 0) break;
        const h = JSON.parse(buf.subarray(0, nl).toString());
        const need = nl + 1 + (h.data_length ?? 0) + (h.payload_length ?? 0);
        if (buf.length < need) break;
        const data = h.data_length ? JSON.parse(buf.subarray(nl + 1, nl + 1 + h.data_length).toString()) : {};
        if (h.type === 'audio-chunk' && data.width === 4) pcm.push(buf.subarray(nl + 1 + h.data_length, need));
        buf = buf.subarray(need);
      }
    });
    c.on('error', reject);
    setTimeout(() => {
      c.destroy();
      const b = Buffer.concat(pcm);
      const x = new Float64Array(b.length / 4);
      for (let k = 0; k < x.length; k++) x[k] = b.readFloatLE(4 * k);
      resolve(x);
    }, ms);
  });
}

function measure(x, rate, hz) {
  let s = 0;
  let c = 0;
  let e = 0;
  for (let k = 0; k < x.length; k++) {
    const w = (2 * Math.PI * hz * k) / rate;
    s += x[k] * Math.sin(w);
    c += x[k] * Math.cos(w);
    e += x[k] * x[k];
  }
  return { amplitude: (2 * Math.hypot(s, c)) / x.length, rms: Math.sqrt(e / x.length) };
}

async function tone(hz) {
  const dir = mkdtempSync(join(tmpdir(), 'hushbox-bench-rs-'));
  const socket = join(dir, 'audio.sock');
  const child = spawn(engine, ['run', '--backend', 'sim', '--input', `tone:${hz}:${LEVEL_DB}`, '--priority', '0', '--no-mlock', '--no-dma-latency',
    '--tap-socket', socket, '--tap-source', 'mic_raw'], { stdio: ['ignore', 'ignore', 'inherit'] });
  while (!existsSync(socket)) await sleep(10);
  await sleep(200); // bound before it listens
  const x = (await receive(socket, seconds * 1000)).subarray(1600); // past the resampler's start
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  const db = (v) => 20 * Math.log10(Math.max(v, 1e-12));
  const m = measure(x, 16000, hz < 8000 ? hz : 16000 - (hz % 16000));
  // Passband: the tone's own level; stopband: whatever arrives, relative to the input's RMS.
  return hz < 8000 ? db(m.amplitude) - LEVEL_DB : db(m.rms) - (LEVEL_DB - 3.0103);
}

const pass = [100, 250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 6500, 7000];
const stop = [8500, 9000, 10000, 12000, 14000, 16000, 18000, 20000, 22000, 23500];
console.log(`hushbox stream resampling 48 -> 16 kHz f32 (libsoxr HQ), tones at ${LEVEL_DB} dBFS on the raw mic, ${seconds} s each, as a socket client receives them\n`);
const passDb = [];
for (const hz of pass) {
  const g = await tone(hz);
  passDb.push(g);
  console.log(`pass ${String(hz).padStart(6)} Hz  ${g >= 0 ? '+' : ''}${g.toFixed(3)} dB`);
}
const stopDb = [];
for (const hz of stop) {
  const g = await tone(hz);
  stopDb.push(g);
  console.log(`stop ${String(hz).padStart(6)} Hz  ${g.toFixed(1)} dB (everything received, aliases included)`);
}
console.log(`\npassband ripple 100 Hz..7 kHz: ${(Math.max(...passDb) - Math.min(...passDb)).toFixed(3)} dB; stopband 8.5..23.5 kHz: at least ${(-Math.max(...stopDb)).toFixed(1)} dB down`);
