// The session log on a data partition that fills up (a small tmpfs, mounted here as root): the log
// stops at the reserve the box keeps for its settings, says so, and the box goes on; with room
// again it writes again and marks the gap.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../fakes/net.js';
import { getJson, sendJson, startSupervisor, type RunningSupervisor } from '../fakes/supervisor-process.js';

let mnt: string;
const RESERVE = 1024 * 1024;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs and must run as root (CI does)');
  mnt = mkdtempSync(join(tmpdir(), 'hushbox-histfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', mnt]);
});
afterAll(() => {
  if (mnt) {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

const free = () => {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
};

/** Fill the filesystem until only `leave` bytes are free. */
function fill(path: string, leave: number): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    while (free() > leave) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

interface Sessions {
  log: { writing: boolean; reason: string | null };
}

describe('the session log on a filling data partition', () => {
  let box: RunningSupervisor | undefined;
  afterAll(async () => {
    await box?.stop();
  });

  it('stops at the reserve without failing anything, and writes again (gap marked) once there is room', async () => {
    const dataDir = join(mnt, 'data');
    execFileSync('mkdir', ['-p', dataDir]);
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ history: { sampleMs: 100, flushMs: 200, rotateBytes: 1024 * 1024, maxBytes: 4 * 1024 * 1024 } }));
    // About 160 KiB above the reserve: some seconds of samples (JSON lines and CSV, ~9 KB a second; no part
    // is closed and gzipped before that).
    const filler = join(mnt, 'filler');
    fill(filler, RESERVE + 160 * 1024);
    box = await startSupervisor({ dataDir, env: { HUSHBOX_DATA_RESERVE_MB: '1' } });
    const url = box.url;

    const stopped = await waitFor('the log to stop', async (): Promise<Sessions | undefined> => {
      const s = await getJson<Sessions>(`${url}/api/history/sessions`);
      return s.log.writing ? undefined : s;
    }, 60_000, 250);
    expect(stopped.log.reason).toMatch(/the data partition has [\d.]+ MiB free and keeps 1.0 MiB for settings/);
    // Never into the reserve (a little under it at most: what the rest of the box wrote meanwhile).
    expect(free()).toBeGreaterThan(RESERVE - 64 * 1024);
    const events = await getJson<{ events: Array<{ type: string; message: string }> }>(`${url}/api/events`);
    expect(events.events.find((e) => e.type === 'data_full')?.message).toMatch(/^the session log stopped: /);

    // The box goes on: the engine runs, the history answers from memory, changes are made.
    const status = await getJson<{ engine: { state: string } }>(`${url}/api/status`);
    expect(status.engine.state).toBe('running');
    const range = await getJson<{ data: Array<Array<number | null>> }>(`${url}/api/history?from=-3&step=1`);
    expect(range.data[0]!.length).toBeGreaterThanOrEqual(2);
    expect((await sendJson('PUT', `${url}/api/params/mic.trim.gain`, { value: -3 })).status).toBe(200);
    const samplesAt = free();
    await new Promise((r) => setTimeout(r, 1500));
    expect(free()).toBeGreaterThanOrEqual(samplesAt - 16 * 1024); // nothing more from the log

    // Room again: it writes again, and the files say where samples are missing.
    rmSync(filler);
    await waitFor('the log to write again', async () => (await getJson<Sessions>(`${url}/api/history/sessions`)).log.writing, 10_000, 200);
    await waitFor('a gap line', () => {
      const dir = join(dataDir, 'history');
      const text = readdirSync(dir)
        .filter((f) => f.includes('.jsonl'))
        .map((f) => (f.endsWith('.gz') ? gunzipSync(readFileSync(join(dir, f))).toString() : readFileSync(join(dir, f), 'utf8')))
        .join('');
      return /"type":"gap","from":[\d.]+,"to":[\d.]+,"reason":"no_samples"/.test(text);
    }, 10_000, 200);
  }, 120_000);
});
