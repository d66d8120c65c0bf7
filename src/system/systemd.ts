import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import { nativeSystemCalls, type SystemCalls } from './native-system.js';

type Env = Record<string, string | undefined>;

/**
 * Type=notify readiness and watchdog pings (sd_notify through the addon).
 * Started last, so READY=1 means every other service is up.
 */
export class SystemdService implements Service {
  readonly name = 'systemd';
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private ready = false;

  constructor(
    ctx: ServiceContext,
    private readonly env: Env = process.env,
    private readonly sys?: Pick<SystemCalls, 'sdNotify'>,
  ) {
    this.log = ctx.log.child({ service: this.name });
  }

  /** Half of WATCHDOG_USEC in ms, or null when systemd does not watch us (or watches another pid). */
  watchdogIntervalMs(): number | null {
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return null;
    if (this.env.WATCHDOG_PID && Number(this.env.WATCHDOG_PID) !== process.pid) return null;
    return Math.max(1, Math.floor(usec / 2000));
  }

  async start(): Promise<void> {
    if (this.ready) return;
    const socket = this.env.NOTIFY_SOCKET;
    if (!socket) return; // not under systemd
    this.notify(`READY=1\nSTATUS=hushbox running\nMAINPID=${process.pid}`);
    this.ready = true;
    const every = this.watchdogIntervalMs();
    if (every) {
      // At once, and then at half the watchdog's time.
      this.notify('WATCHDOG=1');
      this.timer = setInterval(() => this.notify('WATCHDOG=1'), every);
      this.timer.unref();
      this.log.info({ everyMs: every }, 'systemd watchdog pings on');
    }
  }

  /**
   * While the supervisor starts, after each of its services: STATUS says how far
   * it got, and EXTEND_TIMEOUT_USEC gives systemd's start timeout (the unit's
   * TimeoutStartSec) another `extendMs` from now. A start that keeps moving on a
   * slow machine (a loaded emulator, an SD card) is not killed halfway; one that
   * hangs in a service still is, that long after its last step.
   */
  progress(step: string, extendMs = 180_000): void {
    if (this.ready || !this.env.NOTIFY_SOCKET) return;
    this.notify(`EXTEND_TIMEOUT_USEC=${Math.round(extendMs * 1000)}\nSTATUS=starting: ${step} started`);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.ready) this.notify('STOPPING=1');
    this.ready = false;
  }

  private notify(message: string): void {
    try {
      (this.sys ?? nativeSystemCalls()).sdNotify(message, this.env.NOTIFY_SOCKET);
    } catch (err) {
      this.log.warn({ err }, 'sd_notify failed');
    }
  }
}
