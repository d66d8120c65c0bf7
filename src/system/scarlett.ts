import { Type, type Static } from '@sinclair/typebox';
import { NotFoundError, ValidationError } from '../errors.js';
import type { ControlAccess, RawControl } from './native-system.js';
import type { RootFs } from './root-fs.js';
import { listSoundCards, type SoundCard } from './sound-cards.js';
import { listUsbDevices, usbId, type UsbDevice } from './usb.js';

export const FOCUSRITE_VENDOR = 0x1235;

/** Scarlett models by USB product id (Linux sound/usb/mixer_scarlett2.c and mixer_quirks.c). */
export const SCARLETT_MODELS: Record<number, { model: string; generation: number; scarlett2: boolean }> = {
  0x8218: { model: 'Scarlett Solo 4th Gen', generation: 4, scarlett2: true },
  0x8219: { model: 'Scarlett 2i2 4th Gen', generation: 4, scarlett2: true },
  0x821a: { model: 'Scarlett 4i4 4th Gen', generation: 4, scarlett2: true },
  0x8211: { model: 'Scarlett Solo 3rd Gen', generation: 3, scarlett2: true },
  0x8210: { model: 'Scarlett 2i2 3rd Gen', generation: 3, scarlett2: true },
  0x8212: { model: 'Scarlett 4i4 3rd Gen', generation: 3, scarlett2: true },
  0x8213: { model: 'Scarlett 8i6 3rd Gen', generation: 3, scarlett2: true },
  0x8214: { model: 'Scarlett 18i8 3rd Gen', generation: 3, scarlett2: true },
  0x8215: { model: 'Scarlett 18i20 3rd Gen', generation: 3, scarlett2: true },
  0x8203: { model: 'Scarlett 6i6 2nd Gen', generation: 2, scarlett2: true },
  0x8204: { model: 'Scarlett 18i8 2nd Gen', generation: 2, scarlett2: true },
  0x8201: { model: 'Scarlett 18i20 2nd Gen', generation: 2, scarlett2: true },
  0x8016: { model: 'Scarlett 2i2 1st Gen', generation: 1, scarlett2: false },
  0x8200: { model: 'Scarlett 2i2 2nd Gen', generation: 2, scarlett2: false },
  0x8202: { model: 'Scarlett 2i4 2nd Gen', generation: 2, scarlett2: false },
  0x8205: { model: 'Scarlett Solo 2nd Gen', generation: 2, scarlett2: false },
};

const USB_CLASS_AUDIO = 0x01;
const USB_CLASS_MASS_STORAGE = 0x08;

export const MSD_HOW_TO_LEAVE =
  "the Scarlett is in MSD ('Easy Start') mode with reduced functionality: turn 'MSD Mode Switch' off " +
  '(hushbox scarlett msd off, or alsamixer) and power-cycle it, or hold its 48V button for about 5 seconds while plugging it in';

export interface ScarlettInfo {
  usb: UsbDevice;
  id: string;
  model: string;
  generation: number;
  scarlett2: boolean;
  card: SoundCard | null;
  /** In MSD ("Easy Start") mode: a mass-storage interface, no audio interface, or the MSD control on. */
  msd: boolean;
  msdEvidence: string | null;
}

/** The first Focusrite Scarlett on the USB bus, with its sound card and MSD state. */
export function detectScarlett(fs: RootFs): ScarlettInfo | null {
  const usb = listUsbDevices(fs).find((d) => d.vendorId === FOCUSRITE_VENDOR);
  if (!usb) return null;
  const known = SCARLETT_MODELS[usb.productId];
  const id = usbId(usb);
  const card = listSoundCards(fs).find((c) => c.usbId === id) ?? null;
  let msdEvidence: string | null = null;
  if (usb.interfaceClasses.includes(USB_CLASS_MASS_STORAGE)) msdEvidence = 'it shows a mass-storage interface';
  else if (!usb.interfaceClasses.includes(USB_CLASS_AUDIO) && usb.interfaceClasses.length) msdEvidence = 'it shows no audio interface';
  return {
    usb,
    id,
    model: known?.model ?? (usb.product || `Focusrite ${id}`),
    generation: known?.generation ?? 0,
    scarlett2: known?.scarlett2 ?? false,
    card,
    msd: msdEvidence !== null,
    msdEvidence,
  };
}

// ---- the scarlett2 mixer controls, as a typed API ----

export const AirSchema = Type.Union([Type.Literal('off'), Type.Literal('presence'), Type.Literal('presence+drive')]);

