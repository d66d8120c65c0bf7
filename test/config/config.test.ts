import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig, resolveDataDir } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';

describe('config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hushbox-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('works with no file at all: the sim backend on port 8080', () => {
    const cfg = loadConfig({ dataDir: dir, env: {} });
    expect(cfg.http.port).toBe(8080);
    expect(cfg.engine.backend).toBe('sim');
    expect(cfg).toEqual(defaultConfig({}));
  });

  it('takes the device id from HUSHBOX_DEVICE_ID (the image derives it from the machine id) and refuses a bad one', () => {
    expect(loadConfig({ dataDir: dir, env: { HUSHBOX_DEVICE_ID: 'hushbox-1a2b3c4d' } }).deviceId).toBe('hushbox-1a2b3c4d');
    expect(() => loadConfig({ dataDir: dir, env: { HUSHBOX_DEVICE_ID: 'Box One' } })).toThrow(/HUSHBOX_DEVICE_ID: expected .* got 'Box One'/);
  });

  it('merges a config file over the defaults, and the environment over both', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ name: 'Studio box', engine: { frames: 128 }, http: { port: 9000 } }));
    const cfg = loadConfig({ dataDir: dir, env: { HUSHBOX_HTTP_PORT: '9100' } });
    expect(cfg.name).toBe('Studio box');
    expect(cfg.engine.frames).toBe(128);
    expect(cfg.engine.rate).toBe(48000);
    expect(cfg.http.port).toBe(9100);
  });

  it('names the field that is wrong', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ engine: { frames: 7, backend: 'pulse' } }));
    const err = (() => {
      try {
        loadConfig({ dataDir: dir, env: {} });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected an error');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain(join(dir, 'config.json'));
    expect(err.message).toContain('/engine/frames');
    expect(err.message).toContain('/engine/backend');
  });

  it('rejects unknown keys, broken JSON and a bad port in the environment', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ enginee: {} }));
    expect(() => loadConfig({ dataDir: dir, env: {} })).toThrow(/enginee/);
    writeFileSync(join(dir, 'config.json'), '{ "name": ');
    expect(() => loadConfig({ dataDir: dir, env: {} })).toThrow(/not valid JSON/);
    rmSync(join(dir, 'config.json'));
    expect(() => loadConfig({ dataDir: dir, env: { HUSHBOX_HTTP_PORT: 'eighty' } })).toThrow(/HUSHBOX_HTTP_PORT.*'eighty'/);
  });

  it('complains about a config file given explicitly that does not exist', () => {
    expect(() => loadConfig({ file: join(dir, 'nope.json'), dataDir: dir, env: {} })).toThrow(/nope\.json: cannot read/);
  });

  it('resolves the data directory from the flag, then HUSHBOX_DATA_DIR, then XDG', () => {
    expect(resolveDataDir('/x/y', { HUSHBOX_DATA_DIR: '/z' })).toBe('/x/y');
    expect(resolveDataDir(undefined, { HUSHBOX_DATA_DIR: '/z' })).toBe('/z');
    expect(resolveDataDir(undefined, { XDG_DATA_HOME: '/xdg' })).toBe('/xdg/hushbox');
  });
});
