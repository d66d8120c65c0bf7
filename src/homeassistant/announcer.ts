import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../presets/atomic-file.js';
import type { DiscoveryMessage } from './discovery.js';

export interface Publish {
  (topic: string, payload: string, opts: { retain: boolean; qos: 0 | 1 }): void;
}

/**
 * Publishes discovery configs, retained, and clears (empty retained payload)
 * every config it announced before that is no longer wanted, also across
 * restarts: the announced topics are remembered in a file on the data partition.
 */
export class DiscoveryAnnouncer {
  private announced: Set<string>;

  constructor(private readonly file: string) {
    this.announced = new Set(this.read());
  }

  private read(): string[] {
    try {
      const v: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }

  /** Announce `messages`; returns the topics cleared. */
  announce(messages: DiscoveryMessage[], publish: Publish): string[] {
    const wanted = new Set(messages.map((m) => m.topic));
    const cleared = [...this.announced].filter((t) => !wanted.has(t));
    for (const t of cleared) publish(t, '', { retain: true, qos: 1 });
    for (const m of messages) publish(m.topic, JSON.stringify(m.payload), { retain: true, qos: 1 });
    const changed = cleared.length > 0 || [...wanted].some((t) => !this.announced.has(t));
    this.announced = wanted;
    if (changed) writeFileAtomic(this.file, `${JSON.stringify([...wanted].sort(), null, 1)}\n`);
    return cleared;
  }
}
