import type { Config, EngineConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { RootFs } from '../system/root-fs.js';
import { cardOfDevice, listSoundCards } from '../system/sound-cards.js';

/** What HUSHBOX_AUDIO=auto picked, and why (for the log). */
export interface DeviceChoice {
  backend: EngineConfig['backend'];
  device: string;
  why: string;
}

const FOCUSRITE_VENDOR = '1235';

/** PCM device numbers of a card that both play and record (pcm0p + pcm0c). */
function duplexDevices(fs: RootFs, index: number): number[] {
  const entries = fs.list(`proc/asound/card${index}`);
  const playback = new Set(entries.map((e) => /^pcm(\d+)p$/.exec(e)?.[1]).filter((d): d is string => d !== undefined));
  return entries
    .map((e) => /^pcm(\d+)c$/.exec(e)?.[1])
    .filter((d): d is string => d !== undefined && playback.has(d))
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * The sound card the box uses when its configuration says "auto" (the image
 * does): the preferred device's card (the Scarlett, hw:Gen) when it is there,
 * else any Focusrite interface, else the first card with a device that both
 * plays and records, else the simulated device — only where no such card exists.
 */
export function chooseAudioDevice(fs: RootFs, preferred: string): DeviceChoice {
  const cards = listSoundCards(fs);
  const wanted = cardOfDevice(preferred);
  const named = cards.find((c) => c.id === wanted);
  if (named) return { backend: 'alsa', device: preferred, why: `${preferred} is present (${named.name || named.id})` };
  const focusrite = cards.find((c) => c.usbId?.startsWith(`${FOCUSRITE_VENDOR}:`));
  if (focusrite) {
    const dev = duplexDevices(fs, focusrite.index)[0] ?? 0;
    return { backend: 'alsa', device: `hw:CARD=${focusrite.id},DEV=${dev}`, why: `Focusrite interface ${focusrite.name || focusrite.id}` };
  }
  for (const card of cards) {
    const dev = duplexDevices(fs, card.index)[0];
    if (dev !== undefined) {
      return { backend: 'alsa', device: `hw:CARD=${card.id},DEV=${dev}`, why: `first card that plays and records: ${card.name || card.id}` };
    }
  }
  const why = cards.length ? `no card both plays and records (${cards.map((c) => c.id).join(', ')})` : 'no sound card';
  return { backend: 'sim', device: preferred, why };
}

/** Whether HUSHBOX_AUDIO asks for the device to be chosen (auto) or taken from the config; a ConfigError names a bad value. */
export function autoAudio(env: Record<string, string | undefined>): boolean {
  const mode = env.HUSHBOX_AUDIO;
  if (mode === undefined || mode === '' || mode === 'config') return false;
  if (mode !== 'auto') throw new ConfigError(`HUSHBOX_AUDIO: expected 'auto' or 'config', got '${mode}'`);
  return true;
}

/**
 * The config with the audio device chosen when HUSHBOX_AUDIO=auto; unchanged
 * without it. The choice saved on the box (audio.json) still wins over this,
 * as it wins over the config file.
 */
export function withAutoAudio(config: Config, fs: RootFs, env: Record<string, string | undefined>): { config: Config; choice: DeviceChoice | null } {
  if (!autoAudio(env)) return { config, choice: null };
  const choice = chooseAudioDevice(fs, config.engine.device);
  return { config: { ...config, engine: { ...config.engine, backend: choice.backend, device: choice.device } }, choice };
}
