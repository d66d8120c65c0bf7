import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIO_CHOICE_FILE, loadAudioChoice, saveAudioChoice, withAudioChoice } from '../../src/engine/audio-choice.js';
import { loadConfig } from '../../src/config/config.js';
import { startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { ownerFetch } from '../fakes/owner-http.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino(stream), lines };
}

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hushbox-audio-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the audio settings chosen on the box', () => {
  it('are saved atomically and read back over the config file\'s', () => {
    const dir = dataDir();
    const { log } = capture();
    expect(loadAudioChoice(dir, log)).toBeNull();
    const engine = { ...loadConfig({ env: {}, dataDir: dir }).engine, rate: 96000, frames: 32, periods: 2, device: 'hw:CARD=Gen,DEV=0' };
    saveAudioChoice(dir, engine);
    // No temporary file left behind (loadConfig keeps the box's device id beside it).
    expect(readdirSync(dir).filter((name) => name !== 'device-id')).toEqual([AUDIO_CHOICE_FILE]);
    const back = loadAudioChoice(dir, log);
    expect(back).toMatchObject({ schema: 1, rate: 96000, frames: 32, periods: 2, device: 'hw:CARD=Gen,DEV=0' });
    const base = loadConfig({ env: {}, dataDir: dir }).engine;
    expect(withAudioChoice(base, back)).toEqual({ ...base, rate: 96000, frames: 32, periods: 2, device: 'hw:CARD=Gen,DEV=0' });
    expect(withAudioChoice(base, null)).toEqual(base);
  });

  it('a broken or invalid file is set aside, named in the log with what was wrong, and the config is used', () => {
    for (const [content, problem] of [
      ['{"schema": 1, "rate": 5, "frames": 64, "periods": 2, "device": "hw:Gen", "savedAt": "x"}', 'rate'],
      ['{ not json', 'JSON'],
    ] as const) {
      const dir = dataDir();
      writeFileSync(join(dir, AUDIO_CHOICE_FILE), content);
      const { log, lines } = capture();
      expect(loadAudioChoice(dir, log)).toBeNull();
      expect(existsSync(join(dir, AUDIO_CHOICE_FILE))).toBe(false);
      const aside = readdirSync(join(dir, 'broken'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(dir, 'broken', aside[0]!), 'utf8')).toBe(content); // nothing lost
      const warning = lines.find((l) => String(l.msg).includes('saved audio settings'));
      expect(String(warning?.problem)).toContain(problem);
    }
  });
});

describe('a profile chosen through the API survives a supervisor restart (real supervisor and engine)', () => {
  let sup: RunningSupervisor | undefined;
  afterEach(async () => {
    await sup?.stop();
  });

  it('comes back as it was, and the engine runs with it', async () => {
    const dir = dataDir();
    sup = await startSupervisor({ dataDir: dir });
    const before = (await (await ownerFetch(`${sup.url}/api/audio`)).json()) as { profile: string };
    expect(before.profile).not.toBe('lowlatency');
    const put = await ownerFetch(`${sup.url}/api/audio`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profile: 'lowlatency' }),
    });
    expect(put.status).toBe(200);
    const chosen = (await put.json()) as { profile: string; rate: number; frames: number; periods: number };
    expect(chosen.profile).toBe('lowlatency');
    expect(await sup.stop()).toBe(0);

    sup = await startSupervisor({ dataDir: dir });
    const after = (await (await ownerFetch(`${sup.url}/api/audio`)).json()) as {
      profile: string;
      rate: number;
      frames: number;
      periods: number;
      engine: { state: string };
    };
    expect(after).toMatchObject({ profile: 'lowlatency', rate: chosen.rate, frames: chosen.frames, periods: chosen.periods });
    expect(after.engine.state).toBe('running');
    const status = (await (await ownerFetch(`${sup.url}/api/status`)).json()) as Record<string, unknown>;
    expect(JSON.stringify(status)).toContain(`"frames":${chosen.frames}`);
  }, 60_000);
});
