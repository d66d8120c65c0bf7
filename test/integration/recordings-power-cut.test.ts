// A power cut mid-take, as near as a test process gets to one: the engine and
// the supervisor killed with SIGKILL while a take records (nothing finishes
// the file). At the next start the take is repaired (a WAV's header set to
// what the file holds, a FLAC re-encoded into a finished file) and kept, and
// it has all but about the last second. The image's QEMU test cuts the power
// of a whole box; this one runs in the ordinary suite.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CurrentTake, Recordings } from '../../src/recording/schema.js';
import { readTakeHeader } from '../../src/recording/take-files.js';
import { waitFor } from '../fakes/net.js';
import { getJson, sendJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';
import { alive } from '../fakes/process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running: RunningSupervisor[] = [];
const copies = mkdtempSync(join(tmpdir(), 'hushbox-cut-'));

afterAll(async () => {
  for (const s of running) {
    await s.stop();
    s.cleanup();
  }
});

describe.each(['wav', 'flac'] as const)('a %s take through a power cut', (format) => {
  it('is repaired and kept at the next start, losing at most the last second', async () => {
    const first = await startSupervisor({ startTimeoutMs: 60_000 });
    running.push(first);
    const started = (await sendJson('POST', `${first.url}/api/recordings/start`, { source: 'mix', format })).body as CurrentTake;
    expect(started).toMatchObject({ state: 'recording', format, channels: 2 });
    const name = started.name!;
    await sleep(3500);
    const { engine } = await getJson<{ engine: { pid: number } }>(`${first.url}/api/status`);
    const before = (await getJson<Recordings>(`${first.url}/api/recordings`)).current!;
    expect(before.state).toBe('recording');
    // The cut: the engine first (it would finish the file on a SIGTERM), then the supervisor.
    process.kill(engine.pid, 'SIGKILL');
    first.proc.kill('SIGKILL');
    await once(first.proc, 'exit');
    await waitFor('the engine gone', () => !alive(engine.pid));
    const path = join(first.dataDir, 'recordings', name);
    copyFileSync(path, join(copies, `cut.${format}`));
    const cut = readTakeHeader(path);
    // Nothing finished it: a FLAC has no length yet; a WAV's header says at most its last rewrite.
    if (format === 'flac') expect(cut.frames).toBeNull();
    else expect(cut.frames!).toBeLessThanOrEqual(before.seconds * 48000 + 48000);

    const second = await startSupervisor({ dataDir: first.dataDir, startTimeoutMs: 60_000 });
    running.push(second);
    const take = await waitFor('the take repaired and listed with its length', async () => {
      const t = (await getJson<Recordings>(`${second.url}/api/recordings`)).takes.find((x) => x.name === name);
      return t && t.durationS !== null ? t : null;
    }, 20_000);
    expect(take).toMatchObject({ format, rate: 48000, channels: 2, recording: false });
    // At most the last second lost (the writer syncs and rewrites the header every second).
    expect(take.durationS!).toBeGreaterThan(before.seconds - 1);
    expect(take.durationS!).toBeLessThan(before.seconds + 1);
    // sox (not our code, not libsndfile) reads the whole take, as long as its header says.
    const frames = Number(execFileSync('soxi', ['-s', path]).toString().trim());
    expect(frames / 48000).toBeCloseTo(take.durationS!, 3); // the list rounds to the millisecond
    const raw = execFileSync('sox', ['-V1', path, '-t', 'raw', '-e', 'signed-integer', '-b', '32', '-'], { maxBuffer: 1 << 28 });
    expect(raw.length / 4 / 2).toBe(frames);
    // The audio kept is all the audio the cut file holds, sample for sample: every whole frame of the WAV's data
    // (read to the end of the file, whatever its header said), every whole frame of the FLAC.
    const cutRaw = execFileSync('sox', ['-V1', ...(format === 'wav' ? ['--ignore-length'] : []), join(copies, `cut.${format}`), '-t', 'raw', '-e', 'signed-integer', '-b', '32', '-'], { maxBuffer: 1 << 28 });
    expect(raw.length).toBe(cutRaw.length - (cutRaw.length % 8));
    expect(raw.equals(cutRaw.subarray(0, raw.length))).toBe(true);
    // Nothing left beside it.
    expect(readdirSync(join(first.dataDir, 'recordings')).filter((n) => !n.endsWith('.wav') && !n.endsWith('.flac'))).toEqual([]);
    // And it stays as it is: a third start has nothing to repair.
    await second.stop();
    const third = await startSupervisor({ dataDir: first.dataDir, startTimeoutMs: 60_000 });
    running.push(third);
    const again = (await getJson<Recordings>(`${third.url}/api/recordings`)).takes.find((x) => x.name === name)!;
    expect(again.durationS).toBe(take.durationS);
    expect(again.bytes).toBe(take.bytes);
  }, 240_000); // three supervisor starts (20 s each on a loaded machine) and a take
});
