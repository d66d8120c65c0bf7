import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { EngineConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { setAside, writeFileAtomic } from '../presets/atomic-file.js';

/**
 * The audio settings chosen on the box (the page, PUT /api/audio, `hushbox
 * profile`), kept in the data directory so that they survive a restart, a
 * power cut and an update. They win over the config file's: the config file
 * gives the box's defaults, the user's choice is the user's.
 */
export const AudioChoiceSchema = Type.Object(
  {
    schema: Type.Literal(1),
    rate: Type.Integer({ minimum: 8000, maximum: 384000 }),
    frames: Type.Integer({ minimum: 16, maximum: 4096 }),
    periods: Type.Integer({ minimum: 2, maximum: 16 }),
    device: Type.String({ maxLength: 128, pattern: '^[A-Za-z0-9_:,=.-]*$' }),
    savedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type AudioChoice = Static<typeof AudioChoiceSchema>;

export const AUDIO_CHOICE_FILE = 'audio.json';

/**
 * The saved choice, or null when there is none. A file that does not parse
 * or validate is moved to broken/ (named in the log, with what was wrong) and
 * the config's settings are used.
 */
export function loadAudioChoice(dataDir: string, log: Logger): AudioChoice | null {
  const path = join(dataDir, AUDIO_CHOICE_FILE);
  if (!existsSync(path)) return null;
  let problem: string;
  try {
    const data: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (Value.Check(AudioChoiceSchema, data)) return data;
    problem = [...Value.Errors(AudioChoiceSchema, data)].map((e) => `${e.path.slice(1) || 'file'}: ${e.message}`).join('; ');
  } catch (err) {
    problem = (err as Error).message;
  }
  const aside = setAside(path, join(dataDir, 'broken'));
  log.warn({ file: path, movedTo: aside, problem }, 'the saved audio settings are unreadable; using the config file\'s');
  return null;
}

/** Keep the engine's current rate, period, periods and device as the user's choice (atomically). */
export function saveAudioChoice(dataDir: string, config: EngineConfig): AudioChoice {
  const choice: AudioChoice = {
    schema: 1,
    rate: config.rate,
    frames: config.frames,
    periods: config.periods,
    device: config.device,
    savedAt: new Date().toISOString(),
  };
  writeFileAtomic(join(dataDir, AUDIO_CHOICE_FILE), `${JSON.stringify(choice, null, 2)}\n`);
  return choice;
}

/** The config's engine settings with the saved choice over them. */
export function withAudioChoice(config: EngineConfig, choice: AudioChoice | null): EngineConfig {
  if (!choice) return config;
  return { ...config, rate: choice.rate, frames: choice.frames, periods: choice.periods, device: choice.device };
}
