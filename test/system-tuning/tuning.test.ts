// The tuning plan and its application on writable copies of the fixtures.
import { rmSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Tuner, type TuningOptions, type TuningStep } from '../../src/system/tuning.js';
import { FakeSystemCalls, fixtureCopy, FIXTURES, type FixtureName } from '../fakes/fixtures.js';

const removers: Array<() => void> = [];
afterEach(() => removers.splice(0).forEach((r) => r()));

function setup(name: FixtureName, opts: Partial<TuningOptions> = {}) {
  const f = fixtureCopy(name);
  removers.push(f.remove);
  const sys = new FakeSystemCalls();
  const tuner = new Tuner(f.fs, sys, {
    enabled: true,
    audioCpu: -1,
    irqPriority: 90,
    engineDevice: 'hw:Gen',
    swappiness: 10,
    selfPid: 402,
    ...opts,
  });
  return { ...f, sys, tuner };
}

const byId = (steps: TuningStep[]) => Object.fromEntries(steps.map((s) => [s.id, s]));

describe('tuning', () => {
  it('tunes the Pi 4 with a Scarlett Solo, and undoes it at stop', () => {
    const { fs, sys, tuner } = setup('pi4-scarlett-solo');
    const steps = byId(tuner.apply());
    expect(Object.values(steps).map((s) => s.status)).toEqual(['done', 'done', 'done', 'done', 'done', 'done']);
    expect(tuner.audioCpu()).toBe(3);
    expect(sys.affinity.get(402)).toEqual([0, 1, 2]);
    expect(sys.sched.get(148)).toEqual({ policy: 'fifo', priority: 85 });
    for (let c = 0; c < 4; c++) expect(fs.value(`sys/devices/system/cpu/cpu${c}/cpufreq/scaling_governor`)).toBe('performance');
    expect(fs.value('sys/bus/usb/devices/1-1.3/power/control')).toBe('on');
    expect(fs.value('sys/bus/usb/devices/1-1.3/power/autosuspend_delay_ms')).toBe('-1');
    expect(fs.value('sys/bus/usb/devices/1-1/power/control')).toBe('auto'); // the hub is left alone
    expect(fs.value('proc/sys/kernel/sched_rt_runtime_us')).toBe('-1');
    expect(fs.value('proc/sys/vm/swappiness')).toBe('10');
    expect(steps['sched-rt-runtime']!.detail).toMatch(/was 950000/);

    expect(tuner.undo()).toEqual([]);
    expect(fs.value('sys/devices/system/cpu/cpu0/cpufreq/scaling_governor')).toBe('ondemand');
    expect(fs.value('sys/bus/usb/devices/1-1.3/power/control')).toBe('auto');
    expect(fs.value('sys/bus/usb/devices/1-1.3/power/autosuspend_delay_ms')).toBe('2000');
    expect(fs.value('proc/sys/kernel/sched_rt_runtime_us')).toBe('950000');
    expect(fs.value('proc/sys/vm/swappiness')).toBe('60');
    expect(sys.sched.get(148)).toEqual({ policy: 'other', priority: 0 });
    expect(sys.affinity.get(402)).toEqual([0, 1, 2, 3]);
  });

  it('puts the sound card IRQ above the USB controller on the x86 box (as rtirq)', () => {
    const { sys, tuner } = setup('x86-box', { selfPid: 900 });
    const steps = byId(tuner.apply());
    expect(steps['irq-priorities']!.status).toBe('done');
    expect(sys.sched.get(170)).toEqual({ policy: 'fifo', priority: 90 });
    expect(sys.sched.get(160)).toEqual({ policy: 'fifo', priority: 85 });
    expect(sys.sched.has(171)).toBe(false); // the network card stays
    expect(steps['cpu-governor']!.detail).toMatch(/cpu0 \(was powersave\)/);
  });

  it('says why each step is skipped on a machine without the parts', () => {
    const { fs, tuner } = setup('no-interface', { selfPid: 500 });
    const steps = byId(tuner.apply());
    expect(steps['irq-priorities']).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/PREEMPT_RT|threadirqs/) });
    expect(steps['cpu-governor']).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/no cpufreq/) });
    expect(steps['usb-autosuspend']).toMatchObject({ status: 'skipped', detail: 'no USB audio interface found' });
    expect(steps['swappiness']!.status).toBe('done');
    expect(fs.value('sys/bus/usb/devices/1-1/power/control')).toBe('on');
  });

  it('changes nothing when tuning is off, and says what it would do', () => {
    for (const name of FIXTURES) {
      const { fs, sys, tuner } = setup(name, { enabled: false });
      const before = [fs.value('proc/sys/vm/swappiness'), fs.value('sys/devices/system/cpu/cpu0/cpufreq/scaling_governor')];
      const steps = tuner.apply();
      expect(steps.every((s) => s.status === 'skipped'), name).toBe(true);
      expect([fs.value('proc/sys/vm/swappiness'), fs.value('sys/devices/system/cpu/cpu0/cpufreq/scaling_governor')]).toEqual(before);
      expect(sys.sched.size + sys.affinity.size).toBe(0);
    }
    const { tuner } = setup('pi4-scarlett-solo', { enabled: false });
    expect(byId(tuner.apply())['cpu-governor']!.detail).toMatch(/tuning is off \(would: performance on cpu0/);
  });

  it('reports a step that fails, names the file, and goes on with the others', () => {
    const { fs, tuner } = setup('pi4-scarlett-solo');
    // Files the kernel refuses to write: readable, but writing fails (as a sysfs file can).
    for (const p of ['proc/sys/vm/swappiness', 'sys/devices/system/cpu/cpu2/cpufreq/scaling_governor']) {
      rmSync(fs.path(p));
      symlinkSync('/proc/version', fs.path(p));
    }
    const steps = byId(tuner.apply());
    expect(steps['swappiness']).toMatchObject({ status: 'failed', detail: expect.stringMatching(/cannot write '10' to proc\/sys\/vm\/swappiness/) });
    expect(steps['cpu-governor']).toMatchObject({ status: 'failed', detail: expect.stringMatching(/cpu2\/cpufreq\/scaling_governor/) });
    expect(steps['sched-rt-runtime']!.status).toBe('done');
    expect(steps['usb-autosuspend']!.status).toBe('done');
    // What was done before the failure is still undone.
    tuner.undo();
    expect(fs.value('sys/devices/system/cpu/cpu0/cpufreq/scaling_governor')).toBe('ondemand');
  });
});
