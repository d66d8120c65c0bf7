import { appendFileSync } from 'node:fs';
import { currentActor, type Actor } from '../auth/actor.js';
import type { Logger } from '../log.js';

export interface AuditEntry {
  action: string;
  source: string;
  id?: string;
  name?: string;
  details?: unknown;
  /** Who: taken from the request being handled when not given (absent for MQTT and start-up: `source` says). */
  who?: Actor;
}

/** Every change to presets and their settings, one JSON object per line. */
export class AuditLog {
  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  append(entry: AuditEntry): void {
    try {
      const who = entry.who ?? currentActor();
      appendFileSync(this.file, `${JSON.stringify({ time: new Date().toISOString(), ...entry, ...(who ? { who } : {}) })}\n`);
    } catch (err) {
      // The change itself succeeded; losing its audit line must not undo it.
      this.log.error({ err, file: this.file }, 'cannot append to the audit log');
    }
  }
}
