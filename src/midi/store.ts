import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import { setAside, writeFileAtomic } from '../presets/atomic-file.js';
import { MidiSettingsSchema, type MidiSettings } from './schema.js';

export const DEFAULT_MIDI_SETTINGS: MidiSettings = { version: 1, input: 'seq', mappings: [], programs: [] };

/** What is wrong with a settings object, one clause per field; empty when it is right. */
export function settingsProblems(value: unknown): string[] {
  return [...Value.Errors(MidiSettingsSchema, value)].map((e) => `${e.path.slice(1).replace(/\//g, '.') || 'settings'}: ${e.message}`);
}

/** The MIDI settings file on the data partition: `<data>/midi.json`, written atomically. */
export class MidiStore {
  readonly file: string;

  constructor(
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {
    this.file = join(dataDir, 'midi.json');
  }

  /** The saved settings; defaults when there are none; a file that does not read is set aside. */
  load(): MidiSettings {
    if (!existsSync(this.file)) return structuredClone(DEFAULT_MIDI_SETTINGS);
    let value: unknown;
    let why: string | undefined;
    try {
      value = JSON.parse(readFileSync(this.file, 'utf8'));
      const problems = settingsProblems(value);
      if (problems.length) why = problems.join('; ');
    } catch (err) {
      why = (err as Error).message;
    }
    if (why === undefined) return value as MidiSettings;
    const movedTo = setAside(this.file, join(this.dataDir, 'broken'));
    this.log.error({ file: this.file, movedTo, reason: why }, `broken MIDI settings set aside: ${movedTo}: ${why}`);
    return structuredClone(DEFAULT_MIDI_SETTINGS);
  }

  save(settings: MidiSettings): void {
    const problems = settingsProblems(settings);
    if (problems.length) throw new ValidationError(`invalid MIDI settings: ${problems.join('; ')}`, problems);
    writeFileAtomic(this.file, `${JSON.stringify(settings, null, 2)}\n`);
  }
}
