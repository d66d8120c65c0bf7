import { AuthService } from './auth/auth-service.js';
import { BoxSettingsStore } from './config/box-settings.js';
import { loadConfig } from './config/config.js';
import { DataDirLock } from './config/data-dir.js';
import { dataReserveBytes, freeBytes } from './config/data-space.js';
import type { Config } from './config/schema.js';
import { autoAudio, withAutoAudio, type DeviceChoice } from './engine/device-choice.js';
import { CardWatch } from './engine/card-watch.js';
import { EngineService } from './engine/engine-service.js';
import { LatencyMeasure } from './engine/latency-measure.js';
import { EventBus } from './events.js';
import { DoctorWatch } from './health/doctor-watch.js';
import { HealthService } from './health/health-service.js';
import { HistoryService } from './history/history-service.js';
import { MidiService } from './midi/midi-service.js';
import { MqttService } from './mqtt/mqtt-service.js';
import type { CheckResult } from './ota/boot-check.js';
import { OtaService } from './ota/ota-service.js';
import { PresetsService } from './presets/presets-service.js';
import { ParamAudit } from './presets/param-audit.js';
import type { Logger } from './log.js';
import { packageVersion } from './paths.js';
import type { Service, ServiceContext } from './service.js';
import { RecordingsService } from './recording/recordings-service.js';
import { StreamService } from './stream/stream-service.js';
import type { ControlAccess } from './system/native-system.js';
import { RootFs } from './system/root-fs.js';
import { SystemService } from './system/system-service.js';
import { SystemdService } from './system/systemd.js';
import { WebService } from './web/web-service.js';

export interface SupervisorOptions {
  configFile?: string;
  dataDir: string;
  log: Logger;
  /** Already-loaded config (tests); otherwise loaded from configFile / the data directory. */
  config?: Config;
  /** ALSA control access for the Scarlett's mixer (tests give a fake card's); the addon otherwise. */
  controls?: ControlAccess;
  /**
   * Settles once udev has seen the boot's devices (main.ts: `udevadm settle`). HUSHBOX_AUDIO=auto chooses the sound
   * card after it; the web app is built meanwhile.
   */
  devices?: Promise<unknown>;
}

/** How long one service may take to stop (the engine's own grace is 2 s); systemd's TimeoutStopSec is 15 s. */
export const STOP_DEADLINE_MS = 5000;

/** Wires the services together, starts them in order and stops them in reverse. */
export class Supervisor {
  readonly ctx: ServiceContext;
  readonly engine: EngineService;
  readonly presets: PresetsService;
  readonly mqtt: MqttService;
  readonly web: WebService;
  readonly system: SystemService;
  readonly health: HealthService;
  readonly ota: OtaService;
  readonly auth: AuthService;
  /** READY=1, the watchdog, and the start's progress (EXTEND_TIMEOUT_USEC) for systemd. */
  private readonly systemd: SystemdService;
  readonly midi: MidiService;
  readonly stream: StreamService;
  readonly recordings: RecordingsService;
  readonly history: HistoryService;
  readonly doctor: DoctorWatch;
  readonly latency: LatencyMeasure;
  /** The box's name and MQTT broker as set on the front panel. */
  readonly settings: BoxSettingsStore;
  private readonly services: Service[];
  private readonly lock: DataDirLock;
  private started: Service[] = [];
  /** HUSHBOX_AUDIO=auto: where to look for sound cards. */
  private readonly autoAudio: RootFs | undefined;
  /** Settles once udev has seen the boot's devices. */
  private readonly devices: Promise<unknown>;
  /** The sound card HUSHBOX_AUDIO=auto chose at start. */
  private audio: DeviceChoice | null = null;

