// What a boot means for the last update, and the self-check that comes before
// `rauc status mark-good`. Pure decisions here; OtaService acts on them.
import type { Attempt, Outcome, RaucStatus } from './schema.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export type BootKind =
  /** Not a RAUC system, or nothing to say about the last update: check and mark good as on every boot. */
  | { kind: 'ordinary' }
  /** Installed, the supervisor restarted, the machine did not reboot yet. */
  | { kind: 'pending_reboot' }
  /** Booted into the slot the update went to: check, and only then mark good. */
  | { kind: 'trial' }
  /** The update was installed and the machine rebooted, but it runs the old slot: the new one never became good. */
  | { kind: 'fell_back'; reason: string | null };

/** The bootname of the slot running now. */
export function bootedSlot(rauc: RaucStatus): string | null {
  if (!rauc.available) return null;
  return rauc.slots.find((s) => s.state === 'booted' && s.class === 'rootfs')?.bootname ?? rauc.booted;
}

/** The bootname of the rootfs slot an install goes to (RAUC writes the one not booted): the bootloader's primary after it. */
export function otherSlot(rauc: RaucStatus): string | null {
  if (!rauc.available) return null;
  const booted = bootedSlot(rauc);
  return rauc.slots.find((s) => s.class === 'rootfs' && s.bootname !== null && s.bootname !== booted)?.bootname ?? null;
}

export function classifyBoot(last: Attempt | null, rauc: RaucStatus, bootId: string): BootKind {
  if (!rauc.available || !last) return { kind: 'ordinary' };
  if (last.result !== 'installed' && last.result !== 'trying') return { kind: 'ordinary' };
  if (last.result === 'installed' && last.bootId === bootId) return { kind: 'pending_reboot' };
  const booted = bootedSlot(rauc);
  if (last.targetSlot && booted === last.targetSlot) return { kind: 'trial' };
  return { kind: 'fell_back', reason: last.result === 'trying' ? last.message : null };
}

/** The last update in words, for the page, MQTT and Home Assistant. */
export function outcomeOf(last: Attempt | null, running: string): Outcome | null {
  if (!last) return null;
  const v = last.version;
  switch (last.result) {
    case 'updated':
      return { kind: 'updated', version: v, running, message: `updated to ${v}` };
    case 'fell_back':
      return { kind: 'fell_back', version: v, running, message: `update to ${v} failed, running ${running} again` };
    case 'failed':
      return { kind: 'install_failed', version: v, running, message: `update to ${v} failed: ${last.message}` };
    case 'installed':
      return { kind: 'pending_reboot', version: v, running, message: `${v} is installed; it runs after a reboot` };
    case 'trying':
      return { kind: 'checking', version: v, running, message: `running ${v} for the first time; checking itself` };
    case 'running':
      return null;
  }
}

export interface SelfCheckOptions {
  checks: () => Promise<CheckResult[]>;
  deadlineMs: number;
  pollMs: number;
  signal: AbortSignal;
}

/** Waits `ms`, or less if `signal` aborts first. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    // An abort listener added to a signal already aborted never fires.
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

/** Poll the checks until all pass (true) or the deadline (false); the last results either way. */
export async function runSelfCheck(o: SelfCheckOptions): Promise<{ ok: boolean; results: CheckResult[] }> {
  const end = Date.now() + o.deadlineMs;
  let results: CheckResult[] = [];
  for (;;) {
    if (o.signal.aborted) return { ok: false, results };
    try {
      results = await o.checks();
    } catch (err) {
      results = [{ name: 'self-check', ok: false, detail: (err as Error).message }];
    }
    if (results.every((r) => r.ok)) return { ok: true, results };
    if (Date.now() >= end) return { ok: false, results };
    await pause(Math.min(o.pollMs, Math.max(0, end - Date.now())), o.signal);
  }
}

export function failedChecks(results: CheckResult[]): string {
  return results
    .filter((r) => !r.ok)
    .map((r) => `${r.name}: ${r.detail}`)
    .join('; ');
}
