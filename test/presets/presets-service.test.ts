import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BoxState } from '../../src/presets/state.js';
import { PresetsService } from '../../src/presets/presets-service.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { TableEngine, FULL_TABLE, SKELETON_TABLE } from '../fakes/table-engine.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

async function setup(table = SKELETON_TABLE) {
  const ctx = makeContext(tmp.dir);
  const engine = new TableEngine(table, ctx.bus);
  const presets = new PresetsService({ ctx, engine: engine.asService() });
  await presets.start();
  const states: BoxState[] = [];
  ctx.bus.on('stateChanged', 'test', (s) => void states.push(s));
  return { ctx, engine, presets, states };
}

const audit = () =>
  readFileSync(join(tmp.dir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { action: string; id?: string; source: string });

describe('PresetsService', () => {
  it('applies the parameters the engine has in one batch and reports the ones it lacks', async () => {
    const { engine, presets, states } = await setup();
    const r = await presets.apply('Podcast', 'test');
    expect(engine.batches).toHaveLength(1);
    expect(engine.batches[0]!.values).toEqual({ 'mic.trim.gain': 6 });
    expect(r.applied).toEqual({ 'mic.trim.gain': 6 });
    expect(r.unknown).toContain('mic.comp.threshold');
    expect(r.warnings.join()).toMatch(/running engine has no .*mic\.comp\.threshold/);
    expect(states.at(-1)).toMatchObject({ preset: 'Podcast', preset_id: 'podcast', preset_modified: false });
  });

  it('changes nothing when a preset has a value out of range for the running engine', async () => {
    const { engine, presets } = await setup();
    writeFileSync(
      join(tmp.dir, 'presets', 'hot.json'),
      JSON.stringify({ schema: 1, id: 'hot', name: 'Hot', tags: [], notes: '', created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z', params: { 'inst.trim.gain': 2, 'mic.trim.gain': 40 } }),
    );
    await presets.stop();
    await presets.start();
    await expect(presets.apply('hot', 'test')).rejects.toThrow(/mic\.trim\.gain: 40 is outside -24\.\.24 dB/);
    expect(engine.batches).toHaveLength(0);
    expect(engine.values.get('inst.trim.gain')).toBe(0);
  });

  it('refuses to create a preset with an out-of-range value and writes nothing', async () => {
    const { presets } = await setup();
    expect(() => presets.create({ name: 'Loud', params: { 'mic.trim.gain': 99 } }, 'test')).toThrow(/outside/);
    expect(readdirSync(join(tmp.dir, 'presets'))).toEqual([]);
  });

  it('leaves locked parameters alone on recall and says so', async () => {
    const { engine, presets } = await setup(FULL_TABLE);
    await engine.setParams({ 'master.gain': -6 }, 'test');
    presets.setLocks({ locked: ['master.gain'] }, 'test');
    presets.create({ name: 'Loud master', params: { 'master.gain': 6, 'mic.trim.gain': 3 } }, 'test');
    const r = await presets.apply('loud-master', 'test');
    expect(engine.values.get('master.gain')).toBe(-6);
    expect(engine.values.get('mic.trim.gain')).toBe(3);
    expect(r.locked).toEqual(['master.gain']);
    // the lock is a setting on the data partition
    expect(JSON.parse(readFileSync(join(tmp.dir, 'preset-locks.json'), 'utf8'))).toEqual({ locked: ['master.gain'] });
  });

  it('saves the current state as a preset, persists it and audits every change', async () => {
    const { engine, presets } = await setup();
    await engine.setParams({ 'mic.trim.gain': -3.5 }, 'test');
    const { preset } = presets.create({ name: 'My voice', tags: ['me'] }, 'test');
    expect(preset).toMatchObject({ id: 'my-voice', params: { 'mic.trim.gain': -3.5, 'inst.trim.gain': 0 }, factory: false });
    const onDisk = JSON.parse(readFileSync(join(tmp.dir, 'presets', 'my-voice.json'), 'utf8'));
    expect(onDisk).toMatchObject({ schema: 1, id: 'my-voice', name: 'My voice', tags: ['me'] });
    presets.update('my-voice', { notes: 'warm' }, 'test');
    presets.remove('my-voice', 'test');
    expect(existsSync(join(tmp.dir, 'presets', 'my-voice.json'))).toBe(false);
    expect(audit().map((e) => e.action)).toEqual(['preset.create', 'preset.update', 'preset.delete']);
  });

  it('refuses duplicate names and changes to factory presets', async () => {
    const { presets } = await setup();
    expect(() => presets.create({ name: 'podcast' }, 'test')).toThrow(/already exists/);
    expect(() => presets.update('podcast', { notes: 'x' }, 'test')).toThrow(/factory preset and read-only/);
    expect(() => presets.remove('bypass', 'test')).toThrow(/cannot be deleted/);
  });

  it('sets a broken file aside at start and loads the others', async () => {
    const dir = join(tmp.dir, 'presets');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'broken.json'), '{"schema": 1, "name": "Bro');
    writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ schema: 1, name: 'W', params: { 'mic.trim.gain': 'x' } }));
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ name: 'Old', 'mic.trim.gain': 1 }));
    writeFileSync(join(dir, '.tmp-good.json.123.abc'), '{"half');
    writeFileSync(join(dir, 'Hand Made.json'), JSON.stringify({ name: 'Hand made', 'inst.trim.gain': 2 }));
    const { presets } = await setup();
    expect(presets.list().filter((p) => !p.factory).map((p) => p.id)).toEqual(['hand-made', 'old']);
    expect(readdirSync(join(dir, 'broken')).sort().map((f) => f.replace(/\.json\..*$/, '.json'))).toEqual(['broken.json', 'wrong.json']);
    expect(readdirSync(dir).sort()).toEqual(['broken', 'hand-made.json', 'old.json']);
    // the v0 file was migrated in place
    expect(JSON.parse(readFileSync(join(dir, 'old.json'), 'utf8'))).toMatchObject({ schema: 1, id: 'old', params: { 'mic.trim.gain': 1 } });
    expect(audit().filter((e) => e.action === 'preset.broken')).toHaveLength(2);
  });

  it('stores A and B, toggles between them, and shows the difference', async () => {
    const { engine, presets } = await setup();
    await expect(presets.abToggle('test')).rejects.toThrow(/slot A is empty/);
    await engine.setParams({ 'mic.trim.gain': 3 }, 'test');
    presets.abStore('A', 'test');
    await engine.setParams({ 'mic.trim.gain': -3, 'inst.trim.gain': 1 }, 'test');
    presets.abStore('B', 'test');
    expect(presets.abDiff()).toEqual([
      { id: 'inst.trim.gain', A: 0, B: 1 },
      { id: 'mic.trim.gain', A: 3, B: -3 },
    ]);
    const r = await presets.abToggle('test');
    expect(r.active).toBe('A');
    expect(engine.values.get('mic.trim.gain')).toBe(3);
    expect(engine.batches.at(-1)!.values).toEqual({ 'mic.trim.gain': 3, 'inst.trim.gain': 0 });
    await presets.abToggle('test');
    expect(engine.values.get('mic.trim.gain')).toBe(-3);
    expect(presets.state().ab_active).toBe('B');
  });

  it('applies a state patch as one batch and refuses it whole when one part is wrong', async () => {
    const { engine, presets } = await setup(FULL_TABLE);
    await presets.applyPatch({ preset: 'Podcast', params: { 'mic.out.gain': 2 }, bypass: true }, 'test');
    expect(engine.batches).toHaveLength(1);
    expect(engine.batches[0]!.values).toMatchObject({ 'mic.trim.gain': 6, 'mic.out.gain': 2, 'master.bypass': 1, 'mic.ns.strength': 60 });
    expect(presets.state()).toMatchObject({ bypass: true, preset: 'Podcast', preset_modified: true });
    await expect(presets.applyPatch({ preset: 'Streaming', params: { 'mic.out.gain': 50 } }, 'test')).rejects.toThrow(/mic\.out\.gain/);
    await expect(presets.applyPatch({ preset: 'Nope' }, 'test')).rejects.toThrow(/no preset with id or name 'Nope'/);
    await expect(presets.applyPatch({ params: { 'mic.nothing': 1 } }, 'test')).rejects.toThrow(/unknown parameter/);
    expect(engine.batches).toHaveLength(1);
  });

  it('brings back the preset and parameters of the last run after a restart', async () => {
    const first = await setup();
    await first.presets.apply('Podcast', 'test');
    await first.presets.applyPatch({ params: { 'inst.trim.gain': -7 } }, 'test');
    await first.presets.stop(); // flushes the debounced save
    const ctx = makeContext(tmp.dir);
    const engine = new TableEngine(SKELETON_TABLE, ctx.bus);
    const again = new PresetsService({ ctx, engine: engine.asService() });
    await again.start();
    expect(engine.values.get('mic.trim.gain')).toBe(6);
    expect(engine.values.get('inst.trim.gain')).toBe(-7);
    expect(again.state()).toMatchObject({ preset: 'Podcast', preset_modified: true });
    await again.stop();
  });

  it('says bypass needs master.bypass when the engine lacks it', async () => {
    const { presets } = await setup();
    await expect(presets.applyPatch({ bypass: true }, 'test')).rejects.toThrow(/master\.bypass/);
  });
});

