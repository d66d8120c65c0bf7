// `hushbox preset ...` against a real supervisor.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { startSupervisor } from '../fakes/supervisor.js';

const run = promisify(execFile);
let box: Awaited<ReturnType<typeof startSupervisor>>;
let url: string;
const hushbox = (...args: string[]) => run(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'preset', ...args, '--url', url, '--token', box.token]);

beforeAll(async () => {
  box = await startSupervisor();
  url = `http://127.0.0.1:${box.sup.web.port()}/`;
});
afterAll(() => box?.stop());

describe('hushbox preset', () => {
  it('lists, applies, imports (dry run first), exports and deletes presets of the running box', async () => {
    expect((await hushbox('list')).stdout).toMatch(/^podcast\s+Podcast\s+\(factory\)/m);

    const applied = JSON.parse((await hushbox('apply', 'Studio voice')).stdout);
    expect(applied.applied).toMatchObject({ 'mic.trim.gain': 2, 'mic.comp.threshold': -24, 'mic.limit.ceiling': -0.5 });
    expect(box.sup.engine.params().find((p) => p.id === 'mic.trim.gain')!.value).toBe(2);

    const file = join(box.dataDir, 'bundle.json');
    writeFileSync(file, JSON.stringify([{ name: 'Shell one', 'mic.trim.gain': -1 }]));
    const dry = JSON.parse((await hushbox('import', file, '--dry-run')).stdout);
    expect(dry).toMatchObject({ dryRun: true, items: [{ action: 'create', id: 'shell-one', migratedFrom: 0 }] });
    expect((await hushbox('list')).stdout).not.toMatch(/shell-one/);
    await hushbox('import', file);
    expect((await hushbox('list')).stdout).toMatch(/^shell-one\s+Shell one$/m);

    const out = join(box.dataDir, 'out.json');
    await hushbox('export', out);
    expect(JSON.parse(readFileSync(out, 'utf8')).presets.map((p: { id: string }) => p.id)).toEqual(['shell-one']);
    await hushbox('delete', 'shell-one');
    expect((await hushbox('list')).stdout).not.toMatch(/shell-one/);
  });

  it('fails with the message of the box, and says so when no box answers', async () => {
    await expect(hushbox('apply', 'Karaoke')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/no preset with id or name 'Karaoke'/) });
    await expect(run(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'preset', 'list', '--url', 'http://127.0.0.1:1/'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/no hushbox answers at http:\/\/127\.0\.0\.1:1\//),
    });
  });
});
