import { Type, type Static } from '@sinclair/typebox';

export const EngineConfigSchema = Type.Object(
  {
    binary: Type.String({ minLength: 1, description: 'path of hushbox-engine' }),
    backend: Type.Union([Type.Literal('sim'), Type.Literal('alsa'), Type.Literal('file'), Type.Literal('jack')]),
    device: Type.String({ description: 'ALSA device, e.g. hw:Gen' }),
    input: Type.String({ description: 'sim backend input: demo, tone, tone:HZ[:DBFS], noise, silence or a WAV path' }),
    rate: Type.Integer({ minimum: 8000, maximum: 384000 }),
    frames: Type.Integer({ minimum: 16, maximum: 4096 }),
    periods: Type.Integer({ minimum: 2, maximum: 16 }),
    channels: Type.Integer({ minimum: 1, maximum: 8 }),
    priority: Type.Integer({ minimum: 0, maximum: 99, description: 'SCHED_FIFO priority of the audio thread; 0 for none' }),
    cpu: Type.Integer({ minimum: -1, description: 'CPU for the audio thread; -1 to leave it free' }),
    jackName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 63, pattern: '^[^:,]+$', description: "jack backend: the JACK client's name (default hushbox)" }),
    ),
    jackConnectIn: Type.Optional(
      Type.Array(Type.String({ minLength: 1, pattern: '^[^,]+$' }), {
        maxItems: 8,
        description: 'jack backend: the ports to connect to the engine inputs (mic, inst...), e.g. system:capture_1',
      }),
    ),
    jackConnectOut: Type.Optional(
      Type.Array(Type.String({ minLength: 1, pattern: '^[^,]+$' }), {
        maxItems: 8,
        description: 'jack backend: the ports to connect the engine outputs (out_left, out_right...) to, e.g. system:playback_1',
      }),
    ),
  },
  { additionalProperties: false },
);

/** System tuning (src/system). Off unless the box's config or HUSHBOX_TUNE=1 turns it on. */
export const SystemConfigSchema = Type.Object(
  {
    root: Type.String({ minLength: 1, description: "root of /sys, /proc and /etc: '/' on the box, a fake tree in tests" }),
    tune: Type.Boolean({ description: 'apply real-time tuning (governor, IRQ priorities, sysctl, USB power); off on a developer machine' }),
    audioCpu: Type.Integer({ minimum: -1, description: 'CPU for the audio thread; -1 to choose (isolated core, else the least busy)' }),
    irqPriority: Type.Integer({ minimum: 1, maximum: 99, description: 'SCHED_FIFO priority of the USB and sound IRQ threads' }),
    swappiness: Type.Integer({ minimum: 0, maximum: 200 }),
  },
  { additionalProperties: false },
);

export const MqttConfigSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp|ssl)://', description: 'broker URL; user:pass@ in it is used for login' }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA that signed the broker certificate' })),
    cert: Type.Optional(Type.String({ minLength: 1, description: 'PEM client certificate file' })),
    key: Type.Optional(Type.String({ minLength: 1, description: 'PEM client key file' })),
    rejectUnauthorized: Type.Boolean({ description: 'check the broker certificate (TLS)' }),
    baseTopic: Type.String({ description: "base topic; '' means hushbox/<deviceId>" }),
    discovery: Type.Boolean({ description: 'announce Home Assistant discovery configs' }),
    discoveryPrefix: Type.String({ minLength: 1 }),
    panelUrl: Type.String({ description: "front panel URL for Home Assistant's configuration_url; '' means derived" }),
    localBroker: Type.Boolean({ description: 'start a private mosquitto for this session when nothing listens on a localhost url' }),
  },
  { additionalProperties: false },
);

/** The owner account (src/auth): recovery file, extra Host names, the shell's Unix socket. */
export const AuthConfigSchema = Type.Object(
  {
    resetFiles: Type.Array(Type.String({ minLength: 1 }), {
      description: 'a file at any of these paths (on the boot partition) resets the owner password at the next start, and is removed',
    }),
    allowedHosts: Type.Array(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9.:\\[\\]_-]+$' }), {
      description: 'Host names the box also answers to (e.g. behind a reverse proxy), besides its own names and addresses',
    }),
    socket: Type.String({ description: "Unix socket of the shell command (root only, 0600); '' means <data>/api.sock, 'off' none" }),
  },
  { additionalProperties: false },
);

/** The session logs of telemetry (src/history): sampling, rotation, size cap. */
export const HistoryConfigSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'write session logs to <data>/history (default true); the last hours stay in memory either way' })),
    sampleMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000, description: 'one sample per this many ms (default 1000)' })),
    flushMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000, description: 'samples are written in batches this often (default 5000)' })),
    rotateBytes: Type.Optional(Type.Integer({ minimum: 4096, description: 'a part is gzipped once its JSON lines reach this size (default 1 MiB)' })),
    maxBytes: Type.Optional(Type.Integer({ minimum: 16384, description: 'all session logs together; the oldest parts are deleted beyond it (default 64 MiB)' })),
    memoryS: Type.Optional(Type.Integer({ minimum: 60, maximum: 86400, description: 'seconds of samples kept in memory for /api/history (default 7200)' })),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    deviceId: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'MQTT base topic and unique ids' }),
    name: Type.String({ minLength: 1, maxLength: 64 }),
    http: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Type.Integer({ minimum: 0, maximum: 65535 }),
      },
      { additionalProperties: false },
    ),
    engine: EngineConfigSchema,
    system: Type.Optional(SystemConfigSchema),
    mqtt: MqttConfigSchema,
    auth: Type.Optional(AuthConfigSchema),
    history: Type.Optional(HistoryConfigSchema),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type EngineConfig = Static<typeof EngineConfigSchema>;
export type SystemConfig = Static<typeof SystemConfigSchema>;
export type MqttConfig = Static<typeof MqttConfigSchema>;
export type AuthConfig = Static<typeof AuthConfigSchema>;
export type HistoryConfig = Static<typeof HistoryConfigSchema>;
