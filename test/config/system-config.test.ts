// The `system` config section: tuning off by default, on by HUSHBOX_TUNE=1 or the file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { tempDir } from '../fakes/context.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function dir(config?: unknown): string {
  const t = tempDir();
  cleanups.push(t.remove);
  if (config !== undefined) writeFileSync(join(t.dir, 'config.json'), JSON.stringify(config));
  return t.dir;
}

describe('system config', () => {
  it('does not tune a developer machine by default', () => {
    expect(loadConfig({ dataDir: dir(), env: {} }).system).toEqual({ root: '/', tune: false, audioCpu: -1, irqPriority: 90, swappiness: 10 });
  });

  it('tunes when the environment or the file says so; the environment wins', () => {
    expect(loadConfig({ dataDir: dir(), env: { HUSHBOX_TUNE: '1' } }).system?.tune).toBe(true);
    expect(loadConfig({ dataDir: dir({ system: { tune: true } }), env: {} }).system?.tune).toBe(true);
    expect(loadConfig({ dataDir: dir({ system: { tune: true } }), env: { HUSHBOX_TUNE: '0' } }).system?.tune).toBe(false);
    expect(loadConfig({ dataDir: dir(), env: { HUSHBOX_ROOT: '/tmp/fake' } }).system?.root).toBe('/tmp/fake');
  });

  it('names what is wrong', () => {
    expect(() => loadConfig({ dataDir: dir(), env: { HUSHBOX_TUNE: 'yes' } })).toThrow(/HUSHBOX_TUNE: expected 0 or 1, got 'yes'/);
    expect(() => loadConfig({ dataDir: dir({ system: { irqPriority: 120 } }), env: {} })).toThrow(/\/system\/irqPriority/);
    expect(() => loadConfig({ dataDir: dir({ system: { tunning: true } }), env: {} })).toThrow(/\/system/);
  });
});
