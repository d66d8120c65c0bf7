// The rauc command line as src/ota/rauc.ts runs it: progress parsing and
// failures, with a stand-in executable that prints what RAUC prints.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { raucCli, type OtaSettings } from '../../src/ota/rauc.js';
import { tempDir } from '../fakes/temp-context.js';

describe('raucCli', () => {
  const tmp = tempDir('hushbox-rauccli-');
  afterAll(() => tmp.cleanup());

  function settings(script: string): OtaSettings {
    const exe = join(tmp.dir, `rauc-${Math.random().toString(36).slice(2)}`);
    writeFileSync(exe, `#!/bin/sh\n${script}\n`);
    chmodSync(exe, 0o755);
    return { systemConf: join(tmp.dir, 'system.conf'), keyring: '/nonexistent', compatible: 'hushbox-x86_64', maxBundleBytes: 1, rauc: exe };
  }

  it('reports install progress from lines ended by newlines or carriage returns, and the last line as the result', async () => {
    const s = settings(`[ "$1" = install ] || exit 9
printf '  0%% Installing\\n'
printf ' 20%% Checking bundle\\r 40%% Copying image to rootfs.1\\r'
printf 'installing /data/b.raucb: 80%% Copying image to rootfs.1\\n'
printf '100%% Installing done.\\n'
echo 'Installing \`/data/b.raucb\` succeeded'`);
    const seen: [number, string][] = [];
    const r = await raucCli(() => s).install('/data/b.raucb', (p, m) => seen.push([p, m]));
    expect(seen).toEqual([
      [0, 'Installing'],
      [20, 'Checking bundle'],
      [40, 'Copying image to rootfs.1'],
      [80, 'Copying image to rootfs.1'],
      [100, 'Installing done.'],
    ]);
    expect(r).toEqual({ ok: true, message: 'Installing `/data/b.raucb` succeeded' });
  });

  it("answers RAUC's reason when an install or mark-good fails, and when rauc cannot be run", async () => {
    const s = settings(`echo 'rauc-Message: 12:00:00.000: installing' >&2; echo 'Failed to mount bundle: No space left on device' >&2; exit 1`);
    expect(await raucCli(() => s).install('/x.raucb', () => undefined)).toEqual({ ok: false, message: 'Failed to mount bundle: No space left on device' });
    expect(await raucCli(() => s).markGood()).toEqual({ ok: false, message: 'Failed to mount bundle: No space left on device' });
    const missing = { ...s, rauc: join(tmp.dir, 'no-such-rauc') };
    expect(await raucCli(() => missing).markGood()).toEqual({ ok: false, message: 'rauc could not be run (ENOENT)' });
  });

  it('marks the booted slot good with `rauc status mark-good`', async () => {
    const log = join(tmp.dir, 'args');
    const s = settings(`echo "$@" > ${log}; echo 'marked slot rootfs.1 as good'`);
    expect(await raucCli(() => s).markGood()).toEqual({ ok: true, message: 'marked slot rootfs.1 as good' });
    expect(readFileSync(log, 'utf8').trim()).toBe(`--conf ${s.systemConf} status mark-good`);
  });
});
