// The front panel's spectrum through the real supervisor and engine: a tone at
// the mic shows in its 1/6-octave band, in and out, on /ws/telemetry about 20
// times a second.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Spectrum } from '../../src/engine/telemetry.js';
import type { Param } from '../../src/engine/params.js';
import { getJson, sendJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { ownerHeaders } from '../fakes/owner-http.js';
import { transparentParams } from '../fakes/transparent.js';

/** The spectrum messages of /ws/telemetry for `ms`, and how many telemetry frames came meanwhile. */
async function collect(url: string, ms: number): Promise<{ spectra: Spectrum[]; frames: number }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/telemetry`, { headers: ownerHeaders(url) });
  const spectra: Spectrum[] = [];
  let frames = 0;
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { type: string; data: unknown };
    if (msg.type === 'spectrum') spectra.push(msg.data as Spectrum);
    if (msg.type === 'telemetry') frames++;
  });
  await once(ws, 'open');
  await new Promise((r) => setTimeout(r, ms));
  ws.close();
  return { spectra, frames };
}

const loudest = (db: number[]) => db.indexOf(Math.max(...db));

describe('the spectrum on the telemetry socket (real supervisor and engine)', () => {
  let sup: RunningSupervisor;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hushbox-spectrum-'));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ engine: { input: 'tone:1000:-20' } }));
    sup = await startSupervisor({ args: ['--config', config] });
    // Every stage bypassed, so what goes out is what came in.
    const ids = (await getJson<Param[]>(`${sup.url}/api/params`)).map((p) => p.id);
    expect((await sendJson('PATCH', `${sup.url}/api/params`, { values: transparentParams(ids) })).status).toBe(200);
  });

  afterAll(async () => {
    await sup?.stop();
    sup?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries 1/6-octave bands in and out about 20 times a second, a 1 kHz tone at -20 dBFS in the 1 kHz band', async () => {
    await new Promise((r) => setTimeout(r, 500)); // the analysis window past the parameter change
    const { spectra, frames } = await collect(sup.url, 2000);
    // 20 a second, each new analysis once (a loaded machine may merge a few); the meters keep their own pace.
    expect(spectra.length).toBeGreaterThanOrEqual(25);
    expect(spectra.length).toBeLessThanOrEqual(45);
    expect(frames).toBeGreaterThan(spectra.length);
    const seqs = spectra.map((s) => s.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    const s = spectra.at(-1)!;
    expect(s.centreHz).toHaveLength(60);
    expect(s.centreHz[33]).toBe(1000);
    expect(s.centreHz[0]).toBeCloseTo(22.1, 1);
    for (const db of [s.inDb, s.outDb]) {
      expect(db).toHaveLength(60);
      expect(loudest(db)).toBe(33);
      expect(db[33]).toBeCloseTo(-20, 0);
      // Two bands away and further: nothing (the window's leakage is far down).
      for (let b = 0; b < 60; b++) if (Math.abs(b - 33) >= 2) expect(db[b]).toBeLessThan(-80);
    }
  }, 30_000);
});
