import { Type, type Static } from '@sinclair/typebox';

/** What a mapping listens to. */
export const MidiSourceSchema = Type.Union([Type.Literal('cc'), Type.Literal('note'), Type.Literal('program')], {
  description: 'cc: Control Change; note: Note on (a switch); program: Program Change',
});

/** What it does. */
export const MidiActionSchema = Type.Union(
  [Type.Literal('param'), Type.Literal('toggle'), Type.Literal('preset'), Type.Literal('ab_toggle'), Type.Literal('record')],
  {
    description:
      "param: a CC sets the parameter (scaled by its range and scale); toggle: a switch (Note on, CC >= 64) flips an on/off parameter such as a bypass; preset: Program Change N recalls the preset at place N of the program list; ab_toggle: the A/B toggle; record: start or stop a recording",
  },
);

export const MidiModeSchema = Type.Union(
  [Type.Literal('absolute'), Type.Literal('relative_twos'), Type.Literal('relative_offset'), Type.Literal('relative_signed')],
  { description: 'absolute: a knob position; relative_*: an endless encoder, two\'s complement (1 up, 127 down), binary offset (65 up, 63 down) or sign-magnitude (1 up, 65 down)' },
);

export const MidiResolutionSchema = Type.Union([Type.Literal(7), Type.Literal(14)], {
  description:
    '14: a 14-bit CC pair (an absolute knob on CC 0..31 setting a parameter): CC number carries the high 7 bits (MSB), CC number + 32 the low 7 bits (LSB); 7 (or absent): one CC',
});

/** A mapping as a client sends it (the id is the box's). */
export const MidiMappingInputSchema = Type.Object(
  {
    source: MidiSourceSchema,
    channel: Type.Union([Type.Integer({ minimum: 1, maximum: 16 }), Type.Literal('omni')], { default: 'omni', description: 'MIDI channel 1..16, or omni' }),
    number: Type.Optional(Type.Integer({ minimum: 0, maximum: 127, description: 'the CC or note number (not for program)' })),
    action: MidiActionSchema,
    param: Type.Optional(Type.String({ minLength: 1, maxLength: 47, description: 'parameter id, for param and toggle' })),
    mode: Type.Optional(MidiModeSchema),
    min: Type.Optional(Type.Number({ description: 'bottom of the knob\'s travel, inside the parameter\'s range' })),
    max: Type.Optional(Type.Number({ description: 'top of the knob\'s travel, inside the parameter\'s range' })),
    invert: Type.Optional(Type.Boolean({ description: 'the knob\'s top is the range\'s bottom' })),
    resolution: Type.Optional(MidiResolutionSchema),
  },
  { additionalProperties: false },
);
export type MidiMappingInput = Static<typeof MidiMappingInputSchema>;

export const MidiMappingSchema = Type.Composite([Type.Object({ id: Type.String({ pattern: '^[a-z0-9]{1,16}$' }) }), MidiMappingInputSchema], {
  additionalProperties: false,
});
export type MidiMapping = Static<typeof MidiMappingSchema>;

export const MAX_MAPPINGS = 128;

/** The MIDI settings on the data partition (not in presets). */
export const MidiSettingsSchema = Type.Object(
  {
    version: Type.Literal(1),
    input: Type.String({
      pattern: '^(none|seq|hw:[A-Za-z0-9_,-]{1,64})$',
      description: 'seq: every MIDI port of the ALSA sequencer, also ones plugged in later; hw:CARD[,DEV[,SUB]]: one raw MIDI device; none',
    }),
    mappings: Type.Array(MidiMappingSchema, { maxItems: MAX_MAPPINGS }),
    programs: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
      maxItems: 128,
      description: 'preset ids or names by program number (0 first); empty: the preset list order',
    }),
  },
  { additionalProperties: false },
);
export type MidiSettings = Static<typeof MidiSettingsSchema>;

export const MidiSettingsPatchSchema = Type.Partial(Type.Pick(MidiSettingsSchema, ['input', 'programs']), { additionalProperties: false });

/** One incoming message, for the page's activity view and for learn. */
export const MidiActivitySchema = Type.Object({
  at: Type.String({ description: 'ISO time the supervisor saw it' }),
  kind: Type.Union([Type.Literal('cc'), Type.Literal('note_on'), Type.Literal('note_off'), Type.Literal('program')]),
  channel: Type.Integer({ minimum: 1, maximum: 16 }),
  number: Type.Integer(),
  value: Type.Integer(),
});
export type MidiActivity = Static<typeof MidiActivitySchema>;

/** What learn waits for: the next CC, note or program to map to this. */
export const MidiLearnRequestSchema = Type.Object(
  {
    action: MidiActionSchema,
    param: Type.Optional(Type.String({ minLength: 1, maxLength: 47 })),
    mode: Type.Optional(MidiModeSchema),
    resolution: Type.Optional(MidiResolutionSchema),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1000, maximum: 120000, default: 30000 })),
  },
  { additionalProperties: false },
);
export type MidiLearnRequest = Static<typeof MidiLearnRequestSchema>;

export const MidiStatusSchema = Type.Object({
  input: Type.String(),
  mappings: Type.Array(MidiMappingSchema),
  programs: Type.Array(Type.String()),
  learning: Type.Union([Type.Null(), Type.Object({ action: MidiActionSchema, param: Type.Optional(Type.String()), until: Type.String() })]),
  activity: Type.Array(MidiActivitySchema),
  counters: Type.Union([
    Type.Null(),
    Type.Object({ received: Type.Number(), dropped: Type.Number(), overruns: Type.Number({ description: 'times the kernel\'s sequencer queue for the engine overran (events lost, uncounted)' }), ignored: Type.Number(), applied: Type.Number(), ports: Type.Number() }),
  ]),
});
export type MidiStatus = Static<typeof MidiStatusSchema>;