  constructor(opts: SupervisorOptions) {
    let config = opts.config;
    let preferred = '';
    if (!config) {
      config = loadConfig({ file: opts.configFile, dataDir: opts.dataDir });
      preferred = config.engine.device;
      // HUSHBOX_AUDIO=auto (the image): the sound card present once udev has seen the boot's devices, chosen at
      // start (and one that comes later, CardWatch).
      if (autoAudio(process.env)) this.autoAudio = new RootFs(config.system?.root ?? '/');
    }
    this.devices = opts.devices ?? Promise.resolve();
    this.ctx = {
      config,
      dataDir: opts.dataDir,
      log: opts.log,
      bus: new EventBus(opts.log.child({ service: 'bus' })),
      version: packageVersion(),
      startedAt: new Date(),
    };
    this.lock = new DataDirLock(opts.dataDir);
    this.engine = new EngineService(this.ctx);
    this.stream = new StreamService({ ctx: this.ctx, engine: this.engine });
    // The engine serves the stream itself; its options come from the stream's settings at each start.
    this.engine.addLaunchArgs(() => this.stream.engineArgs());
    // The engine writes the takes itself (so a take is finished even if the supervisor dies).
    this.recordings = new RecordingsService({ ctx: this.ctx, engine: this.engine, presetName: () => this.presets.state().preset });
    this.engine.addLaunchArgs(() => this.recordings.engineArgs());
    this.system = new SystemService({ ctx: this.ctx, engine: this.engine, ...(opts.controls ? { controls: opts.controls } : {}) });
    this.health = new HealthService(this.ctx, this.engine);
    this.ota = new OtaService({ ctx: this.ctx, selfCheck: () => this.selfCheck() });
    this.auth = new AuthService(this.ctx);
    this.presets = new PresetsService({ ctx: this.ctx, engine: this.engine });
    this.history = new HistoryService({ ctx: this.ctx, engine: this.engine, boxState: () => this.presets.state(), ota: this.ota });
    this.latency = new LatencyMeasure({
      ctx: this.ctx,
      engine: this.engine,
      onMeasured: (r) => {
        this.ctx.bus.emit('latencyMeasured', this.latency.settings());
        this.history.addEvent({
          type: 'latency_measured',
          level: r.found ? 'info' : 'warn',
          message: r.found ? `round trip ${r.roundTripMs} ms (${r.roundTripFrames} frames at ${r.rate} Hz; the engine reports ${r.reportedFrames})` : 'round trip not measured: the test signal did not come back (no cable from an output to an input?)',
        });
      },
    });
    this.doctor = new DoctorWatch({ ctx: this.ctx, engine: this.engine, health: this.health });
    this.midi = new MidiService({ ctx: this.ctx, engine: this.engine, presets: this.presets, recordings: this.recordings });
    this.web = new WebService({
      ctx: this.ctx,
      engine: this.engine,
      auth: this.auth,
      presets: this.presets,
      health: this.health,
      system: this.system,
      ota: this.ota,
      midi: this.midi,
      stream: this.stream,
      recordings: this.recordings,
      history: this.history,
      doctor: this.doctor,
      latency: this.latency,
      // Asked at scrape time; the MQTT service is made next, as it needs the web port.
      mqtt: { connected: () => this.mqtt.connected() },
      settings: { get: () => this.settings.get(), apply: (patch) => this.settings.apply(patch) },
    });
    this.settings = new BoxSettingsStore({
      ctx: this.ctx,
      mqttConnected: () => this.mqtt.connected(),
      restartMqtt: () => this.mqtt.restart(),
      renamed: () => this.mqtt.reannounce(),
      changed: (message) => this.history.addEvent({ type: 'settings_changed', level: 'info', message }),
    });
    this.systemd = new SystemdService(this.ctx);
    this.mqtt = new MqttService({
      ctx: this.ctx,
      engine: this.engine,
      presets: this.presets,
      ota: this.ota,
      midi: this.midi,
      recordings: this.recordings,
      webPort: () => this.web.port(),
    });
    // auth first (the reset file is acted on at once), then system (it picks the audio core), midi, stream and recordings before the engine (they add
    // to its command line), the web before MQTT (the page answers the sooner at power-on, and MQTT's discovery names the port it bound),
    // systemd last (READY=1 once all is up).
    const cards = new CardWatch({ ctx: this.ctx, fs: new RootFs(config.system?.root ?? '/'), preferred, active: () => this.audio?.backend === 'sim', engine: this.engine });
    this.services = [this.auth, this.system, this.midi, this.stream, this.recordings, this.engine, cards, this.presets, new ParamAudit({ ctx: this.ctx, engine: this.engine }), this.health, this.ota, this.history, this.doctor, this.web, this.mqtt, this.systemd];
  }