describe('PresetsService import/export', () => {
  const v1 = (name: string, params: Record<string, number>) => ({ schema: 1, name, tags: [], notes: '', created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z', params });

  it('reports in a dry run what would happen and changes nothing', async () => {
    const { presets } = await setup();
    presets.create({ name: 'Mine', params: { 'mic.trim.gain': 1 } }, 'test');
    const bundle = { format: 'hushbox-presets', presets: [v1('Mine', { 'mic.trim.gain': 2 }), { name: 'Legacy', 'mic.trim.gain': 4 }, v1('Podcast', {})] };
    const report = await presets.importBundle(bundle, { dryRun: true, collision: 'copy' }, 'test');
    expect(report.ok).toBe(true);
    expect(report.items.map((i) => [i.action, i.id, i.as, i.migratedFrom])).toEqual([
      ['copy', 'mine-2', 'Mine (2)', null],
      ['create', 'legacy', null, 0],
      ['copy', 'podcast-2', 'Podcast (2)', null],
    ]);
    expect(presets.list().filter((p) => !p.factory).map((p) => p.id)).toEqual(['mine']);
  });

  it('follows the collision policy: overwrite, copy, skip', async () => {
    const { presets } = await setup();
    presets.create({ name: 'Mine', params: { 'mic.trim.gain': 1 } }, 'test');
    const bundle = [v1('Mine', { 'mic.trim.gain': 2 })];
    expect((await presets.importBundle(bundle, { dryRun: false, collision: 'skip' }, 'test')).items[0]!.action).toBe('skip');
    expect(presets.get('mine').params['mic.trim.gain']).toBe(1);
    expect((await presets.importBundle(bundle, { dryRun: false, collision: 'overwrite' }, 'test')).items[0]!.action).toBe('overwrite');
    expect(presets.get('mine').params['mic.trim.gain']).toBe(2);
    await presets.importBundle(bundle, { dryRun: false, collision: 'copy' }, 'test');
    expect(presets.find('Mine (2)').params['mic.trim.gain']).toBe(2);
    // factory presets are never overwritten
    const r = await presets.importBundle([v1('Podcast', { 'mic.trim.gain': 9 })], { dryRun: false, collision: 'overwrite' }, 'test');
    expect(r.items[0]).toMatchObject({ action: 'copy', as: 'Podcast (2)' });
    expect(presets.get('podcast').params['mic.trim.gain']).toBe(6);
    expect(audit().filter((e) => e.action === 'preset.import')).toHaveLength(4);
  });

  it('overwrites from a bundle that holds the same preset twice (two exports joined): the later one is kept', async () => {
    const { presets } = await setup();
    presets.create({ name: 'Mine', params: { 'mic.trim.gain': 1 } }, 'test');
    const bundle = [v1('Mine', { 'mic.trim.gain': 2 }), v1('Mine', { 'mic.trim.gain': 3 })];
    const r = await presets.importBundle(bundle, { dryRun: false, collision: 'overwrite' }, 'test');
    expect(r.items.map((i) => [i.action, i.id])).toEqual([['overwrite', 'mine'], ['overwrite', 'mine']]);
    expect(presets.get('mine').params['mic.trim.gain']).toBe(3);
    expect(JSON.parse(readFileSync(join(tmp.dir, 'presets', 'mine.json'), 'utf8')).params['mic.trim.gain']).toBe(3);
    expect(readdirSync(join(tmp.dir, 'presets')).filter((f) => f !== 'broken')).toEqual(['mine.json']);
  });

  it('imports nothing when one item is invalid, naming it', async () => {
    const { presets } = await setup();
    const bundle = [v1('Good', { 'mic.trim.gain': 2 }), v1('Bad', { 'mic.trim.gain': 200 }), { schema: 1, name: 'Broken' }];
    const dry = await presets.importBundle(bundle, { dryRun: true, collision: 'copy' }, 'test');
    expect(dry.ok).toBe(false);
    expect(dry.items.map((i) => i.action)).toEqual(['create', 'error', 'error']);
    expect(dry.items[1]!.error).toMatch(/presets\[1\]\.params\.mic\.trim\.gain: 200 is outside/);
    await expect(presets.importBundle(bundle, { dryRun: false, collision: 'copy' }, 'test')).rejects.toThrow(/nothing imported/);
    expect(presets.list().filter((p) => !p.factory)).toEqual([]);
  });

  it('exports a bundle that imports back into an empty box', async () => {
    const a = await setup();
    a.presets.create({ name: 'One', tags: ['t'], params: { 'mic.trim.gain': 1 } }, 'test');
    a.presets.create({ name: 'Two', params: { 'inst.trim.gain': -1, 'mic.comp.ratio': 3 } }, 'test');
    const bundle = a.presets.exportBundle();
    expect(bundle.presets.map((p) => p.id)).toEqual(['one', 'two']);
    tmp.cleanup();
    tmp = tempDir();
    const b = await setup();
    const r = await b.presets.importBundle(JSON.parse(JSON.stringify(bundle)), { dryRun: false, collision: 'copy' }, 'test');
    expect(r.items[1]!.warnings.join()).toMatch(/mic\.comp\.ratio/);
    expect(b.presets.get('two').params).toEqual({ 'inst.trim.gain': -1, 'mic.comp.ratio': 3 });
  });
});