export const ScarlettInputSchema = Type.Object({
  input: Type.Integer({ description: "the kernel's input number (Line In N)" }),
  gain: Type.Optional(Type.Object({ value: Type.Integer(), min: Type.Integer(), max: Type.Integer() })),
  level: Type.Optional(Type.String({ description: 'Line or Inst' })),
  levelOptions: Type.Optional(Type.Array(Type.String())),
  air: Type.Optional(AirSchema),
  airOptions: Type.Optional(Type.Array(AirSchema)),
  phantom: Type.Optional(Type.Boolean({ description: '48V; on a shared switch (Line In 1-2) it follows the pair' })),
});

export const ScarlettControlsSchema = Type.Object({
  inputs: Type.Array(ScarlettInputSchema),
  directMonitor: Type.Optional(Type.String({ description: 'off/on, or Off/Mono/Stereo on models with a mode' })),
  directMonitorOptions: Type.Optional(Type.Array(Type.String())),
  msd: Type.Optional(Type.Boolean({ description: "MSD ('Easy Start') mode" })),
});
export type ScarlettControls = Static<typeof ScarlettControlsSchema>;

export const ScarlettPatchSchema = Type.Object(
  {
    inputs: Type.Optional(
      Type.Array(
        Type.Object(
          {
            input: Type.Integer({ minimum: 1 }),
            gain: Type.Optional(Type.Integer()),
            level: Type.Optional(Type.String()),
            air: Type.Optional(AirSchema),
            phantom: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    directMonitor: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
    msd: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ScarlettPatch = Static<typeof ScarlettPatchSchema>;

// Names as the kernel's scarlett2 driver makes them ("Line In %d %s Capture %s").
const GAIN = /^Line In 0?(\d+) Gain Capture Volume$/;
const LEVEL = /^Line In (\d+) (?:Level|Mode) Capture Enum$/;
const AIR = /^Line In (\d+) Air Capture (Switch|Enum)$/;
const PHANTOM = /^Line In (\d+)(?:-(\d+))? Phantom Power Capture Switch$/;
const DIRECT_MONITOR = /^Direct Monitor Playback (Switch|Enum)$/;
const MSD = 'MSD Mode Switch';

function airName(item: string): Static<typeof AirSchema> {
  const s = item.toLowerCase().replace(/\s+/g, '');
  return s === 'off' ? 'off' : s.includes('drive') ? 'presence+drive' : 'presence';
}

function on(c: RawControl, i = 0): boolean {
  return c.values[i] === true || c.values[i] === 1;
}

function inputsOf(c: RawControl, m: RegExpExecArray): number[] {
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a;
  return Array.from({ length: b - a + 1 }, (_, k) => a + k);
}

/** The typed view of a card's scarlett2 controls. */
export function readScarlettControls(controls: RawControl[]): ScarlettControls {
  const inputs = new Map<number, ScarlettControls['inputs'][number]>();
  const input = (n: number) => {
    let i = inputs.get(n);
    if (!i) inputs.set(n, (i = { input: n }));
    return i;
  };
  const out: ScarlettControls = { inputs: [] };
  for (const c of controls) {
    let m: RegExpExecArray | null;
    if ((m = GAIN.exec(c.name))) input(Number(m[1])).gain = { value: Number(c.values[0] ?? 0), min: c.min ?? 0, max: c.max ?? 0 };
    else if ((m = LEVEL.exec(c.name))) {
      const i = input(Number(m[1]));
      i.levelOptions = c.items ?? [];
      i.level = c.items?.[Number(c.values[0] ?? 0)] ?? String(c.values[0]);
    } else if ((m = AIR.exec(c.name))) {
      const i = input(Number(m[1]));
      if (m[2] === 'Switch') {
        i.air = on(c) ? 'presence' : 'off';
        i.airOptions = ['off', 'presence'];
      } else {
        i.airOptions = (c.items ?? []).map(airName);
        i.air = airName(c.items?.[Number(c.values[0] ?? 0)] ?? 'off');
      }
    } else if ((m = PHANTOM.exec(c.name))) {
      for (const n of inputsOf(c, m)) input(n).phantom = on(c);
    } else if ((m = DIRECT_MONITOR.exec(c.name))) {
      if (m[1] === 'Switch') {
        out.directMonitor = on(c) ? 'on' : 'off';
        out.directMonitorOptions = ['off', 'on'];
      } else {
        out.directMonitorOptions = c.items ?? [];
        out.directMonitor = c.items?.[Number(c.values[0] ?? 0)] ?? String(c.values[0]);
      }
    } else if (c.name === MSD) out.msd = on(c);
  }
  out.inputs = [...inputs.values()].sort((a, b) => a.input - b.input);
  return out;
}

/**
 * Turn a typed patch into control writes (numid, values). Validates all of it
 * first: an unknown input or value throws before anything is written.
 */
export function planScarlettWrites(controls: RawControl[], patch: ScarlettPatch): Array<{ numid: number; name: string; values: Array<number | boolean> }> {
  const writes: Array<{ numid: number; name: string; values: Array<number | boolean> }> = [];
  const problems: string[] = [];
  const find = (re: RegExp, n?: number) =>
    controls.find((c) => {
      const m = re.exec(c.name);
      return m && (n === undefined || (m[2] !== undefined && re === PHANTOM ? inputsOf(c, m).includes(n) : Number(m[1]) === n));
    });
  const enumIndex = (c: RawControl, wanted: string, map = (s: string) => s.toLowerCase()) =>
    (c.items ?? []).findIndex((it) => map(it) === map(wanted));
  for (const p of patch.inputs ?? []) {
    if (p.gain !== undefined) {
      const c = find(GAIN, p.input);
      if (!c) problems.push(`input ${p.input} has no gain control`);
      else if (p.gain < (c.min ?? 0) || p.gain > (c.max ?? 0)) problems.push(`input ${p.input} gain ${p.gain} is outside ${c.min}..${c.max}`);
      else writes.push({ numid: c.numid, name: c.name, values: [p.gain] });
    }
    if (p.level !== undefined) {
      const c = find(LEVEL, p.input);
      const k = c ? enumIndex(c, p.level) : -1;
      if (!c) problems.push(`input ${p.input} has no level (Line/Inst) control`);
      else if (k < 0) problems.push(`input ${p.input} level '${p.level}' is not one of ${(c.items ?? []).join(', ')}`);
      else writes.push({ numid: c.numid, name: c.name, values: [k] });
    }
    if (p.air !== undefined) {
      const c = find(AIR, p.input);
      if (!c) problems.push(`input ${p.input} has no Air control`);
      else if (/Switch$/.test(c.name)) {
        if (p.air === 'presence+drive') problems.push(`input ${p.input} Air has no drive mode on this model`);
        else writes.push({ numid: c.numid, name: c.name, values: [p.air !== 'off'] });
      } else {
        const k = enumIndex(c, p.air, airName);
        if (k < 0) problems.push(`input ${p.input} Air '${p.air}' is not offered`);
        else writes.push({ numid: c.numid, name: c.name, values: [k] });
      }
    }
    if (p.phantom !== undefined) {
      const c = controls.find((x) => {
        const m = PHANTOM.exec(x.name);
        return m && inputsOf(x, m).includes(p.input);
      });
      if (!c) problems.push(`input ${p.input} has no phantom power`);
      else writes.push({ numid: c.numid, name: c.name, values: [p.phantom] });
    }
  }
  if (patch.directMonitor !== undefined) {
    const c = find(DIRECT_MONITOR);
    const dm = patch.directMonitor;
    if (!c) problems.push('this model has no direct monitor control');
    else if (/Switch$/.test(c.name)) {
      const v = typeof dm === 'boolean' ? dm : dm === 'on' ? true : dm === 'off' ? false : null;
      if (v === null) problems.push(`direct monitor '${dm}' is not on or off`);
      else writes.push({ numid: c.numid, name: c.name, values: [v] });
    } else {
      const wanted = typeof dm === 'boolean' ? (dm ? (c.items?.[1] ?? 'on') : (c.items?.[0] ?? 'off')) : dm;
      const k = enumIndex(c, wanted);
      if (k < 0) problems.push(`direct monitor '${wanted}' is not one of ${(c.items ?? []).join(', ')}`);
      else writes.push({ numid: c.numid, name: c.name, values: [k] });
    }
  }
  if (patch.msd !== undefined) {
    const c = controls.find((x) => x.name === MSD);
    if (!c) problems.push('this device has no MSD Mode control');
    else writes.push({ numid: c.numid, name: c.name, values: [patch.msd] });
  }
  if (problems.length) throw new ValidationError(problems.join('; '), problems);
  return writes;
}

/** The Scarlett's hardware controls through ALSA (the scarlett2 mixer driver). */
export class ScarlettMixer {
  constructor(
    private readonly access: ControlAccess,
    private readonly card: string,
  ) {}

  read(): ScarlettControls {
    return readScarlettControls(this.controls());
  }

  /** Validate the whole patch, then write it; answers the controls as they are after. */
  apply(patch: ScarlettPatch): ScarlettControls {
    const controls = this.controls();
    for (const w of planScarlettWrites(controls, patch)) this.access.set(this.card, w.numid, w.values);
    return this.read();
  }

  private controls(): RawControl[] {
    try {
      return this.access.list(this.card);
    } catch (err) {
      throw new NotFoundError(`cannot read the controls of ${this.card}: ${(err as Error).message}`);
    }
  }
}