  async start(): Promise<void> {
    this.lock.acquire();
    const free = freeBytes(this.ctx.dataDir);
    if (free !== null && free < dataReserveBytes()) {
      // The box starts all the same (its lock is not on /data); what users add is refused with 507 until there is room.
      this.ctx.log.error(
        { dataDir: this.ctx.dataDir, freeBytes: free, reserveBytes: dataReserveBytes() },
        `the data partition is full (${(free / 2 ** 20).toFixed(1)} MiB free): settings may not be saved; new presets, imports and uploads are refused until there is room`,
      );
    }
    // How long each service took to start, in the 'started' line: where a slow power-on goes (bench/image.mjs).
    const startMs: Record<string, number> = {};
    try {
      for (const s of this.services) {
        const t0 = performance.now();
        // The device before the system service (it picks the audio core and the card's IRQ) and the engine.
        if (s === this.system) await this.chooseAudio();
        await s.start();
        startMs[s.name] = Math.round(performance.now() - t0);
        this.started.push(s);
        this.systemd.progress(s.name);
        // The web app is built while the box waits for its sound cards; the web service then only listens.
        if (s === this.auth) this.web.prepare();
      }
    } catch (err) {
      await this.stop();
      // An app built ahead (web.prepare) when the start failed before the web's turn; nothing if it was stopped above.
      await this.web.stop();
      throw err;
    }
    this.ctx.log.info({ dataDir: this.ctx.dataDir, version: this.ctx.version, startMs, uptimeMs: Math.round(process.uptime() * 1000) }, 'hushbox supervisor started');
    this.ctx.bus.emit('started', { at: new Date() });
  }

  /**
   * Waits for udev to have seen the boot's devices (the system service then finds the card's IRQ); with
   * HUSHBOX_AUDIO=auto, chooses the sound card present then (else the simulated device).
   */
  private async chooseAudio(): Promise<void> {
    await this.devices;
    if (!this.autoAudio) return;
    const { config, choice } = withAutoAudio(this.ctx.config, this.autoAudio, process.env);
    // In place: every service holds this config.
    Object.assign(this.ctx.config.engine, config.engine);
    this.engine.deviceChosen();
    this.audio = choice;
    if (choice) this.ctx.log.info({ backend: choice.backend, device: choice.device, why: choice.why }, 'audio device chosen');
  }

  /**
   * `systemctl reload hushbox` (SIGHUP): looks again for what the box reads from outside /data at start, today the
   * password reset file on the boot partition (mounted beside the supervisor's start, not before it).
   */
  reload(): void {
    const reset = this.auth.lookForResetFile();
    this.ctx.log.info({ passwordReset: reset }, 'reloaded: looked again for the password reset file');
  }

  /** What the box checks about itself before RAUC may mark the running slot good. */
  private async selfCheck(): Promise<CheckResult[]> {
    const engine = this.engine.status().state;
    const results: CheckResult[] = [
      { name: 'services', ok: this.started.length === this.services.length, detail: `${this.started.length} of ${this.services.length} started` },
      { name: 'engine', ok: engine === 'running' || engine === 'waiting_for_device', detail: engine },
    ];
    const url = `http://127.0.0.1:${this.web.port()}/`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
      results.push({ name: 'page', ok: res.status < 500, detail: `${url} answered ${res.status}` });
    } catch (err) {
      results.push({ name: 'page', ok: false, detail: `${url}: ${String((err as Error).cause ?? (err as Error).message)}` });
    }
    if (this.ctx.config.mqtt.enabled) {
      const connected = this.mqtt.connected();
      results.push({ name: 'mqtt', ok: connected, detail: connected ? 'connected' : 'not connected to the broker' });
    }
    return results;
  }

  /**
   * Writes the web app's compiled validators and serializers into `dir`
   * (`hushbox compile-schemas`, at the image's build): the app is built as
   * `start` builds it, with only the owner account started (its session
   * secret), and never listens.
   */
  async compileSchemas(dir: string): Promise<number> {
    await this.auth.start();
    try {
      return await this.web.compileSchemas(dir);
    } finally {
      await this.auth.stop();
    }
  }

  /**
   * Stops the started services in reverse order. A service that has not stopped within `deadlineMs` is logged and
   * left behind, so that one stuck service cannot hold up the others, the data directory's lock or the process's
   * exit (systemd's TimeoutStopSec would otherwise kill the supervisor uncleanly).
   */
  async stop(deadlineMs = STOP_DEADLINE_MS): Promise<void> {
    for (const s of this.started.reverse()) {
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const overran = new Promise<'overran'>((resolve) => {
        timer = setTimeout(() => resolve('overran'), deadlineMs);
      });
      try {
        const how = await Promise.race([s.stop().then(() => 'stopped' as const), overran]);
        if (how === 'overran') {
          this.ctx.log.error({ service: s.name, deadlineMs }, `the ${s.name} service did not stop within ${deadlineMs} ms: stopping the others without it`);
        }
      } catch (err) {
        this.ctx.log.error({ err, service: s.name, ms: Math.round(performance.now() - t0) }, 'service failed to stop');
      } finally {
        clearTimeout(timer);
      }
    }
    this.started = [];
    this.lock.release();
  }
}
