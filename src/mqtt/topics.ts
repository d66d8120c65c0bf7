// Every MQTT topic the box uses, and the payload each carries. Nothing else in
// the code spells a topic.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError } from '../errors.js';
import { PresetInputSchema } from '../presets/schema.js';
import { AbSlotSchema, BoxStateSchema } from '../presets/state.js';
import { MidiLearnRequestSchema } from '../midi/schema.js';
import { RecordFormatSchema, RecordSourceSchema } from '../recording/schema.js';

export const AVAILABILITY_ONLINE = 'online';
export const AVAILABILITY_OFFLINE = 'offline';
export type Availability = typeof AVAILABILITY_ONLINE | typeof AVAILABILITY_OFFLINE;

/** Home Assistant's birth message topic (and payloads) under the discovery prefix. */
export const HA_STATUS_ONLINE = 'online';

/** `<base>/state`, retained. */
export const StatePayloadSchema = BoxStateSchema;
export type StatePayload = Static<typeof StatePayloadSchema>;

/** `<base>/health`, every 10 s and on a change of engine state. */
export const HealthPayloadSchema = Type.Object({
  time: Type.String({ format: 'date-time' }),
  engine_state: Type.String(),
  dsp_load: Type.Union([Type.Number(), Type.Null()], { description: 'percent of the period, mean' }),
  dsp_load_max: Type.Union([Type.Number(), Type.Null()]),
  xruns: Type.Union([Type.Integer(), Type.Null()]),
  missed_deadlines: Type.Union([Type.Integer(), Type.Null()]),
  latency_ms: Type.Union([Type.Number(), Type.Null()]),
  cpu_temperature: Type.Union([Type.Number(), Type.Null()], { description: '°C; null when the board has no sensor' }),
  cpu_load: Type.Number({ description: '1-minute load average per core, percent' }),
  memory: Type.Object({ total_mb: Type.Number(), available_mb: Type.Number(), supervisor_rss_mb: Type.Number() }),
  disk: Type.Union([Type.Object({ data_total_mb: Type.Number(), data_free_mb: Type.Number() }), Type.Null()]),
  uptime_s: Type.Number({ description: 'supervisor uptime' }),
  system_uptime_s: Type.Number(),
  engine_restarts: Type.Integer(),
});
export type HealthPayload = Static<typeof HealthPayloadSchema>;

const ParamValues = Type.Record(Type.String(), Type.Union([Type.Number(), Type.Boolean()]), { minProperties: 1 });

/** `<base>/update`, retained: Home Assistant's MQTT update entity state. */
export const UpdatePayloadSchema = Type.Object({
  installed_version: Type.String(),
  latest_version: Type.String(),
  title: Type.String(),
  release_summary: Type.Union([Type.String({ maxLength: 255 }), Type.Null()], { description: 'what became of the last update, or the release notes' }),
  in_progress: Type.Boolean(),
  update_percentage: Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()]),
});
export type UpdatePayload = Static<typeof UpdatePayloadSchema>;

/** `<base>/set`: a JSON patch of the state. */
export const SetPayloadSchema = Type.Object(
  {
    preset: Type.Optional(Type.String({ minLength: 1, description: 'preset id or name' })),
    bypass: Type.Optional(Type.Boolean()),
    params: Type.Optional(ParamValues),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type SetPayload = Static<typeof SetPayloadSchema>;

const Transaction = Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Number()], { description: 'echoed in the response' }));

