import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../presets/atomic-file.js';
import { ValidationError } from '../errors.js';
import {
  DEFAULT_UPDATE_SETTINGS,
  OtaStateFileSchema,
  UpdateSettingsSchema,
  type Attempt,
  type UpdateSettings,
  type UpdateSettingsPatch,
} from './schema.js';

const STATE_FILE = 'ota.json';
const SETTINGS_FILE = 'ota-settings.json';

/**
 * What the OTA service keeps on the data partition: the last install attempt
 * (<data>/ota.json) and the update settings (<data>/ota-settings.json), each
 * replaced atomically so a power cut leaves the old or the new file.
 */
export class OtaStore {
  constructor(
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {}

  lastAttempt(): Attempt | null {
    const path = join(this.dataDir, STATE_FILE);
    if (!existsSync(path)) return null;
    try {
      const state: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (Value.Check(OtaStateFileSchema, state)) return state.lastAttempt;
    } catch {
      // fall through
    }
    this.log.warn({ path }, 'update state file unreadable; ignoring it');
    return null;
  }

  saveAttempt(a: Attempt): void {
    writeFileAtomic(join(this.dataDir, STATE_FILE), `${JSON.stringify({ lastAttempt: a }, null, 2)}\n`);
  }

  settings(): UpdateSettings {
    const path = join(this.dataDir, SETTINGS_FILE);
    if (!existsSync(path)) return { ...DEFAULT_UPDATE_SETTINGS };
    try {
      const v: unknown = { ...DEFAULT_UPDATE_SETTINGS, ...(JSON.parse(readFileSync(path, 'utf8')) as object) };
      if (Value.Check(UpdateSettingsSchema, v)) return v;
    } catch {
      // fall through
    }
    this.log.warn({ path }, 'update settings unreadable; using the defaults');
    return { ...DEFAULT_UPDATE_SETTINGS };
  }

  /** Merge a patch into the settings; the whole result is checked before anything is written. */
  updateSettings(patch: UpdateSettingsPatch): UpdateSettings {
    const next = { ...this.settings(), ...patch };
    if (!Value.Check(UpdateSettingsSchema, next)) {
      const problems = [...Value.Errors(UpdateSettingsSchema, next)].slice(0, 4).map((e) => `${e.path.slice(1)}: ${e.message}`);
      throw new ValidationError(`update settings: ${problems.join('; ')}`, problems);
    }
    writeFileAtomic(join(this.dataDir, SETTINGS_FILE), `${JSON.stringify(next, null, 2)}\n`);
    return next;
  }
}
