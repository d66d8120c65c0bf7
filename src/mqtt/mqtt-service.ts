import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { HushboxError, ValidationError } from '../errors.js';
import type { EngineService } from '../engine/engine-service.js';
import { DiscoveryAnnouncer } from '../homeassistant/announcer.js';
import { discoveryMessages, updateEntityState } from '../homeassistant/discovery.js';
import type { Logger } from '../log.js';
import type { MidiService } from '../midi/midi-service.js';
import type { OtaService } from '../ota/ota-service.js';
import type { PresetsService } from '../presets/presets-service.js';
import type { RecordingsService } from '../recording/recordings-service.js';
import type { Service, ServiceContext } from '../service.js';
import { engineHealthSource, type HealthSource } from './health-snapshot.js';
import { aclTopics, isLoopback, readBrokerCredentials, reloadBroker, writeBrokerAcl } from './broker-credentials.js';
import { isListening, MosquittoProcess, findMosquitto } from './local-broker.js';
import {
  AVAILABILITY_OFFLINE,
  AVAILABILITY_ONLINE,
  boxTopics,
  checkBaseTopic,
  checkPayload,
  COMMANDS,
  haTopics,
  HA_STATUS_ONLINE,
  parseJson,
  RequestSchemas,
  SetPayloadSchema,
  transactionOf,
  type BoxTopics,
  type Command,
  type HaTopics,
  type HealthPayload,
  type RequestPayload,
  type ResponsePayload,
  type StatePayload,
} from './topics.js';

export const HEALTH_INTERVAL_MS = 10_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** Commands waiting for the one before them; more are answered "busy" rather than queued without bound. */
const MAX_PENDING_COMMANDS = 64;
const MAX_PAYLOAD_BYTES = 256 * 1024;
/**
 * The largest MQTT packet the box takes (MQTT 5 Maximum Packet Size, told to the
 * broker at connect): the broker drops anything larger instead of sending it, so
 * a 100 MB publish on <base>/set never reaches the supervisor's memory.
 */
export const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 4096;
/** QoS 1/2 messages the broker may have in flight to the box at once (MQTT 5 Receive Maximum). */
export const RECEIVE_MAXIMUM = 16;
const REASSERT_MIN_MS = 1000;

export interface MqttDeps {
  ctx: ServiceContext;
  engine: EngineService;
  presets: PresetsService;
  /** Where health comes from; defaults to the engine service and the OS. */
  health?: HealthSource;
  /** The front panel's port, once it listens (for configuration_url). */
  webPort?: () => number;
  /** Firmware updates: the update entity's state and the install/check/reboot commands. */
  ota?: Pick<OtaService, 'summary' | 'installFromUrl' | 'installFromChannel' | 'checkChannel' | 'reboot'>;
  /** MIDI learn (request/midi_learn). */
  midi?: Pick<MidiService, 'learn' | 'cancelLearn' | 'status'>;
  /** Recording takes: the record_start / record_stop commands. */
  recordings?: Pick<RecordingsService, 'startTake' | 'stopTake'>;
}

/**
 * The box on MQTT: availability (last will), retained state, periodic health,
 * commands over `<base>/set` and `<base>/request/<command>`, and Home Assistant
 * discovery. A missing broker never stops the box: it keeps retrying with
 * backoff and publishes nothing while away (state is re-sent on reconnect).
 */
