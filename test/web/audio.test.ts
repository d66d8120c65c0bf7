// /api/audio against a real engine (sim backend) through inject().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIO_CHOICE_FILE } from '../../src/engine/audio-choice.js';
import { EngineService } from '../../src/engine/engine-service.js';
import type { App } from '../../src/web/app.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultEngineBinary } from '../../src/paths.js';
import { contextWith, tempDir } from '../fakes/context.js';

let engine: EngineService;
let app: App;
let dataDir: string;

beforeAll(async () => {
  const ctx = contextWith({ engine: { priority: 0 } });
  dataDir = ctx.dataDir;
  engine = new EngineService(ctx);
  await engine.start();
  app = await buildOwnerApp({ ctx, engine });
});

afterAll(async () => {
  await app?.close();
  await engine?.stop();
});

describe('/api/audio', () => {
  it('answers the current profile and device', async () => {
    const r = await app.inject({ method: 'GET', url: '/api/audio' });
    expect(r.statusCode).toBe(200);
    // 48 kHz, 64 x 2 is what the engine declares as 'balanced'; the table comes from the engine.
    expect(r.json()).toMatchObject({ profile: 'balanced', rate: 48000, frames: 64, periods: 2, device: 'hw:Gen', engine: { state: 'running' } });
    const declared = JSON.parse(execFileSync(defaultEngineBinary(), ['profiles', '--json'], { encoding: 'utf8' })) as Array<{ name: string; rate: number; frames: number; periods: number }>;
    for (const p of declared) expect(r.json().profiles[p.name]).toMatchObject({ rate: p.rate, frames: p.frames, periods: p.periods });
  });

  it('switches the profile: the engine restarts with the new period and keeps its parameters', async () => {
    await engine.setParams({ 'mic.trim.gain': -4 }, 'test');
    const pid = engine.status().pid;
    const r = await app.inject({ method: 'PUT', url: '/api/audio', payload: { profile: 'streaming' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ profile: 'streaming', frames: 256, periods: 3, engine: { state: 'running' } });
    expect(engine.status().pid).not.toBe(pid);
    expect(engine.params().find((p) => p.id === 'mic.trim.gain')!.value).toBe(-4);
  });

  it('rejects bad settings naming the field, and changes nothing', async () => {
    const before = engine.status().pid;
    for (const payload of [{ profile: 'loud' }, { frames: 3 }, { rate: 48000, color: 'red' }, {}, { device: 'hw:Gen; rm -rf /' }]) {
      const r = await app.inject({ method: 'PUT', url: '/api/audio', payload });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(r.json().error).toBe('invalid_input');
    }
    const bad = await app.inject({ method: 'PUT', url: '/api/audio', payload: { frames: 3 } });
    expect(bad.json().message).toMatch(/frames/);
    expect(engine.status().pid).toBe(before);
    expect((await app.inject({ method: 'GET', url: '/api/audio' })).json().profile).toBe('streaming');
  });

  it('answers 422 when the engine cannot run with valid settings, and keeps the old ones', async () => {
    const tmp = tempDir();
    const bin = join(tmp.dir, 'no-32-frames.sh');
    // An engine (the real one) that, like a device, refuses one period size.
    writeFileSync(bin, `#!/bin/sh\ncase " $* " in *" --frames 32 "*) echo 'period size 32 not supported by the device' >&2; exit 2;; esac\nexec '${defaultEngineBinary()}' "$@"\n`);
    chmodSync(bin, 0o755);
    const ctx = contextWith({ engine: { priority: 0, binary: bin } });
    const picky = new EngineService(ctx);
    const app2 = await buildOwnerApp({ ctx, engine: picky });
    try {
      await picky.start();
      await picky.setParams({ 'mic.trim.gain': -2 }, 'test');
      const r = await app2.inject({ method: 'PUT', url: '/api/audio', payload: { profile: 'lowlatency' } });
      expect(r.statusCode).toBe(422);
      expect(r.json()).toMatchObject({ error: 'engine_config_rejected', message: expect.stringMatching(/period size 32 not supported/) });
      const now = (await app2.inject({ method: 'GET', url: '/api/audio' })).json();
      expect(now).toMatchObject({ profile: 'balanced', frames: 64, engine: { state: 'running' } });
      expect(picky.params().find((p) => p.id === 'mic.trim.gain')!.value).toBe(-2);
    } finally {
      await app2.close();
      await picky.stop();
      tmp.remove();
    }
  });

  it('runs two profile changes sent at once one after the other', async () => {
    const [a, b] = await Promise.all([
      app.inject({ method: 'PUT', url: '/api/audio', payload: { profile: 'balanced' } }),
      app.inject({ method: 'PUT', url: '/api/audio', payload: { profile: 'lowlatency' } }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.json().profile).toBe('balanced');
    expect(b.json().profile).toBe('lowlatency');
    expect(engine.ioConfig()).toMatchObject({ frames: 32 });
    expect(engine.status().state).toBe('running');
  });
  it('does not answer 200 when the new settings cannot be saved: the error says they hold only until the supervisor stops', async () => {
    // A directory where the saved choice goes: the atomic rename over it fails (as root, a read-only mode would not).
    const dir = join(dataDir, AUDIO_CHOICE_FILE);
    rmSync(dir, { force: true });
    mkdirSync(join(dir, 'blocker'), { recursive: true });
    try {
      const r = await app.inject({ method: 'PUT', url: '/api/audio', payload: { profile: 'balanced' } });
      expect(r.statusCode, r.body).toBe(500);
      expect(r.json()).toMatchObject({ error: 'not_saved', message: expect.stringMatching(/in use but could not be saved; they hold until the supervisor stops/) });
      expect(engine.status().state).toBe('running');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