/** `<base>/request/<command>` payloads, one schema per command. */
export const RequestSchemas = {
  apply_preset: Type.Object({ transaction: Transaction, preset: Type.String({ minLength: 1, description: 'id or name' }) }, { additionalProperties: false }),
  set_params: Type.Object({ transaction: Transaction, params: ParamValues }, { additionalProperties: false }),
  set_bypass: Type.Object({ transaction: Transaction, bypass: Type.Boolean() }, { additionalProperties: false }),
  ab_toggle: Type.Object({ transaction: Transaction }, { additionalProperties: false }),
  ab_store: Type.Object({ transaction: Transaction, slot: AbSlotSchema }, { additionalProperties: false }),
  save_preset: Type.Composite([Type.Object({ transaction: Transaction }), PresetInputSchema], { additionalProperties: false }),
  set_locks: Type.Object({ transaction: Transaction, locked: Type.Array(Type.String(), { maxItems: 256 }) }, { additionalProperties: false }),
  restart_engine: Type.Object({ transaction: Transaction }, { additionalProperties: false }),
  get_health: Type.Object({ transaction: Transaction }, { additionalProperties: false }),
  get_state: Type.Object({ transaction: Transaction }, { additionalProperties: false }),
  install_update: Type.Object(
    {
      transaction: Transaction,
      url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: "a bundle's http(s) URL; without it, the channel's latest version" })),
      sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
      allow_downgrade: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  check_update: Type.Object({ transaction: Transaction }, { additionalProperties: false }),
  reboot: Type.Object({ transaction: Transaction }, { additionalProperties: false }),
  midi_learn: Type.Composite([Type.Object({ transaction: Transaction }), MidiLearnRequestSchema], { additionalProperties: false }),
  midi_learn_cancel: Type.Object({ transaction: Transaction }, { additionalProperties: false }),
  record_start: Type.Object(
    { transaction: Transaction, source: Type.Optional(RecordSourceSchema), format: Type.Optional(RecordFormatSchema) },
    { additionalProperties: false },
  ),
  record_stop: Type.Object({ transaction: Transaction }, { additionalProperties: false }),
} satisfies Record<string, TSchema>;
export type Command = keyof typeof RequestSchemas;
export type RequestPayload<C extends Command> = Static<(typeof RequestSchemas)[C]>;
export const COMMANDS = Object.keys(RequestSchemas) as Command[];

/** `<base>/response/<command>`. */
export const ResponsePayloadSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  data: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  transaction: Type.Optional(Type.Union([Type.String(), Type.Number()])),
});
export type ResponsePayload = Static<typeof ResponsePayloadSchema>;

/** The topics of one box. */
export function boxTopics(base: string) {
  return {
    base,
    availability: `${base}/availability`,
    state: `${base}/state`,
    health: `${base}/health`,
    /** The firmware update entity's state (Home Assistant's MQTT update JSON), retained. */
    update: `${base}/update`,
    set: `${base}/set`,
    request: (command: string) => `${base}/request/${command}`,
    response: (command: string) => `${base}/response/${command}`,
    /** Subscription for every request. */
    requestWildcard: `${base}/request/+`,
    /** The command of a request topic, or undefined if the topic is not one. */
    commandOf(topic: string): string | undefined {
      const prefix = `${base}/request/`;
      if (!topic.startsWith(prefix)) return undefined;
      const rest = topic.slice(prefix.length);
      return rest && !rest.includes('/') ? rest : undefined;
    },
  };
}
export type BoxTopics = ReturnType<typeof boxTopics>;

/** Home Assistant discovery topics under `prefix` (default `homeassistant`). */
export function haTopics(prefix: string) {
  return {
    status: `${prefix}/status`,
    config: (component: string, nodeId: string, objectId: string) => `${prefix}/${component}/${nodeId}/${objectId}/config`,
    /** Every config of one node, for clearing what we once announced. */
    nodeWildcard: (nodeId: string) => `${prefix}/+/${nodeId}/+/config`,
  };
}
export type HaTopics = ReturnType<typeof haTopics>;

/** A base topic must be a plain topic: no wildcards, no empty levels. */
export function checkBaseTopic(base: string): string {
  if (!base || /[#+]/.test(base) || base.startsWith('/') || base.endsWith('/') || base.includes('//')) {
    throw new ValidationError(`mqtt.baseTopic: '${base}' is not a valid topic (no wildcards, no empty levels)`);
  }
  return base;
}

/** Parse a JSON payload; the error names the topic and what is wrong. */
export function parseJson(topic: string, payload: Buffer | string): unknown {
  const text = payload.toString();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${topic}: payload is not valid JSON: ${(err as Error).message}`);
  }
}

/** Check a payload against its schema; the error names every field that is wrong. */
export function checkPayload<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  const problems = [...Value.Errors(schema, value)].slice(0, 6).map((e) => {
    const field = e.path ? e.path.slice(1).replace(/\//g, '.') : '';
    return `${field || '(payload)'}: ${e.message}${e.value !== undefined && typeof e.value !== 'object' ? ` (got ${JSON.stringify(e.value)})` : ''}`;
  });
  throw new ValidationError(`${what}: ${problems.join('; ')}`, problems);
}

/** The transaction a (possibly invalid) request carried, to echo it even in an error. */
export function transactionOf(value: unknown): string | number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const t = (value as Record<string, unknown>).transaction;
  return typeof t === 'string' || typeof t === 'number' ? t : undefined;
}