export class MqttService implements Service {
  readonly name = 'mqtt';
  private readonly log: Logger;
  readonly topics: BoxTopics;
  readonly ha: HaTopics;
  private client: MqttClient | undefined;
  private localBroker: MosquittoProcess | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private stateScheduled = false;
  private announceScheduled = false;
  private attempts = 0;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private offs: Array<() => void> = [];
  private lastEngineState: string | undefined;
  private tableSignature = '';
  private readonly announcer: DiscoveryAnnouncer;
  private readonly health: HealthSource;
  private lastReassert = 0;
  private reassertTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: MqttDeps) {
    this.log = deps.ctx.log.child({ service: this.name });
    const cfg = deps.ctx.config.mqtt;
    this.topics = boxTopics(checkBaseTopic(cfg.baseTopic || `hushbox/${deps.ctx.config.deviceId}`));
    this.ha = haTopics(cfg.discoveryPrefix);
    this.announcer = new DiscoveryAnnouncer(join(deps.ctx.dataDir, 'homeassistant-announced.json'));
    this.health = deps.health ?? engineHealthSource(deps.ctx, deps.engine);
  }

  /** Whether the client is connected to the broker now. */
  connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    const cfg = this.deps.ctx.config.mqtt;
    if (this.client) return;
    if (!cfg.enabled) {
      this.log.info('MQTT disabled in the configuration');
      return;
    }
    if (cfg.localBroker) await this.startLocalBroker(cfg.url);

    const opts: IClientOptions = {
      clientId: `hushbox-${this.deps.ctx.config.deviceId}-${process.pid}`,
      // MQTT 5 for its limits (Mosquitto 1.6+, EMQX, HiveMQ speak it); 3.1.1 has no way to say them.
      protocolVersion: 5,
      properties: { maximumPacketSize: MAX_PACKET_BYTES, receiveMaximum: RECEIVE_MAXIMUM },
      clean: true,
      keepalive: 30,
      connectTimeout: 5000,
      reconnectPeriod: BACKOFF_MIN_MS,
      // A broker that refuses the login (its user not made yet at a first boot, the owner's broker being set up) is
      // tried again with the same backoff: without this mqtt.js gives up at the first refusal, for good.
      reconnectOnConnackError: true,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: this.topics.availability, payload: Buffer.from(AVAILABILITY_OFFLINE), retain: true, qos: 1 },
      rejectUnauthorized: cfg.rejectUnauthorized,
    };
    if (cfg.username !== undefined) opts.username = cfg.username;
    if (cfg.password !== undefined) opts.password = cfg.password;
    // The box's own broker: the supervisor's user made at first boot (hushbox mqtt-credentials), unless the
    // config or the URL names one. Only on this machine: a broker elsewhere (the owner's Home Assistant)
    // is never sent the password of the box's own.
    const ownBroker = cfg.username === undefined && !new URL(cfg.url).username && isLoopback(cfg.url);
    const own = ownBroker ? readBrokerCredentials(this.deps.ctx.dataDir) : undefined;
    if (own) {
      opts.username = own.supervisor.username;
      opts.password = own.supervisor.password;
      this.syncBrokerAcl();
    }
    // None yet: at a box's first boot they are made beside the supervisor's start (hushbox-mqtt-credentials.service
    // runs before the broker, not before the supervisor), so each retry looks for them again.
    let awaitingOwn = ownBroker && !own;
    try {
      if (cfg.ca) opts.ca = readFileSync(cfg.ca);
      if (cfg.cert) opts.cert = readFileSync(cfg.cert);
      if (cfg.key) opts.key = readFileSync(cfg.key);
    } catch (err) {
      // A wrong TLS file is a configuration problem, but it must not stop the box.
      this.log.error({ err: (err as Error).message }, 'MQTT TLS files cannot be read; MQTT stays off');
      return;
    }

    const client = connect(cfg.url, opts);
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    client.on('close', () => {
      if (client !== this.client) return; // stopping
      if (awaitingOwn) {
        const found = readBrokerCredentials(this.deps.ctx.dataDir);
        if (found) {
          awaitingOwn = false;
          // mqtt.js reads its options again at each reconnect.
          client.options.username = found.supervisor.username;
          client.options.password = found.supervisor.password;
          this.syncBrokerAcl();
          this.log.info({ username: found.supervisor.username }, "the box broker's user is there now: logging in with it");
        }
      }
      // Exponential backoff with jitter; mqtt.js reads reconnectPeriod at each attempt.
      this.attempts++;
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(this.attempts - 1, 10));
      client.options.reconnectPeriod = Math.round(base * (0.8 + Math.random() * 0.4));
      if (this.attempts === 1 || this.attempts % 10 === 0) {
        this.log.warn({ url: redact(cfg.url), attempts: this.attempts, retryMs: client.options.reconnectPeriod }, 'MQTT broker not reachable; retrying');
      }
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT client error'));

    const bus = this.deps.ctx.bus;
    this.offs = [
      bus.on('stateChanged', this.name, () => this.scheduleState()),
      bus.on('presetsChanged', this.name, () => this.scheduleAnnounce()),
      bus.on('otaChanged', this.name, () => this.publishUpdate()),
      bus.on('engineStatus', this.name, (s) => {
        if (s.state !== this.lastEngineState) {
          this.lastEngineState = s.state;
          this.publishHealth();
          if (s.state === 'running' && this.signature() !== this.tableSignature) this.scheduleAnnounce();
        }
      }),
    ];
    this.healthTimer = setInterval(() => this.publishHealth(), HEALTH_INTERVAL_MS);
    this.log.info({ url: redact(cfg.url), base: this.topics.base }, 'MQTT client started');
  }

  /**
   * The box's own broker: its ACL follows this configuration's base topic and discovery prefix. Written
   * at boot by `hushbox mqtt-credentials`; when the owner has since changed either, it is written again
   * and the running broker told to read it (SIGHUP), before the client connects.
   */
  private syncBrokerAcl(): void {
    const topics = aclTopics(this.deps.ctx.config.mqtt);
    try {
      if (!writeBrokerAcl(this.deps.ctx.dataDir, topics)) return;
      const pid = reloadBroker();
      this.log.warn({ base: topics.base, discoveryPrefix: topics.discoveryPrefix, brokerPid: pid ?? null }, `the broker's ACL was written for other topics: now for ${topics.base}/ and ${topics.discoveryPrefix}/${pid ? ' (broker reloaded)' : ''}`);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, "cannot write the broker's ACL for this configuration's topics: clients' commands may be refused");
    }
  }

  async stop(): Promise<void> {
    this.offs.forEach((off) => off());
    this.offs = [];
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.healthTimer = undefined;
    clearTimeout(this.reassertTimer);
    this.reassertTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) {
      const within = (p: Promise<unknown>, ms: number) => Promise.race([p, new Promise((r) => setTimeout(r, ms).unref())]);
      if (client.connected) {
        // A clean goodbye: the will is only for an unclean one. A broker that stops answering does not hold up the stop.
        await within(new Promise<void>((resolve) => client.publish(this.topics.availability, AVAILABILITY_OFFLINE, { retain: true, qos: 1 }, () => resolve())), 1000);
      }
      await within(client.endAsync(!client.connected), 2000);
      if (!client.disconnected) client.end(true);
    }
    await this.localBroker?.dispose();
    this.localBroker = undefined;
  }

  /** Connect again with the configuration as it is now (the broker changed on the front panel). */
  async restart(): Promise<void> {
    await this.stop();
    this.attempts = 0;
    await this.start();
  }

  /** Announce Home Assistant's discovery again (the box's name changed). */
  reannounce(): void {
    this.scheduleAnnounce();
  }

  private async startLocalBroker(url: string): Promise<void> {
    const u = new URL(url);
    const port = Number(u.port || 1883);
    if (!['localhost', '127.0.0.1', '::1', '[::1]'].includes(u.hostname) || u.protocol !== 'mqtt:') return;
    if (await isListening('127.0.0.1', port)) return;
    if (!findMosquitto()) {
      this.log.warn('no MQTT broker on localhost and mosquitto is not installed; MQTT will keep retrying');
      return;
    }
    const broker = new MosquittoProcess({ port });
    try {
      await broker.start();
      this.localBroker = broker;
      this.log.info({ port, pid: broker.pid }, 'started a private mosquitto for this session');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not start a private mosquitto; MQTT will keep retrying');
    }
  }

  // --- publishing ---

  private publish(topic: string, payload: string, opts: { retain: boolean; qos: 0 | 1 }): boolean {
    const client = this.client;
    // Nothing is queued while the broker is away: state is re-sent on reconnect.
    if (!client?.connected) return false;
    client.publish(topic, payload, opts, (err) => {
      if (err) this.log.debug({ topic, err: err.message }, 'MQTT publish failed');
    });
    return true;
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return;
    // Commands and responses are small: without this, Nagle and delayed ACKs add ~40 ms.
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    if (this.attempts > 0) this.log.info({ after: this.attempts }, 'MQTT reconnected');
    else this.log.info('MQTT connected');
    this.attempts = 0;
    client.options.reconnectPeriod = BACKOFF_MIN_MS;
    // Its own availability too: another client (a second box with the same id, a stale will) that
    // overwrites the retained `online` is corrected, or Home Assistant shows the box unavailable for good.
    client.subscribe([this.topics.set, this.topics.requestWildcard, this.ha.status, this.topics.availability], { qos: 1 }, (err) => {
      if (err) this.log.error({ err: err.message }, 'MQTT subscribe failed');
    });
    this.publish(this.topics.availability, AVAILABILITY_ONLINE, { retain: true, qos: 1 });
    this.publishState();
    this.publishUpdate();
    this.publishHealth();
    this.announce();
  }

  private scheduleState(): void {
    if (this.stateScheduled) return;
    this.stateScheduled = true;
    // Coalesce a burst of changes in one tick into one message.
    setImmediate(() => {
      this.stateScheduled = false;
      this.publishState();
    });
  }

  private scheduleAnnounce(): void {
    if (this.announceScheduled) return;
    this.announceScheduled = true;
    setImmediate(() => {
      this.announceScheduled = false;
      this.announce();
    });
  }

  publishState(): void {
    const state: StatePayload = this.deps.presets.state();
    this.publish(this.topics.state, JSON.stringify(state), { retain: true, qos: 1 });
  }

  private publishUpdate(): void {
    const ota = this.deps.ota;
    if (!ota) return;
    this.publish(this.topics.update, JSON.stringify(updateEntityState(ota.summary())), { retain: true, qos: 1 });
  }

  healthSnapshot(): HealthPayload {
    return this.health();
  }

  private publishHealth(): void {
    if (!this.client?.connected) return;
    try {
      this.publish(this.topics.health, JSON.stringify(this.health()), { retain: false, qos: 0 });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'health snapshot failed');
    }
  }

  private signature(): string {
    return this.deps.engine
      .params()
      .map((p) => `${p.id}:${p.min}:${p.max}`)
      .join(',');
  }

  private panelUrl(): string {
    const cfg = this.deps.ctx.config;
    if (cfg.mqtt.panelUrl) return cfg.mqtt.panelUrl;
    const port = this.deps.webPort?.() ?? cfg.http.port;
    const host = cfg.http.host === '0.0.0.0' || cfg.http.host === '::' ? `${hostname()}.local` : cfg.http.host;
    return `http://${host}${port === 80 ? '' : `:${port}`}/`;
  }

  private announce(): void {
    if (!this.client?.connected || !this.deps.ctx.config.mqtt.discovery) return;
    this.tableSignature = this.signature();
    const messages = discoveryMessages({
      deviceId: this.deps.ctx.config.deviceId,
      name: this.deps.ctx.config.name,
      version: this.deps.ctx.version,
      panelUrl: this.panelUrl(),
      box: this.topics,
      ha: this.ha,
      params: this.deps.engine.params(),
      presetNames: this.deps.presets.names(),
    });
    try {
      const cleared = this.announcer.announce(messages, (t, p, o) => this.publish(t, p, o));
      this.log.debug({ entities: messages.length, cleared }, 'Home Assistant discovery announced');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'Home Assistant discovery failed');
    }
  }

  /** Publish `online` again, at most once a second (two boxes sharing an id must not flood the broker). */
  private reassertOnline(): void {
    if (!this.client?.connected) return;
    const now = Date.now();
    if (now - this.lastReassert < REASSERT_MIN_MS) {
      if (!this.reassertTimer) {
        this.reassertTimer = setTimeout(() => {
          this.reassertTimer = undefined;
          this.reassertOnline();
        }, REASSERT_MIN_MS - (now - this.lastReassert));
      }
      return;
    }
    this.lastReassert = now;
    this.log.warn({ topic: this.topics.availability }, 'another client overwrote this box\'s availability; publishing online again (two boxes with one device id?)');
    this.publish(this.topics.availability, AVAILABILITY_ONLINE, { retain: true, qos: 1 });
  }

  // --- commands ---

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic === this.topics.availability) {
      // A retained one is what was there before this connection; onConnect's `online` replaces it.
      if (!retained && payload.toString() !== AVAILABILITY_ONLINE) this.reassertOnline();
      return;
    }
    if (topic === this.ha.status) {
      if (payload.toString() === HA_STATUS_ONLINE) {
        this.log.info('Home Assistant came online; announcing again');
        this.announce();
        this.publishState();
        this.publishUpdate();
        this.publishHealth();
      }
      return;
    }
    if (retained) {
      // A retained command would run again on every reconnect.
      this.log.warn({ topic }, 'ignoring a retained command');
      return;
    }
    const command = topic === this.topics.set ? 'set' : this.topics.commandOf(topic);
    if (!command) return;
    if (this.pending >= MAX_PENDING_COMMANDS) {
      this.respond(command, { status: 'error', error: { code: 'busy', message: `more than ${MAX_PENDING_COMMANDS} commands waiting; try again` } }, undefined);
      return;
    }
    this.pending++;
    // One command at a time, in arrival order.
    this.chain = this.chain.then(async () => {
      try {
        await this.handle(command, topic, payload);
      } finally {
        this.pending--;
      }
    });
  }

  private async handle(command: string, topic: string, payload: Buffer): Promise<void> {
    let transaction: string | number | undefined;
    try {
      if (payload.length > MAX_PAYLOAD_BYTES) throw new ValidationError(`${topic}: payload of ${payload.length} bytes is larger than ${MAX_PAYLOAD_BYTES}`);
      const body = parseJson(topic, payload);
      transaction = transactionOf(body);
      let data: unknown;
      if (command === 'set') {
        const patch = checkPayload(SetPayloadSchema, body, topic);
        data = await this.deps.presets.applyPatch(patch, 'mqtt');
      } else if ((COMMANDS as string[]).includes(command)) {
        data = await this.run(command as Command, checkPayload(RequestSchemas[command as Command], body, topic));
      } else {
        throw new ValidationError(`unknown command '${command}'; known: ${COMMANDS.join(', ')}`);
      }
      this.respond(command, { status: 'ok', data }, transaction);
    } catch (err) {
      const known = err instanceof HushboxError;
      if (!known) this.log.error({ err, command }, 'MQTT command failed');
      else this.log.info({ command, code: err.code, message: err.message }, 'MQTT command refused');
      this.respond(command, { status: 'error', error: { code: known ? err.code : 'internal', message: known ? err.message : 'internal error' } }, transaction);
    }
  }

  private async run(command: Command, body: RequestPayload<Command>): Promise<unknown> {
    const presets = this.deps.presets;
    switch (command) {
      case 'apply_preset':
        return presets.apply((body as RequestPayload<'apply_preset'>).preset, 'mqtt');
      case 'set_params':
        return presets.applyPatch({ params: (body as RequestPayload<'set_params'>).params }, 'mqtt');
      case 'set_bypass':
        return presets.applyPatch({ bypass: (body as RequestPayload<'set_bypass'>).bypass }, 'mqtt');
      case 'ab_toggle':
        return presets.abToggle('mqtt');
      case 'ab_store':
        return presets.abStore((body as RequestPayload<'ab_store'>).slot, 'mqtt');
      case 'save_preset': {
        const { transaction: _t, ...input } = body as RequestPayload<'save_preset'>;
        return presets.create(input, 'mqtt');
      }
      case 'set_locks':
        return presets.setLocks({ locked: (body as RequestPayload<'set_locks'>).locked }, 'mqtt');
      case 'restart_engine':
        return this.deps.engine.restart();
      case 'get_health':
        return this.health();
      case 'get_state':
        return presets.state();
      case 'install_update': {
        const b = body as RequestPayload<'install_update'>;
        const opts = { allowDowngrade: b.allow_downgrade ?? false };
        return b.url ? this.needOta().installFromUrl(b.url, { ...opts, sha256: b.sha256 }) : this.needOta().installFromChannel(opts);
      }
      case 'check_update':
        return this.needOta().checkChannel();
      case 'reboot':
        return this.needOta().reboot();
      case 'midi_learn': {
        // Answered twice: at once ({learning}), and with the mapping once a control moved (or the
        // error). Learn waits for a person; the commands behind it in the queue must not.
        const { transaction, ...request } = body as RequestPayload<'midi_learn'>;
        const midi = this.needMidi();
        midi.learn(request, 'mqtt').then(
          (mapping) => this.respond('midi_learn', { status: 'ok', data: { mapping } }, transaction),
          (err: Error) => {
            const known = err instanceof HushboxError;
            if (!known) this.log.error({ err }, 'MIDI learn failed');
            this.respond('midi_learn', { status: 'error', error: { code: known ? err.code : 'internal', message: known ? err.message : 'internal error' } }, transaction);
          },
        );
        return { learning: midi.status().learning };
      }
      case 'midi_learn_cancel':
        return { cancelled: this.needMidi().cancelLearn() };
      case 'record_start': {
        const { transaction: _t, ...opts } = body as RequestPayload<'record_start'>;
        return this.needRecordings().startTake(opts);
      }
      case 'record_stop':
        return this.needRecordings().stopTake();
    }
  }

  private needMidi(): NonNullable<MqttDeps['midi']> {
    if (!this.deps.midi) throw new HushboxError('unavailable', 'MIDI is not available on this box');
    return this.deps.midi;
  }

  private needRecordings(): NonNullable<MqttDeps['recordings']> {
    if (!this.deps.recordings) throw new HushboxError('unavailable', 'recordings are not available on this box');
    return this.deps.recordings;
  }

  private needOta(): NonNullable<MqttDeps['ota']> {
    if (!this.deps.ota) throw new HushboxError('unavailable', 'updates are not available on this box');
    return this.deps.ota;
  }

  private respond(command: string, response: ResponsePayload, transaction: string | number | undefined): void {
    const msg: ResponsePayload = transaction === undefined ? response : { ...response, transaction };
    this.publish(this.topics.response(command), JSON.stringify(msg), { retain: false, qos: 1 });
  }
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
