// `hushbox status` and `hushbox profile` against a real supervisor and engine.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { startSupervisor } from '../fakes/supervisor.js';

const run = promisify(execFile);
let box: Awaited<ReturnType<typeof startSupervisor>>;
let url: string;
const hushbox = (...args: string[]) => run(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), ...args, '--url', url, '--token', box.token]);

beforeAll(async () => {
  box = await startSupervisor();
  url = `http://127.0.0.1:${box.sup.web.port()}/`;
});
afterAll(() => box?.stop());

describe('hushbox status', () => {
  it('shows the engine, the audio settings, the preset and the levels of the running box', async () => {
    const { stdout } = await hushbox('status');
    expect(stdout).toMatch(/^engine +running \(pid \d+\), sim hw:Gen, 0 restart\(s\)$/m);
    expect(stdout).toMatch(/^audio +48000 Hz, 64 x 2 \(balanced\), latency [\d.]+ ms, DSP load/m);
    expect(stdout).toMatch(/^preset +none, bypass off$/m);
    expect(stdout).toMatch(/^levels +in /m);
    await box.sup.presets.apply('Podcast', 'test');
    expect((await hushbox('status')).stdout).toMatch(/^preset +Podcast, bypass off$/m);
    const json = JSON.parse((await hushbox('status', '--json')).stdout);
    expect(json.status.engine.state).toBe('running');
    expect(json.state.preset).toBe('Podcast');
  });

  it('says plainly when no box answers', async () => {
    const err = await run(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'status', '--url', 'http://127.0.0.1:9/']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain('no hushbox answers at http://127.0.0.1:9/');
  });
});

describe('hushbox profile', () => {
  it('lists the profiles the engine declares and marks the current one', async () => {
    const { stdout } = await hushbox('profile');
    expect(stdout).toMatch(/^profile balanced: 48000 Hz, 64 x 2, sim hw:Gen$/m);
    expect(stdout).toMatch(/^\* balanced +48000 Hz, 64 x 2/m);
    for (const name of ['studio', 'streaming', 'lowlatency']) expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('switches the profile: the engine restarts with the new period and the same parameters', async () => {
    await box.sup.engine.setParams({ 'mic.trim.gain': -5 }, 'test');
    const pid = box.sup.engine.status().pid;
    const { stdout } = await hushbox('profile', 'streaming');
    expect(stdout).toMatch(/^profile streaming: 48000 Hz, 256 x 3/m);
    expect(box.sup.engine.ioConfig()).toMatchObject({ frames: 256, periods: 3 });
    expect(box.sup.engine.status()).toMatchObject({ state: 'running' });
    expect(box.sup.engine.status().pid).not.toBe(pid);
    expect(box.sup.engine.params().find((p) => p.id === 'mic.trim.gain')!.value).toBe(-5);
  });

  it('refuses an unknown profile naming the choices, and changes nothing', async () => {
    const before = box.sup.engine.status().pid;
    const err = await hushbox('profile', 'loud').catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain("unknown profile 'loud': choose studio, balanced, streaming, lowlatency");
    expect(box.sup.engine.status().pid).toBe(before);
  });
});
