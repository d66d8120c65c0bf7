import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultEngineBinary } from '../../src/paths.js';

interface Check {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix: string | null;
}
interface Report {
  cards: Array<{ index: number; id: string; usb_id: string | null; streams: Array<{ direction: string; formats: string; rates: string; channels: string }>; pcms: Array<{ pcm: string; hw_params: string }> }>;
  scarlett: { found: boolean; device: string | null };
  checks: Check[];
  overall: string;
}

const root = mkdtempSync(join(tmpdir(), 'hushbox-doctor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

function doctor(dir: string, ...extra: string[]): { code: number | null; report: Report; stderr: string } {
  const r = spawnSync(defaultEngineBinary(), ['doctor', '--json', '--root', dir, ...extra], { encoding: 'utf8' });
  return { code: r.status, report: (r.stdout ? JSON.parse(r.stdout) : null) as Report, stderr: r.stderr };
}

const scarlettStream0 = `Focusrite Scarlett Solo 4th Gen at usb-0000:00:14.0-2, high speed : USB Audio

Playback:
  Status: Stop
  Interface 1
    Altset 1
    Format: S32_LE
    Channels: 2
    Endpoint: 0x01 (1 OUT) (ASYNC)
    Rates: 44100, 48000, 88200, 96000, 176400, 192000
    Bits: 24

Capture:
  Status: Stop
  Interface 2
    Altset 1
    Format: S32_LE
    Channels: 4
    Endpoint: 0x81 (1 IN) (ASYNC)
    Rates: 44100, 48000, 88200, 96000, 176400, 192000
    Bits: 24
`;

describe('hushbox-engine doctor on fixture /proc and /sys trees', () => {
  it('finds the Scarlett with its formats, rates and channels, and passes a tuned PREEMPT_RT box', () => {
    const dir = tree('good', {
      'proc/asound/cards':
        ' 0 [Gen            ]: USB-Audio - Scarlett Solo 4th Gen\n                      Focusrite Scarlett Solo 4th Gen at usb-0000:00:14.0-2, high speed\n' +
        ' 1 [Loopback       ]: Loopback - Loopback\n                      Loopback 1\n',
      'proc/asound/card0/usbid': '1235:8218\n',
      'proc/asound/card0/stream0': scarlettStream0,
      'proc/asound/card1/pcm0p/info': 'card: 1\ndevice: 0\nsubdevice: 0\nstream: PLAYBACK\nid: Loopback PCM\nname: Loopback PCM\n',
      'proc/asound/card1/pcm0p/sub0/hw_params':
        'access: RW_INTERLEAVED\nformat: S32_LE\nsubformat: STD\nchannels: 2\nrate: 48000 (48000/1)\nperiod_size: 64\nbuffer_size: 128\n',
      'proc/asound/card1/pcm0c/info': 'name: Loopback PCM\n',
      'proc/asound/card1/pcm0c/sub0/hw_params': 'closed\n',
      'sys/kernel/realtime': '1\n',
      'proc/sys/kernel/version': '#1 SMP PREEMPT_RT Debian 6.1.158-1 (2025-11-09)\n',
      'proc/self/limits': 'Limit                     Soft Limit           Hard Limit           Units\nMax locked memory         unlimited            unlimited            bytes\nMax realtime priority     95                   95\n',
      'proc/self/status': 'Name:\thushbox-engine\nCapEff:\t0000000000000000\n',
      'sys/devices/system/cpu/cpu0/cpufreq/scaling_governor': 'performance\n',
      'sys/devices/system/cpu/cpu1/cpufreq/scaling_governor': 'performance\n',
      'dev/cpu_dma_latency': '',
    });
    const { code, report } = doctor(dir);
    expect(code).toBe(0);
    expect(report.scarlett).toEqual({ found: true, device: 'hw:Gen' });
    const gen = report.cards.find((c) => c.id === 'Gen')!;
    expect(gen.usb_id).toBe('1235:8218');
    expect(gen.streams).toEqual([
      { direction: 'playback', formats: 'S32_LE', channels: '2', rates: '44100, 48000, 88200, 96000, 176400, 192000' },
      { direction: 'capture', formats: 'S32_LE', channels: '4', rates: '44100, 48000, 88200, 96000, 176400, 192000' },
    ]);
    const loop = report.cards.find((c) => c.id === 'Loopback')!;
    expect(loop.pcms).toEqual([
      { pcm: 'pcm0c', name: 'Loopback PCM', hw_params: 'closed' },
      { pcm: 'pcm0p', name: 'Loopback PCM', hw_params: 'S32_LE 2ch 48000 Hz period 64 buffer 128' },
    ]);
    expect(Object.fromEntries(report.checks.map((c) => [c.name, c.status]))).toEqual({
      'sound cards': 'pass',
      'Scarlett Solo': 'pass',
      'PREEMPT_RT kernel': 'pass',
      'rtprio limit': 'pass',
      'memlock limit': 'pass',
      'cpufreq governor': 'pass',
      'cpu_dma_latency': 'pass',
    });
    expect(report.overall).toBe('pass');
  });

  it('fails an untuned box and names the fix for each problem', () => {
    const dir = tree('bad', {
      'proc/asound/cards': '--- no soundcards ---\n',
      'proc/sys/kernel/version': '#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1\n',
      'proc/self/limits': 'Max locked memory         65536                65536                bytes\nMax realtime priority     0                    0\n',
      'proc/self/status': 'CapEff:\t0000000000000000\n',
      'sys/devices/system/cpu/cpu0/cpufreq/scaling_governor': 'powersave\n',
    });
    const { code, report } = doctor(dir);
    expect(code).toBe(1);
    expect(report.overall).toBe('fail');
    const by = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(by['sound cards']!.status).toBe('fail');
    expect(by['Scarlett Solo']).toMatchObject({ status: 'warn' });
    expect(by['PREEMPT_RT kernel']).toMatchObject({ status: 'fail', fix: expect.stringMatching(/linux-image-rt-amd64/) });
    expect(by['rtprio limit']).toMatchObject({ status: 'fail', fix: expect.stringMatching(/LimitRTPRIO/) });
    expect(by['rtprio limit']!.detail).toMatch(/below the engine's SCHED_FIFO priority 70/);
    expect(by['memlock limit']).toMatchObject({ status: 'fail', fix: expect.stringMatching(/LimitMEMLOCK=infinity/) });
    expect(by['cpufreq governor']).toMatchObject({ status: 'warn', detail: 'not performance: cpu0=powersave' });
    expect(by['cpu_dma_latency']).toMatchObject({ status: 'warn' });
    for (const c of report.checks) if (c.status !== 'pass') expect(c.fix, c.name).toBeTruthy();
  });

  it('accepts CAP_SYS_NICE and CAP_IPC_LOCK in place of limits', () => {
    const dir = tree('caps', {
      'proc/self/limits': 'Max locked memory         65536                65536                bytes\nMax realtime priority     0                    0\n',
      'proc/self/status': `CapEff:\t${((1n << 23n) | (1n << 14n)).toString(16).padStart(16, '0')}\n`,
    });
    const by = Object.fromEntries(doctor(dir).report.checks.map((c) => [c.name, c]));
    expect(by['rtprio limit']).toMatchObject({ status: 'pass', detail: 'CAP_SYS_NICE', fix: null });
    expect(by['memlock limit']).toMatchObject({ status: 'pass', detail: 'CAP_IPC_LOCK' });
  });

  it('refuses a root that is not a directory, naming it', () => {
    const r = spawnSync(defaultEngineBinary(), ['doctor', '--root', join(root, 'nope')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(join(root, 'nope'));
    expect(r.stdout).toBe('');
  });
});
