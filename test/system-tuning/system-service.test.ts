// The system service: tuning at start and undo at stop, the audio core handed to the
// real engine, and /api/system + /api/scarlett through inject().
import { afterEach, describe, expect, it } from 'vitest';
import { EngineService } from '../../src/engine/engine-service.js';
import type { ControlAccess, RawControl } from '../../src/system/native-system.js';
import { SystemService } from '../../src/system/system-service.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { FakeSystemCalls, fixtureCopy, fixturePath } from '../fakes/fixtures.js';
import { contextWith } from '../fakes/context.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

class FakeControls implements ControlAccess {
  cards: string[] = [];
  controls: RawControl[] = [
    { numid: 1, name: 'Line In 1 Level Capture Enum', index: 0, iface: 'MIXER', type: 'enumerated', count: 1, writable: true, items: ['Line', 'Inst'], values: [0] },
    { numid: 2, name: 'Line In 2 Phantom Power Capture Switch', index: 0, iface: 'MIXER', type: 'boolean', count: 1, writable: true, values: [false] },
    { numid: 3, name: 'Direct Monitor Playback Switch', index: 0, iface: 'MIXER', type: 'boolean', count: 1, writable: true, values: [false] },
  ];
  list(card: string): RawControl[] {
    this.cards.push(card);
    return structuredClone(this.controls);
  }
  set(_card: string, numid: number, values: Array<number | boolean>): void {
    this.controls.find((c) => c.numid === numid)!.values = values;
  }
}

describe('system service', () => {
  it('tunes at start, gives the engine its core, and undoes the tuning at stop', async () => {
    const f = fixtureCopy('pi4-scarlett-solo');
    cleanups.push(f.remove);
    const ctx = contextWith({ engine: { priority: 0 }, system: { root: f.root, tune: true } });
    const engine = new EngineService(ctx);
    const sys = new FakeSystemCalls();
    const system = new SystemService({ ctx, engine, sys });
    await system.start();
    expect(engine.ioConfig().cpu).toBe(3);
    expect(f.fs.value('proc/sys/vm/swappiness')).toBe('10');
    const report = system.report();
    expect(report).toMatchObject({ tune: true, audioCpu: 3, interface: { model: 'Scarlett Solo 4th Gen', card: 'Gen', msd: false, advice: null } });
    expect(report.steps.map((s) => s.status)).toEqual(['done', 'done', 'done', 'done', 'done', 'done']);
    await system.stop();
    await system.stop();
    expect(f.fs.value('proc/sys/vm/swappiness')).toBe('60');
    expect(f.fs.value('sys/bus/usb/devices/1-1.3/power/control')).toBe('auto');
  });

  it('does not touch anything, nor the engine core, with tuning off', async () => {
    const f = fixtureCopy('x86-box');
    cleanups.push(f.remove);
    const ctx = contextWith({ system: { root: f.root, tune: false } });
    const engine = new EngineService(ctx);
    const system = new SystemService({ ctx, engine, sys: new FakeSystemCalls() });
    await system.start();
    cleanups.push(() => system.stop());
    expect(engine.ioConfig().cpu).toBe(-1);
    expect(system.report().steps.every((s) => s.status === 'skipped')).toBe(true);
    expect(f.fs.value('proc/sys/vm/swappiness')).toBe('60');
  });

  it('refuses pid-based tuning on a fake root without injected calls, and says so', async () => {
    const f = fixtureCopy('x86-box');
    cleanups.push(f.remove);
    const ctx = contextWith({ system: { root: f.root, tune: true } });
    const system = new SystemService({ ctx });
    await system.start();
    cleanups.push(() => system.stop());
    const steps = Object.fromEntries(system.report().steps.map((s) => [s.id, s]));
    expect(steps['irq-priorities']).toMatchObject({ status: 'failed', detail: expect.stringMatching(/only changed on the real root/) });
    expect(steps['swappiness']!.status).toBe('done');
  });

  it('serves /api/system and the Scarlett controls at /api/scarlett', async () => {
    const ctx = contextWith({ system: { root: fixturePath('pi4-scarlett-solo') } });
    const engine = new EngineService(ctx);
    const controls = new FakeControls();
    const system = new SystemService({ ctx, engine, sys: new FakeSystemCalls(), controls });
    await system.start();
    const app = await buildOwnerApp({ ctx, engine, system });
    cleanups.push(() => app.close());
    const r = await app.inject({ method: 'GET', url: '/api/system' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ tune: false, interface: { usbId: '1235:8218' } });

    const c = await app.inject({ method: 'GET', url: '/api/scarlett' });
    expect(c.statusCode).toBe(200);
    expect(c.json()).toMatchObject({ inputs: [{ input: 1, level: 'Line' }, { input: 2, phantom: false }], directMonitor: 'off' });
    expect(controls.cards).toContain('hw:2');

    const set = await app.inject({ method: 'PUT', url: '/api/scarlett', payload: { inputs: [{ input: 2, phantom: true }, { input: 1, level: 'Inst' }], directMonitor: true } });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ inputs: [{ level: 'Inst' }, { phantom: true }], directMonitor: 'on' });

    const bad = await app.inject({ method: 'PUT', url: '/api/scarlett', payload: { inputs: [{ input: 1, phantom: true }], directMonitor: false } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/input 1 has no phantom power/);
    expect(controls.controls[2]!.values).toEqual([true]); // nothing written

    const none = await buildOwnerApp({ ctx: contextWith({ system: { root: fixturePath('no-interface') } }), engine, system: new SystemService({ ctx: contextWith({ system: { root: fixturePath('no-interface') } }), controls }) });
    cleanups.push(() => none.close());
    const nf = await none.inject({ method: 'GET', url: '/api/scarlett' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().message).toMatch(/no Focusrite Scarlett/);
  });
});
