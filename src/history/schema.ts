import { Type, type Static } from '@sinclair/typebox';


/** How a column's values in one step are folded into one. */
export type Aggregate = 'max' | 'mean' | 'power' | 'sum' | 'last';

/**
 * The columns of a history sample, in order. `power` averages dB levels as
 * power (an RMS over the step), `max` keeps the worst, `sum` counts.
 */
export const COLUMNS = [
  { name: 'in1PeakDb', agg: 'max', description: 'input 1 (mic) peak, dBFS' },
  { name: 'in1RmsDb', agg: 'power', description: 'input 1 (mic) RMS, dBFS' },
  { name: 'in2PeakDb', agg: 'max', description: 'input 2 (instrument) peak, dBFS' },
  { name: 'in2RmsDb', agg: 'power', description: 'input 2 (instrument) RMS, dBFS' },
  { name: 'out1PeakDb', agg: 'max', description: 'output 1 (left) peak, dBFS' },
  { name: 'out1RmsDb', agg: 'power', description: 'output 1 (left) RMS, dBFS' },
  { name: 'out2PeakDb', agg: 'max', description: 'output 2 (right) peak, dBFS' },
  { name: 'out2RmsDb', agg: 'power', description: 'output 2 (right) RMS, dBFS' },
  { name: 'micNsDb', agg: 'max', description: 'mic strip noise suppression gain reduction, dB' },
  { name: 'micGateDb', agg: 'max', description: 'mic strip gate gain reduction, dB' },
  { name: 'micCompDb', agg: 'max', description: 'mic strip compressor gain reduction, dB' },
  { name: 'micLimitDb', agg: 'max', description: 'mic strip limiter gain reduction, dB' },
  { name: 'instNsDb', agg: 'max', description: 'instrument strip noise suppression gain reduction, dB' },
  { name: 'instGateDb', agg: 'max', description: 'instrument strip gate gain reduction, dB' },
  { name: 'instCompDb', agg: 'max', description: 'instrument strip compressor gain reduction, dB' },
  { name: 'instLimitDb', agg: 'max', description: 'instrument strip limiter gain reduction, dB' },
  { name: 'masterLimitDb', agg: 'max', description: 'master limiter gain reduction, dB' },
  { name: 'dspLoad', agg: 'mean', description: 'DSP load, block time / period (0..1+)' },
  { name: 'dspLoadMax', agg: 'max', description: 'the largest block time / period seen in the step' },
  { name: 'jitterMaxUs', agg: 'max', description: 'the latest wake-up in the step, us' },
  { name: 'xruns', agg: 'sum', description: 'xruns in the step' },
  { name: 'latencyMs', agg: 'last', description: 'reported latency (periods x period + the chain), ms' },
  { name: 'driftPpm', agg: 'last', description: 'playback against capture clock, ppm; null when the engine does not measure it' },
  { name: 'temperatureC', agg: 'last', description: 'CPU temperature, degrees C (sampled every 5 s)' },
  { name: 'cpuPercent', agg: 'last', description: 'CPU use of all cores, % (sampled every 5 s)' },
  { name: 'engineUp', agg: 'mean', description: 'fraction of the step the engine was running (0..1)' },
  { name: 'restarts', agg: 'sum', description: 'engine restarts in the step' },
] as const satisfies ReadonlyArray<{ name: string; agg: Aggregate; description: string }>;

export type ColumnName = (typeof COLUMNS)[number]['name'];
export const COLUMN_NAMES: ColumnName[] = COLUMNS.map((c) => c.name);

/** One row: the time (unix seconds) and a value (or null: not known) per column, in COLUMNS order. */
export interface Row {
  t: number;
  v: Array<number | null>;
}

export const GapSchema = Type.Object({
  from: Type.Number({ description: 'unix seconds of the last sample before the gap' }),
  to: Type.Number({ description: 'unix seconds of the first sample after it' }),
  reason: Type.Union([Type.Literal('restart'), Type.Literal('no_samples')], {
    description: "restart: the supervisor was not running (a new session began); no_samples: the log was stopped (e.g. the data partition full) or the box stalled",
  }),
});
export type Gap = Static<typeof GapSchema>;

const NUMBER = '^-?[0-9]+(\\.[0-9]+)?$';
const COUNT = '^[0-9]{1,9}$';

