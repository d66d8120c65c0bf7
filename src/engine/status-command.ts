// `hushbox status` and `hushbox profile`: the running box, from a shell.
import { parseArgs } from 'node:util';
import { ValidationError } from '../errors.js';
import { PROFILE_NAMES } from './profiles.js';
import type { Status } from '../web/schemas.js';
import { TARGET_OPTIONS, boxTarget, call } from '../web/client.js';

const COMMON = { ...TARGET_OPTIONS, json: { type: 'boolean' } } as const;

interface AudioSettings {
  profile: string;
  rate: number;
  frames: number;
  periods: number;
  device: string;
  backend: string;
  profiles: Record<string, { rate: number; frames: number; periods: number; description: string }>;
}

interface BoxState {
  preset: string | null;
  preset_modified: boolean;
  bypass: boolean | null;
  ab_active: string | null;
}

const db = (x: number) => (x <= -120 ? '-inf' : `${x.toFixed(1)} dBFS`);

/** One screen of what the box is doing. */
export async function statusCommand(argv: string[]): Promise<string> {
  const { values } = parseArgs({ args: argv, options: COMMON, strict: true });
  const base = boxTarget(values);
  const [status, audio, state] = (await Promise.all([
    call(base, 'GET', '/api/status'),
    call(base, 'GET', '/api/audio'),
    call(base, 'GET', '/api/state'),
  ])) as [Status, AudioSettings, BoxState];
  if (values.json) return `${JSON.stringify({ status, audio, state }, null, 2)}\n`;
  const e = status.engine;
  const t = status.telemetry;
  const lines = [
    `${status.name} (${status.deviceId}) v${status.version}, up ${(status.uptimeS / 3600).toFixed(1)} h`,
    `engine   ${e.state.replaceAll('_', ' ')}${e.pid ? ` (pid ${e.pid})` : ''}, ${e.backend} ${e.device}, ${e.restarts} restart(s)${e.reason ? `: ${e.reason}` : ''}`,
    `audio    ${audio.rate} Hz, ${audio.frames} x ${audio.periods} (${audio.profile})${t ? `, latency ${t.latencyMs} ms, DSP load ${(t.dspLoad * 100).toFixed(1)} % (max ${(t.dspLoadMax * 100).toFixed(1)} %), ${t.xruns} xrun(s)` : ''}`,
    `preset   ${state.preset ?? 'none'}${state.preset_modified ? ' (modified)' : ''}, bypass ${state.bypass ? 'on' : 'off'}${state.ab_active ? `, A/B on ${state.ab_active}` : ''}`,
  ];
  if (t) lines.push(`levels   in ${t.meters.in.map((m) => db(m.peakDb)).join(' / ')}, out ${t.meters.out.map((m) => db(m.peakDb)).join(' / ')}`);
  return `${lines.join('\n')}\n`;
}

/** Show the I/O profile, or switch to another (the engine restarts with the same parameters). */
export async function profileCommand(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({ args: argv, options: COMMON, strict: true, allowPositionals: true });
  const base = boxTarget(values);
  const [name] = positionals;
  let audio: AudioSettings;
  if (name) {
    if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
      throw new ValidationError(`unknown profile '${name}': choose ${PROFILE_NAMES.join(', ')}`);
    }
    audio = (await call(base, 'PUT', '/api/audio', { profile: name })) as AudioSettings;
  } else {
    audio = (await call(base, 'GET', '/api/audio')) as AudioSettings;
  }
  if (values.json) return `${JSON.stringify(audio, null, 2)}\n`;
  const rows = Object.entries(audio.profiles).map(
    ([n, p]) => `${n === audio.profile ? '*' : ' '} ${n.padEnd(11)} ${p.rate} Hz, ${p.frames} x ${p.periods}  ${p.description}`,
  );
  return `profile ${audio.profile}: ${audio.rate} Hz, ${audio.frames} x ${audio.periods}, ${audio.backend} ${audio.device}\n${rows.join('\n')}\n`;
}
