import { loadAddon } from '../engine/native.js';

export type SchedPolicy = 'fifo' | 'rr' | 'other' | 'batch' | 'idle' | 'unknown';

/** A control of an ALSA card as the addon lists it (snd_ctl_elem_*). */
export interface RawControl {
  numid: number;
  name: string;
  index: number;
  iface: string;
  type: 'boolean' | 'integer' | 'enumerated' | 'integer64' | 'bytes' | 'other';
  count: number;
  writable: boolean;
  min?: number;
  max?: number;
  step?: number;
  items?: string[];
  values: Array<number | boolean>;
}

/** The system calls Node cannot make (native/addon/system.cpp). Errors carry `code` (errno name). */
export interface SystemCalls {
  setScheduler(pid: number, policy: 'fifo' | 'rr' | 'other', priority: number): void;
  getScheduler(pid: number): { policy: SchedPolicy; priority: number };
  setAffinity(pid: number, cpus: number[]): void;
  getAffinity(pid: number): number[];
  lockMemory(): void;
  /** false when there is no NOTIFY_SOCKET (not under systemd). */
  sdNotify(message: string, socketPath?: string): boolean;
}

/** ALSA control access for one card ('hw:Gen'). */
export interface ControlAccess {
  list(card: string): RawControl[];
  set(card: string, numid: number, values: Array<number | boolean>): void;
}

type AddonSystem = SystemCalls & {
  flockExclusive(fd: number): boolean;
  ctlList(card: string): RawControl[];
  ctlSet(card: string, numid: number, values: Array<number | boolean>): void;
};

function addon(): AddonSystem {
  return loadAddon() as unknown as AddonSystem;
}

/** The real system calls, through the addon. */
export function nativeSystemCalls(): SystemCalls {
  const a = addon();
  return {
    setScheduler: (pid, policy, priority) => a.setScheduler(pid, policy, priority),
    getScheduler: (pid) => a.getScheduler(pid),
    setAffinity: (pid, cpus) => a.setAffinity(pid, cpus),
    getAffinity: (pid) => a.getAffinity(pid),
    lockMemory: () => a.lockMemory(),
    sdNotify: (message, socketPath) => (socketPath === undefined ? a.sdNotify(message) : a.sdNotify(message, socketPath)),
  };
}

/**
 * flock(fd, LOCK_EX | LOCK_NB) through the addon: false when another open file
 * holds the lock. Node has no flock; the kernel drops the lock with the process.
 */
export function flockExclusive(fd: number): boolean {
  return addon().flockExclusive(fd);
}

/** The real ALSA controls, through the addon (alsa-lib snd_ctl_*). */
export function nativeControls(): ControlAccess {
  const a = addon();
  return { list: (card) => a.ctlList(card), set: (card, numid, values) => a.ctlSet(card, numid, values) };
}
