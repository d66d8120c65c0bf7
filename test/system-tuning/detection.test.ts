// Detection on fixtures made from real /sys, /proc and /proc/asound layouts.
import { describe, expect, it } from 'vitest';
import { cpuLayout, parseCpuList } from '../../src/system/cpu.js';
import { findIrqThreads } from '../../src/system/irq.js';
import { RootFs } from '../../src/system/root-fs.js';
import { detectScarlett } from '../../src/system/scarlett.js';
import { cardOfDevice, findDeviceCard, listSoundCards } from '../../src/system/sound-cards.js';
import { fixturePath } from '../fakes/fixtures.js';

const root = (name: Parameters<typeof fixturePath>[0]) => new RootFs(fixturePath(name));

describe('cpu lists and layout', () => {
  it('parses kernel cpu lists, skipping isolcpus flags', () => {
    expect(parseCpuList('0-2,5,7-8')).toEqual([0, 1, 2, 5, 7, 8]);
    expect(parseCpuList('domain,managed_irq,3')).toEqual([3]);
    expect(parseCpuList('')).toEqual([]);
  });

  it('puts the audio thread on the isolated core of the Pi 4 and everything else off it', () => {
    const l = cpuLayout(root('pi4-scarlett-solo'));
    expect(l).toMatchObject({ audioCpu: 3, source: 'isolcpus', others: [0, 1, 2], cpus: [0, 1, 2, 3] });
  });

  it('reads isolcpus with flags from /proc/cmdline when /sys has no isolated list (x86)', () => {
    expect(cpuLayout(root('x86-box'))).toMatchObject({ audioCpu: 3, source: 'isolcpus', isolated: [3] });
  });

  it('falls back to the least busy core, and honours a configured core', () => {
    const l = cpuLayout(root('no-interface'));
    // cpu0 busy 29131 of 529356, cpu1 31081 of 530589: cpu0 is less busy.
    expect(l).toMatchObject({ source: 'least-busy', audioCpu: 0, others: [1] });
    expect(cpuLayout(root('no-interface'), 1)).toMatchObject({ source: 'config', audioCpu: 1, others: [0] });
  });
});

describe('IRQ threads', () => {
  it('finds the xhci thread on a PREEMPT_RT Pi 4 and not the others', () => {
    expect(findIrqThreads(root('pi4-scarlett-solo'))).toEqual([{ pid: 148, irq: 53, name: 'xhci_hcd', kind: 'usb' }]);
  });

  it('finds USB and sound IRQ threads on x86, with full names from /proc/interrupts', () => {
    expect(findIrqThreads(root('x86-box'))).toEqual([
      { pid: 160, irq: 122, name: 'xhci_hcd', kind: 'usb' },
      { pid: 170, irq: 130, name: 'snd_hda_intel:card0', kind: 'sound' },
    ]);
  });

  it('finds none without threaded IRQs', () => {
    expect(findIrqThreads(root('no-interface'))).toEqual([]);
  });
});

describe('sound cards', () => {
  it('names the card of ALSA device strings', () => {
    expect(cardOfDevice('hw:Gen')).toBe('Gen');
    expect(cardOfDevice('plughw:1,0')).toBe('1');
    expect(cardOfDevice('hw:CARD=Gen,DEV=0')).toBe('Gen');
    expect(cardOfDevice('default')).toBeNull();
  });

  it('lists the cards with their USB ids and finds the configured one', () => {
    const fs = root('pi4-scarlett-solo');
    expect(listSoundCards(fs).map((c) => [c.index, c.id, c.usbId])).toEqual([
      [0, 'vc4hdmi0', null],
      [1, 'vc4hdmi1', null],
      [2, 'Gen', '1235:8218'],
    ]);
    expect(findDeviceCard(fs, 'hw:Gen')).toMatchObject({ present: true, found: { index: 2, name: 'USB-Audio - Scarlett Solo 4th Gen' } });
    expect(findDeviceCard(fs, 'hw:2')).toMatchObject({ present: true });
    expect(findDeviceCard(root('no-interface'), 'hw:Gen')).toMatchObject({ present: false, card: 'Gen' });
  });
});

describe('Scarlett detection', () => {
  it('detects the Solo 4th Gen on the Pi 4, not in MSD mode', () => {
    const s = detectScarlett(root('pi4-scarlett-solo'))!;
    expect(s).toMatchObject({ id: '1235:8218', model: 'Scarlett Solo 4th Gen', generation: 4, scarlett2: true, msd: false });
    expect(s.card?.id).toBe('Gen');
    expect(s.usb.bus).toBe('1-1.3');
  });

  it('detects the 2i2 4th Gen on the x86 box', () => {
    expect(detectScarlett(root('x86-box'))).toMatchObject({ id: '1235:8219', model: 'Scarlett 2i2 4th Gen', card: { index: 1 } });
  });

  it('detects MSD ("Easy Start") mode by its mass-storage interface', () => {
    expect(detectScarlett(root('scarlett-msd'))).toMatchObject({ msd: true, msdEvidence: 'it shows a mass-storage interface' });
  });

  it('finds no interface where there is none', () => {
    expect(detectScarlett(root('no-interface'))).toBeNull();
  });
});
