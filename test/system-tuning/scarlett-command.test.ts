// `hushbox scarlett` on fixtures: what it says without a device, and bad input.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scarlettCommand } from '../../src/system/scarlett-command.js';
import { fixturePath, type FixtureName } from '../fakes/fixtures.js';
import { tempDir } from '../fakes/context.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function dataDirFor(name: FixtureName): string {
  const t = tempDir();
  cleanups.push(t.remove);
  writeFileSync(join(t.dir, 'config.json'), JSON.stringify({ system: { root: fixturePath(name) } }));
  return t.dir;
}

describe('hushbox scarlett', () => {
  it('says there is no Scarlett where there is none', () => {
    expect(() => scarlettCommand([], { dataDir: dataDirFor('no-interface'), json: false })).toThrow(/no Focusrite Scarlett is connected/);
  });

  it('rejects bad commands and bad patches before touching the device', () => {
    const dataDir = dataDirFor('pi4-scarlett-solo');
    expect(() => scarlettCommand(['frobnicate'], { dataDir, json: false })).toThrow(/unknown scarlett command 'frobnicate'/);
    expect(() => scarlettCommand(['msd', 'maybe'], { dataDir, json: false })).toThrow(/msd off\|on/);
    expect(() => scarlettCommand(['set', '{nope'], { dataDir, json: false })).toThrow(/not valid JSON/);
    expect(() => scarlettCommand(['set', '{"volume": 11}'], { dataDir, json: false })).toThrow(/scarlett set: .*volume|Unexpected property/);
  });

  it('names the card it could not open (controls need the real device)', () => {
    expect(() => scarlettCommand([], { dataDir: dataDirFor('pi4-scarlett-solo'), json: true })).toThrow(/controls of hw:2/);
  });
});
