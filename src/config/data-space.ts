import { statfsSync } from 'node:fs';
import { NoSpaceError } from '../errors.js';

type Env = Record<string, string | undefined>;

/**
 * Room kept free on the data partition for the box's own settings (last state,
 * A/B, audio choice, update state): what users add (presets, imports) is
 * refused below it, so a full partition never stops the box saving its state.
 * $HUSHBOX_DATA_RESERVE_MB, default 16.
 */
export function dataReserveBytes(env: Env = process.env): number {
  const mb = Number(env.HUSHBOX_DATA_RESERVE_MB);
  return (Number.isFinite(mb) && mb >= 0 && env.HUSHBOX_DATA_RESERVE_MB !== '' && env.HUSHBOX_DATA_RESERVE_MB !== undefined ? mb : 16) * 1024 * 1024;
}

/** Bytes free to the supervisor on the partition of `dir`, or null when it cannot tell. */
export function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

/** The 507 for a full data partition: what is free, what is kept, what to do. */
export function noSpaceError(dir: string, what: string): NoSpaceError {
  const free = freeBytes(dir);
  return new NoSpaceError(
    `${what}: the data partition (${dir}) has ${free === null ? 'too little' : mib(free)} free and the box keeps ${mib(dataReserveBytes())} for its settings; delete recordings or presets first`,
  );
}

/** Refuse a change that would eat into the reserve (507 no_space, naming the free space). */
export function requireRoom(dir: string, what: string, bytes = 0): void {
  const free = freeBytes(dir);
  if (free !== null && free - bytes < dataReserveBytes()) throw noSpaceError(dir, what);
}
