// `hushbox doctor` checks on each fixture, and the engine's own doctor.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { DoctorReportSchema, formatDoctor, runDoctor, type DoctorReport } from '../../src/health/doctor.js';
import { decodeThrottled, type Health } from '../../src/health/health.js';
import { defaultEngineBinary } from '../../src/paths.js';
import type { ControlAccess, RawControl } from '../../src/system/native-system.js';
import { fixturePath, type FixtureName } from '../fakes/fixtures.js';
import { tempDir, contextWith } from '../fakes/context.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const UNLIMITED = 'Limit                     Soft Limit           Hard Limit           Units     \nMax locked memory         unlimited            unlimited            bytes     \n';

function health(over: Partial<Health> = {}): Health {
  return {
    time: new Date().toISOString(),
    uptimeS: 100,
    supervisorUptimeS: 10,
    cpu: { temperatureC: 50, loadPercent: 10, load1: 0.1, load5: 0.1, load15: 0.1, frequencyMhz: 1500, cores: 4 },
    throttling: null,
    memory: { totalBytes: 4e9, availableBytes: 3e9, usedPercent: 25 },
    disk: { path: '/data', totalBytes: 8e9, freeBytes: 6e9, usedPercent: 25, full: false },
    engine: { state: 'running', restarts: 0, reason: null, dspLoad: 0.1, dspLoadMax: 0.2, xruns: 0, jitterUs: 10, jitterMaxUs: 50, latencyMs: 2.7 },
    ...over,
  };
}

const solo4Controls: ControlAccess = {
  list: (): RawControl[] => [
    { numid: 1, name: 'Line In 2 Phantom Power Capture Switch', index: 0, iface: 'MIXER', type: 'boolean', count: 1, writable: true, values: [false] },
  ],
  set: () => undefined,
};

async function doctorOn(name: FixtureName, opts: { backend?: 'alsa' | 'sim'; binary?: string; h?: Health } = {}): Promise<DoctorReport> {
  const ctx = contextWith({
    engine: { backend: opts.backend ?? 'alsa', device: 'hw:Gen', binary: opts.binary ?? '/nonexistent/hushbox-engine' },
    system: { root: fixturePath(name) },
  });
  const r = await runDoctor({
    config: ctx.config,
    engine: { state: 'running', pid: 1, backend: 'alsa', device: 'hw:Gen', reason: null, restarts: 0 },
    health: opts.h ?? health(),
    controls: solo4Controls,
  });
  expect(Value.Check(DoctorReportSchema, r)).toBe(true);
  return r;
}

const status = (r: DoctorReport) => Object.fromEntries(r.checks.map((c) => [c.id, c.status]));

