import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RootFs } from '../../src/system/root-fs.js';
import type { SchedPolicy, SystemCalls } from '../../src/system/native-system.js';
import { tempDir } from './context.js';

export const FIXTURES = ['pi4-scarlett-solo', 'x86-box', 'scarlett-msd', 'no-interface'] as const;
export type FixtureName = (typeof FIXTURES)[number];

export function fixturePath(name: FixtureName): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** A writable copy of a fixture root, and its remover. */
export function fixtureCopy(name: FixtureName): { root: string; fs: RootFs; remove: () => void } {
  const tmp = tempDir('hushbox-root-');
  const root = join(tmp.dir, name);
  cpSync(fixturePath(name), root, { recursive: true });
  return { root, fs: new RootFs(root), remove: tmp.remove };
}

/** System calls against fake pids: records what would be done, never touches real processes. */
export class FakeSystemCalls implements SystemCalls {
  readonly sched = new Map<number, { policy: SchedPolicy; priority: number }>();
  readonly affinity = new Map<number, number[]>();
  readonly notes: string[] = [];
  constructor(private readonly cpus: number[] = [0, 1, 2, 3]) {}
  setScheduler(pid: number, policy: 'fifo' | 'rr' | 'other', priority: number): void {
    this.sched.set(pid, { policy, priority });
  }
  getScheduler(pid: number) {
    return this.sched.get(pid) ?? { policy: 'other' as const, priority: 0 };
  }
  setAffinity(pid: number, cpus: number[]): void {
    this.affinity.set(pid, [...cpus]);
  }
  getAffinity(pid: number): number[] {
    return this.affinity.get(pid) ?? this.cpus;
  }
  lockMemory(): void {}
  sdNotify(message: string): boolean {
    this.notes.push(message);
    return true;
  }
}
