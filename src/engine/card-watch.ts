// A sound card that comes after the supervisor's start. HUSHBOX_AUDIO=auto (the
// image) chooses among the cards present when the supervisor starts, and the
// simulated device only when there is none. A card can come later: the Scarlett
// plugged in after power-on, or a card still probing when the supervisor
// looked (the kernel probes some drivers after udev has loaded them: under
// QEMU a busy first boot showed its card 10 s after `udevadm settle` returned).
// While the engine runs on the simulated device for want of a card, this looks
// for one every few seconds (a read of /proc/asound) and moves the engine to
// it, as a change of device on the page would, without keeping it as the
// user's choice.
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import type { RootFs } from '../system/root-fs.js';
import { chooseAudioDevice, type DeviceChoice } from './device-choice.js';
import type { EngineConfig } from '../config/schema.js';

export interface CardWatchDeps {
  ctx: ServiceContext;
  fs: RootFs;
  /** The device HUSHBOX_AUDIO=auto prefers (the Scarlett's). */
  preferred: string;
  /** Whether to watch, asked at start: auto chose the simulated device. */
  active: () => boolean;
  engine: {
    ioConfig(): EngineConfig;
    reconfigure(patch: { backend: 'alsa'; device: string }, reason: string, opts: { keep: boolean }): Promise<unknown>;
  };
  intervalMs?: number;
}

export class CardWatch implements Service {
  readonly name = 'card-watch';
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** The device last tried and refused by the engine: tried again only once the cards change. */
  private refused = '';

  constructor(private readonly deps: CardWatchDeps) {
    this.log = deps.ctx.log.child({ service: this.name });
  }

  async start(): Promise<void> {
    if (!this.deps.active() || this.timer) return;
    this.timer = setInterval(() => void this.look(), this.deps.intervalMs ?? 2000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look (the timer's; tests call it). Answers the card moved to, if any. */
  async look(): Promise<DeviceChoice | null> {
    if (this.busy || !this.timer) return null;
    // The owner chose another backend meanwhile (the page, JACK): theirs to keep.
    if (this.deps.engine.ioConfig().backend !== 'sim') {
      await this.stop();
      return null;
    }
    const choice = chooseAudioDevice(this.deps.fs, this.deps.preferred);
    if (choice.backend !== 'alsa') {
      this.refused = '';
      return null;
    }
    if (choice.device === this.refused) return null;
    this.busy = true;
    try {
      this.log.info({ device: choice.device, why: choice.why }, 'a sound card appeared: the engine moves to it from the simulated device');
      await this.deps.engine.reconfigure({ backend: 'alsa', device: choice.device }, `a sound card appeared (${choice.why})`, { keep: false });
      await this.stop();
      return choice;
    } catch (err) {
      this.refused = choice.device;
      this.log.warn({ device: choice.device, err: (err as Error).message }, 'the engine did not run on the sound card that appeared; it stays on the simulated device');
      return null;
    } finally {
      this.busy = false;
    }
  }
}
