import { appendFileSync } from 'node:fs';
import type { Logger } from '../log.js';

export interface AuditEntry {
  action: string;
  source: string;
  id?: string;
  name?: string;
  details?: unknown;
}

/** Every change to presets and their settings, one JSON object per line. */
export class AuditLog {
  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  append(entry: AuditEntry): void {
    try {
      appendFileSync(this.file, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
    } catch (err) {
      // The change itself succeeded; losing its audit line must not undo it.
      this.log.error({ err, file: this.file }, 'cannot append to the audit log');
    }
  }
}