export const HistoryQuerySchema = Type.Object(
  {
    from: Type.Optional(Type.String({ pattern: NUMBER, description: 'unix seconds (default: an hour before `to`); negative: seconds before now (-3600)' })),
    to: Type.Optional(Type.String({ pattern: NUMBER, description: 'unix seconds (default: now); negative: seconds before now' })),
    step: Type.Optional(Type.String({ pattern: NUMBER, description: 'seconds per point, at least the sample period (default: what keeps the answer at about 1200 points)' })),
    columns: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9,]+$', description: 'comma-separated column names (default: all)' })),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuerySchema>;

export const HistoryRangeSchema = Type.Object(
  {
    from: Type.Number(),
    to: Type.Number(),
    step: Type.Number({ description: 'seconds per point' }),
    columns: Type.Array(Type.String(), { description: "'t' then the value columns, in the order of `data`" }),
    units: Type.Record(Type.String(), Type.String(), { description: 'what each column holds' }),
    data: Type.Array(Type.Array(Type.Union([Type.Number(), Type.Null()])), {
      description: 'columnar, as uPlot takes it: data[0] the times (unix seconds), data[i] the values of columns[i]; a gap is a row of nulls at its start',
    }),
    gaps: Type.Array(GapSchema),
    sessions: Type.Array(Type.Object({ id: Type.String(), startedAt: Type.Number() }), { description: 'sessions that began in the range' }),
  },
  { description: 'A range of the session log, downsampled: peaks and gain reduction are the maximum over each step, RMS levels their power mean, DSP load the mean, xruns and restarts counts' },
);
export type HistoryRange = Static<typeof HistoryRangeSchema>;

export const SessionFileSchema = Type.Object({
  name: Type.String({ description: 'file name, for GET /api/history/sessions/:name' }),
  format: Type.Union([Type.Literal('jsonl'), Type.Literal('csv')]),
  compressed: Type.Boolean({ description: 'gzip (a rotated part)' }),
  bytes: Type.Integer(),
  from: Type.Number({ description: 'unix seconds of the first sample in it' }),
  open: Type.Boolean({ description: 'being written now' }),
});

export const SessionSchema = Type.Object({
  id: Type.String({ description: 'the start time, e.g. 2026-12-07T02-13-38Z' }),
  startedAt: Type.Number({ description: 'unix seconds' }),
  current: Type.Boolean({ description: 'this supervisor run' }),
  files: Type.Array(SessionFileSchema),
});
export type Session = Static<typeof SessionSchema>;

export const LogStateSchema = Type.Object({
  writing: Type.Boolean({ description: 'samples go to the files' }),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'why not, when not' }),
  bytes: Type.Integer({ description: 'the session logs on /data together' }),
  maxBytes: Type.Integer({ description: 'the cap: the oldest parts are deleted beyond it' }),
  sampleMs: Type.Integer(),
});
export type LogState = Static<typeof LogStateSchema>;

export const SessionListSchema = Type.Object({ log: LogStateSchema, sessions: Type.Array(SessionSchema) });

export const SessionFileNameSchema = Type.Object({
  name: Type.String({ pattern: '^session-[0-9TZ-]+_[0-9]+\\.(jsonl|csv)(\\.gz)?$', description: 'a file name from /api/history/sessions' }),
});

export const EventTypeSchema = Type.Union([
  Type.Literal('supervisor_start'),
  Type.Literal('xrun'),
  Type.Literal('engine_restart'),
  Type.Literal('engine_crash'),
  Type.Literal('engine_failed'),
  Type.Literal('device_lost'),
  Type.Literal('device_back'),
  Type.Literal('update_install'),
  Type.Literal('update_success'),
  Type.Literal('update_fallback'),
  Type.Literal('update_failed'),
  Type.Literal('preset_applied'),
  Type.Literal('data_full'),
  Type.Literal('latency_measured'),
  Type.Literal('settings_changed'),
]);
export type EventType = Static<typeof EventTypeSchema>;

export const BoxEventSchema = Type.Object({
  id: Type.Integer({ description: 'increasing; an event that gathers more (xruns) keeps its id and is sent again' }),
  time: Type.String({ description: 'ISO 8601, when it began' }),
  lastTime: Type.String({ description: 'ISO 8601, the latest occurrence gathered in it' }),
  type: EventTypeSchema,
  level: Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]),
  message: Type.String(),
  count: Type.Integer({ description: 'occurrences gathered in this event (xruns within 10 s of each other)' }),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type BoxEvent = Static<typeof BoxEventSchema>;

export const EventListSchema = Type.Object({
  events: Type.Array(BoxEventSchema, { description: 'newest last' }),
  max: Type.Integer({ description: 'how many are kept' }),
});

export const EventQuerySchema = Type.Object(
  {
    since: Type.Optional(Type.String({ pattern: COUNT, description: 'only events with a larger id' })),
    limit: Type.Optional(Type.String({ pattern: COUNT, description: 'at most this many, the newest' })),
  },
  { additionalProperties: false },
);

export const XrunCountsSchema = Type.Object({
  session: Type.Integer({ description: 'since the supervisor started' }),
  total: Type.Integer({ description: 'since the box was set up (kept on /data)' }),
  lastAt: Type.Union([Type.String(), Type.Null()], { description: 'ISO 8601 of the latest xrun' }),
});
export type XrunCounts = Static<typeof XrunCountsSchema>;
