// The typed layer over the scarlett2 mixer controls, on fake control sets named
// exactly as the kernel driver names them. Real controls need a device.
import { describe, expect, it } from 'vitest';
import type { ControlAccess, RawControl } from '../../src/system/native-system.js';
import { planScarlettWrites, readScarlettControls, ScarlettMixer } from '../../src/system/scarlett.js';

const bool = (numid: number, name: string, v: boolean): RawControl => ({ numid, name, index: 0, iface: 'MIXER', type: 'boolean', count: 1, writable: true, values: [v] });
const enumc = (numid: number, name: string, items: string[], v: number): RawControl => ({ numid, name, index: 0, iface: 'MIXER', type: 'enumerated', count: 1, writable: true, items, values: [v] });
const int = (numid: number, name: string, min: number, max: number, v: number): RawControl => ({ numid, name, index: 0, iface: 'MIXER', type: 'integer', count: 1, writable: true, min, max, step: 1, values: [v] });

/** Scarlett Solo 4th Gen: level on input 1, Air and 48V on input 2 (the XLR), a direct monitor switch. */
const solo4 = (): RawControl[] => [
  enumc(1, 'Line In 1 Level Capture Enum', ['Line', 'Inst'], 1),
  enumc(2, 'Line In 2 Air Capture Enum', ['Off', 'Presence', 'Presence + Drive'], 0),
  bool(3, 'Line In 2 Phantom Power Capture Switch', false),
  bool(4, 'Direct Monitor Playback Switch', true),
  bool(5, 'Phantom Power Persistence Capture Switch', false),
  enumc(6, 'PCM Input Capture Switch', ['Direct', 'Mixer'], 0),
];

/** Scarlett 2i2 4th Gen: gains, 48V shared by inputs 1-2, a direct monitor mode. */
const s2i2_4 = (): RawControl[] => [
  int(1, 'Line In 1 Gain Capture Volume', 0, 70, 20),
  int(2, 'Line In 2 Gain Capture Volume', 0, 70, 0),
  enumc(3, 'Line In 1 Level Capture Enum', ['Line', 'Inst'], 0),
  enumc(4, 'Line In 1 Air Capture Enum', ['Off', 'Presence', 'Presence + Drive'], 2),
  enumc(5, 'Line In 2 Air Capture Enum', ['Off', 'Presence', 'Presence + Drive'], 0),
  bool(6, 'Line In 1-2 Phantom Power Capture Switch', true),
  enumc(7, 'Direct Monitor Playback Enum', ['Off', 'Mono', 'Stereo'], 2),
];

class FakeControls implements ControlAccess {
  writes: Array<[string, number, Array<number | boolean>]> = [];
  constructor(public controls: RawControl[]) {}
  list(): RawControl[] {
    return structuredClone(this.controls);
  }
  set(card: string, numid: number, values: Array<number | boolean>): void {
    this.writes.push([card, numid, values]);
    this.controls.find((c) => c.numid === numid)!.values = values;
  }
}

describe('scarlett2 controls', () => {
  it('reads the Solo 4th Gen controls as a typed view', () => {
    expect(readScarlettControls(solo4())).toEqual({
      inputs: [
        { input: 1, level: 'Inst', levelOptions: ['Line', 'Inst'] },
        { input: 2, air: 'off', airOptions: ['off', 'presence', 'presence+drive'], phantom: false },
      ],
      directMonitor: 'on',
      directMonitorOptions: ['off', 'on'],
    });
  });

  it('reads the 2i2 4th Gen: gains, a shared 48V switch, direct monitor modes', () => {
    const v = readScarlettControls(s2i2_4());
    expect(v.inputs[0]).toMatchObject({ input: 1, gain: { value: 20, min: 0, max: 70 }, air: 'presence+drive', phantom: true });
    expect(v.inputs[1]).toMatchObject({ input: 2, gain: { value: 0 }, phantom: true });
    expect(v.directMonitor).toBe('Stereo');
  });

  it('reads a 3rd Gen Air switch and the MSD control', () => {
    const v = readScarlettControls([bool(1, 'Line In 1 Air Capture Switch', true), bool(2, 'MSD Mode Switch', true)]);
    expect(v.inputs[0]).toMatchObject({ air: 'presence', airOptions: ['off', 'presence'] });
    expect(v.msd).toBe(true);
  });

  it('writes a typed patch to the right controls', () => {
    const fake = new FakeControls(s2i2_4());
    const mixer = new ScarlettMixer(fake, 'hw:1');
    const after = mixer.apply({ inputs: [{ input: 2, gain: 42, air: 'presence', phantom: false, }, { input: 1, level: 'inst' }], directMonitor: 'Mono' });
    expect(fake.writes).toEqual([
      ['hw:1', 2, [42]],
      ['hw:1', 5, [1]],
      ['hw:1', 6, [false]],
      ['hw:1', 3, [1]],
      ['hw:1', 7, [1]],
    ]);
    expect(after.inputs[1]).toMatchObject({ gain: { value: 42 }, air: 'presence', phantom: false });
    expect(after.inputs[0]).toMatchObject({ level: 'Inst', phantom: false });
    expect(after.directMonitor).toBe('Mono');
  });

  it('maps direct monitor on/off onto a switch, and turns MSD mode off', () => {
    expect(planScarlettWrites(solo4(), { directMonitor: false })).toEqual([{ numid: 4, name: 'Direct Monitor Playback Switch', values: [false] }]);
    expect(planScarlettWrites([bool(9, 'MSD Mode Switch', true)], { msd: false })).toEqual([{ numid: 9, name: 'MSD Mode Switch', values: [false] }]);
  });

  it('rejects the whole patch, naming every problem, and writes nothing', () => {
    const fake = new FakeControls(solo4());
    const mixer = new ScarlettMixer(fake, 'hw:2');
    expect(() =>
      mixer.apply({ inputs: [{ input: 2, phantom: true }, { input: 1, gain: 10 }, { input: 1, level: 'Mic' }, { input: 3, air: 'presence' }], directMonitor: 'Stereo' }),
    ).toThrow(/input 1 has no gain control; input 1 level 'Mic' is not one of Line, Inst; input 3 has no Air control; direct monitor 'Stereo' is not on or off/);
    expect(fake.writes).toEqual([]);
    const two = new ScarlettMixer(new FakeControls(s2i2_4()), 'hw:1');
    expect(() => two.apply({ inputs: [{ input: 1, gain: 71 }] })).toThrow(/gain 71 is outside 0..70/);
  });
});