describe('doctor', () => {
  it('passes a tuned Pi 4 with its Scarlett, and warns about what tuning would fix', async () => {
    const r = await doctorOn('pi4-scarlett-solo', { h: health({ throttling: decodeThrottled('0x50000') }) });
    expect(status(r)).toMatchObject({
      'kernel.preempt_rt': 'pass',
      'interface.present': 'pass',
      'interface.card': 'pass',
      'interface.mixer': 'pass',
      'cpu.isolated': 'pass',
      'irq.threads': 'pass',
      'cpu.governor': 'warn',
      'sched.rt_runtime': 'warn',
      'vm.swappiness': 'warn',
      'usb.autosuspend': 'warn',
      'limits.memlock': 'pass',
      'limits.rtprio': 'pass',
      'health.throttling': 'warn',
      'engine.running': 'pass',
      'engine.doctor': 'skip',
    });
    const gov = r.checks.find((c) => c.id === 'cpu.governor')!;
    expect(gov.fix).toMatch(/HUSHBOX_TUNE=1/);
    expect(r.checks.find((c) => c.id === 'health.throttling')!.fix).toMatch(/power supply/);
    expect(r.checks.find((c) => c.id === 'engine.doctor')!.detail).toMatch(/not available: .*not found/);
    expect(r.overall).toBe('warn');
    expect(formatDoctor(r)).toMatch(/\[ ok \] Audio interface: Scarlett Solo 4th Gen \(1235:8218\) on USB 1-1.3/);
  });

  it('passes the x86 box with isolcpus flags and a 2i2', async () => {
    const r = await doctorOn('x86-box');
    expect(status(r)).toMatchObject({ 'interface.present': 'pass', 'cpu.isolated': 'pass', 'irq.threads': 'pass', 'interface.card': 'pass' });
    expect(r.checks.find((c) => c.id === 'interface.present')!.detail).toMatch(/2i2 4th Gen/);
  });

  it('fails a Scarlett in MSD mode and says how to leave it', async () => {
    const r = await doctorOn('scarlett-msd');
    const c = r.checks.find((x) => x.id === 'interface.present')!;
    expect(c).toMatchObject({ status: 'fail', detail: expect.stringMatching(/MSD mode: it shows a mass-storage interface/) });
    expect(c.fix).toMatch(/MSD Mode Switch.*48V/);
    expect(r.overall).toBe('fail');
  });

  it('fails when the scarlett2 MSD Mode control is on, with the way out', async () => {
    const ctx = contextWith({ engine: { backend: 'alsa', device: 'hw:Gen', binary: '/nonexistent' }, system: { root: fixturePath('pi4-scarlett-solo') } });
    const msdOn: ControlAccess = { list: () => [{ numid: 1, name: 'MSD Mode Switch', index: 0, iface: 'MIXER', type: 'boolean', count: 1, writable: true, values: [true] }], set: () => undefined };
    const r = await runDoctor({ config: ctx.config, engine: null, health: null, controls: msdOn, limitsText: UNLIMITED });
    expect(r.checks.find((c) => c.id === 'interface.msd')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/MSD Mode Switch/) });
  });

  it('fails without an interface, naming the fix, and reports the missing parts', async () => {
    const r = await doctorOn('no-interface', { h: health({ cpu: { ...health().cpu, temperatureC: 83 }, disk: { path: '/data', totalBytes: 1e9, freeBytes: 1e7, usedPercent: 99, full: true } }) });
    expect(status(r)).toMatchObject({
      'kernel.preempt_rt': 'warn',
      'interface.present': 'fail',
      'interface.card': 'fail',
      'cpu.isolated': 'warn',
      'irq.threads': 'warn',
      'cpu.governor': 'skip',
      'health.temperature': 'fail',
      'health.disk': 'fail',
      'limits.rtprio': 'warn',
      'limits.memlock': 'warn',
    });
    expect(r.checks.find((c) => c.id === 'limits.rtprio')!.fix).toMatch(/LimitRTPRIO/);
    expect(r.checks.find((c) => c.id === 'interface.card')!.fix).toMatch(/plug in the interface/);
    expect(r.checks.find((c) => c.id === 'cpu.isolated')!.fix).toBe('add isolcpus=1 nohz_full=1 rcu_nocbs=1 to the kernel command line');
    expect('interface.mixer' in status(r)).toBe(false);
    expect(r.checks.filter((c) => c.status === 'pass').every((c) => c.fix === null)).toBe(true);
  });

  it('folds in the engine’s own doctor when the binary has one', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const bin = join(tmp.dir, 'engine-with-doctor.sh');
    writeFileSync(
      bin,
      `#!/bin/sh\n[ "$1" = doctor ] || exit 2\necho "$@" > '${tmp.dir}/args'\necho '{"cards":[],"scarlett":{"found":false,"device":null},"checks":[{"name":"rtprio limit","status":"pass","detail":"SCHED_FIFO 70 allowed","fix":null},{"name":"alsa_device","status":"fail","detail":"hw:Gen cannot be opened","fix":"plug it in"}],"overall":"fail"}'\nexit 1\n`,
    );
    chmodSync(bin, 0o755);
    const r = await doctorOn('pi4-scarlett-solo', { binary: bin });
    expect(r.checks.find((c) => c.id === 'engine.doctor.rtprio_limit')).toMatchObject({ status: 'pass', fix: null });
    expect(r.checks.find((c) => c.id === 'engine.doctor.rtprio_limit')).toMatchObject({ title: 'Engine: rtprio limit' });
    expect(r.checks.find((c) => c.id === 'engine.doctor.alsa_device')).toMatchObject({ status: 'fail', detail: 'hw:Gen cannot be opened', fix: 'plug it in' });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(tmp.dir, 'args'), 'utf8').trim()).toBe(`doctor --json --root ${fixturePath('pi4-scarlett-solo')} --priority 70`);
  });

  it('asks the real engine binary, and says so when it has no doctor', async () => {
    const r = await doctorOn('x86-box', { backend: 'sim', binary: defaultEngineBinary() });
    const own = r.checks.filter((c) => c.id.startsWith('engine.doctor'));
    expect(own.length).toBeGreaterThan(0);
    // Either the engine's checks, or one 'not available' line naming why.
    if (own.length === 1 && own[0]!.status === 'skip') expect(own[0]!.detail).toMatch(/^not available: .*doctor/);
    else expect(own.every((c) => ['pass', 'warn', 'fail'].includes(c.status))).toBe(true);
  });
});
