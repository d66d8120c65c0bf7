import { ValidationError } from '../errors.js';
import { Value } from '@sinclair/typebox/value';
import { loadConfig } from '../config/config.js';
import { nativeControls } from './native-system.js';
import { RootFs } from './root-fs.js';
import { detectScarlett, MSD_HOW_TO_LEAVE, ScarlettMixer, ScarlettPatchSchema, type ScarlettPatch } from './scarlett.js';
import { systemConfig } from './system-service.js';

/**
 * `hushbox scarlett` (show), `hushbox scarlett set JSON`, `hushbox scarlett msd off`.
 * Answers the text to print.
 */
export function scarlettCommand(args: string[], opts: { configFile?: string; dataDir: string; json: boolean }): string {
  const config = loadConfig({ file: opts.configFile, dataDir: opts.dataDir });
  const s = detectScarlett(new RootFs(systemConfig(config).root));
  if (!s) throw new ValidationError('no Focusrite Scarlett is connected');
  const [verb, ...rest] = args;
  let patch: ScarlettPatch | null = null;
  if (verb === 'msd') {
    if (rest[0] !== 'off' && rest[0] !== 'on') throw new ValidationError("usage: hushbox scarlett msd off|on");
    patch = { msd: rest[0] === 'on' };
  } else if (verb === 'set') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rest.join(' '));
    } catch (err) {
      throw new ValidationError(`scarlett set: not valid JSON: ${(err as Error).message}`);
    }
    if (!Value.Check(ScarlettPatchSchema, parsed)) {
      const e = [...Value.Errors(ScarlettPatchSchema, parsed)].map((x) => `${x.path || '/'}: ${x.message}`);
      throw new ValidationError(`scarlett set: ${e.join('; ')}`);
    }
    patch = parsed;
  } else if (verb !== undefined && verb !== 'show') {
    throw new ValidationError(`unknown scarlett command '${verb}' (show, set JSON, msd off|on)`);
  }
  const head = `${s.model} (${s.id}) on USB ${s.usb.bus}${s.card ? `, card ${s.card.index} hw:${s.card.id}` : ', no sound card'}${s.msd ? `\n${MSD_HOW_TO_LEAVE}` : ''}`;
  if (!s.card || !s.scarlett2) {
    if (patch) throw new ValidationError(`${s.model}: no hardware controls to set (no card, or no scarlett2 mixer driver)`);
    return opts.json ? `${JSON.stringify({ device: s, controls: null }, null, 2)}\n` : `${head}\n`;
  }
  const mixer = new ScarlettMixer(nativeControls(), `hw:${s.card.index}`);
  const controls = patch ? mixer.apply(patch) : mixer.read();
  if (opts.json) return `${JSON.stringify({ device: { model: s.model, usbId: s.id, card: s.card.id, msd: s.msd }, controls }, null, 2)}\n`;
  const lines = [head];
  for (const i of controls.inputs) {
    const parts = [i.gain ? `gain ${i.gain.value} (${i.gain.min}..${i.gain.max})` : '', i.level ? `${i.level}` : '', i.air ? `Air ${i.air}` : '', i.phantom !== undefined ? `48V ${i.phantom ? 'on' : 'off'}` : ''].filter(Boolean);
    lines.push(`  input ${i.input}: ${parts.join(', ')}`);
  }
  if (controls.directMonitor !== undefined) lines.push(`  direct monitor: ${controls.directMonitor}`);
  if (controls.msd !== undefined) lines.push(`  MSD mode: ${controls.msd ? 'on' : 'off'}`);
  return `${lines.join('\n')}\n`;
}
