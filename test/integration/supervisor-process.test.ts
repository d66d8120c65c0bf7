// The supervisor and the preset store as real processes, killed with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MosquittoProcess } from '../../src/mqtt/local-broker.js';
import { PresetV1Schema } from '../../src/presets/schema.js';
import { PresetStore } from '../../src/presets/store.js';
import { packageRoot } from '../../src/paths.js';
import { freePort, startBroker, TestClient } from '../fakes/broker.js';
import { tempDir } from '../fakes/temp-context.js';

const built = existsSync(join(packageRoot, 'dist', 'presets', 'store.js'));

let broker: MosquittoProcess;
let url: string;
const tmp = tempDir('hushbox-proc-');
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!built) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  ({ broker, url } = await startBroker());
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await broker?.dispose();
  tmp.cleanup();
});

describe('supervisor process', () => {
  it('goes offline through the last will when the supervisor is killed with SIGKILL', async () => {
    const dataDir = join(tmp.dir, 'sup');
    const port = await freePort();
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'hushbox.js'), 'start', '--data', dataDir], {
      env: { ...process.env, HUSHBOX_MQTT_URL: url, HUSHBOX_HTTP_PORT: String(port), HUSHBOX_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const c = await TestClient.connect(url, ['hushbox/+/availability']);
    try {
      const online = await c.waitFor((m) => m.payload === 'online', `online (supervisor stderr: ${stderr})`, 20_000);
      const since = c.messages.length;
      child.kill('SIGKILL');
      await once(child, 'exit');
      const offline = await c.waitFor((m) => m.topic === online.topic && m.payload === 'offline', 'offline via the last will', 20_000, since);
      expect(offline.topic).toBe(online.topic);
      // a client arriving later sees the retained offline
      const late = await TestClient.connect(url, [online.topic]);
      try {
        expect((await late.waitFor((m) => m.retain, 'retained availability')).payload).toBe('offline');
      } finally {
        await late.end();
      }
    } finally {
      await c.end();
    }
  });
});

describe('preset store under SIGKILL', () => {
  it('leaves no broken preset file when the writer is killed at random moments', async () => {
    const dir = join(tmp.dir, 'presets');
    let killedMidWrite = 0;
    for (let round = 0; round < 15; round++) {
      const child = spawn(process.execPath, [join(packageRoot, 'test', 'fakes', 'preset-writer.mjs'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      await once(child.stdout!, 'data');
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 120));
      child.kill('SIGKILL');
      await once(child, 'exit');
      if (readdirSync(dir).some((f) => f.startsWith('.tmp-'))) killedMidWrite++;
      // every complete file parses and validates, at every kill
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.json') && !x.startsWith('.'))) {
        const p: unknown = JSON.parse(readFileSync(join(dir, f), 'utf8'));
        expect(Value.Check(PresetV1Schema, p), `${f} after round ${round}`).toBe(true);
      }
    }
    // the kills did land inside writes (temporary files left behind), so the test means something
    expect(killedMidWrite).toBeGreaterThan(0);
    const result = new PresetStore(dir).load();
    expect(result.broken).toEqual([]);
    expect(result.presets.length).toBe(7);
    // debris of interrupted writes is gone after a load
    expect(readdirSync(dir).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });
});
