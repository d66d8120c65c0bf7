import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Engine link segments are `hushbox-<deviceId>-<supervisor pid>` (EngineService, native/engine/shm.cpp). */
const SEGMENT = /^hushbox-[a-z0-9][a-z0-9_-]*-(\d+)$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the link segments of supervisors that are gone (an engine and its
 * supervisor both SIGKILLed leave theirs in /dev/shm, a megabyte each, until
 * reboot). Only our names, and only when their supervisor's pid is not alive:
 * another supervisor on the same machine keeps its segment. Returns what was removed.
 */
export function sweepStaleSegments(shmDir = '/dev/shm'): string[] {
  let names: string[];
  try {
    names = readdirSync(shmDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = SEGMENT.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(join(shmDir, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}
