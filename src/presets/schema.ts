import { FormatRegistry, Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError } from '../errors.js';
import type { ParamDef } from '../engine/params.js';

// TypeBox's Value checks only formats that are registered.
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)));
}

/** The preset file format this supervisor writes. */
export const PRESET_SCHEMA_VERSION = 1;

export const PresetIdSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'file name stem, e.g. studio-voice' });
export const PresetNameSchema = Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' });
export const TagsSchema = Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 16 });
export const NotesSchema = Type.String({ maxLength: 2000 });
/** User presets a box keeps, besides the factory ones: each costs a file and a line on every page and select. */
export const MAX_USER_PRESETS = 500;
/** Parameters one preset may name: the engine has about 150; room for a fuller engine, not for 10 000 keys. */
export const MAX_PRESET_PARAMS = 512;
const PARAM_ID_MAX = 64;
const PARAM_ID = /^[a-z][a-z0-9]*(\.[a-z0-9]+)+$/;

/** Parameter values by id. Ids the running engine lacks are allowed here; see checkPresetParams. */
export const PresetParamsSchema = Type.Record(Type.String({ pattern: '^[a-z][a-z0-9]*(\\.[a-z0-9]+)+$', maxLength: PARAM_ID_MAX }), Type.Number(), {
  maxProperties: MAX_PRESET_PARAMS,
  description: 'parameter values by id (PARAMS.md); a preset may leave parameters out',
});

/** A preset as stored, schema version 1. */
export const PresetV1Schema = Type.Object(
  {
    schema: Type.Literal(1),
    id: PresetIdSchema,
    name: PresetNameSchema,
    tags: TagsSchema,
    notes: NotesSchema,
    created: Type.String({ format: 'date-time' }),
    modified: Type.String({ format: 'date-time' }),
    params: PresetParamsSchema,
  },
  { additionalProperties: false },
);
export type Preset = Static<typeof PresetV1Schema>;

/**
 * Schema version 0 (before versioning): a flat object of parameter values with
 * a `name` and optional `tags`/`notes`, no `schema` field.
 */
export const PresetV0Schema = Type.Object(
  { name: PresetNameSchema, tags: Type.Optional(TagsSchema), notes: Type.Optional(NotesSchema) },
  { additionalProperties: Type.Number() },
);
export type PresetV0 = Static<typeof PresetV0Schema>;

/** What a user sends to create a preset; params default to the current state. */
export const PresetInputSchema = Type.Object(
  {
    name: PresetNameSchema,
    tags: Type.Optional(TagsSchema),
    notes: Type.Optional(NotesSchema),
    params: Type.Optional(PresetParamsSchema),
  },
  { additionalProperties: false },
);
export type PresetInput = Static<typeof PresetInputSchema>;

export const PresetPatchSchema = Type.Object(
  {
    name: Type.Optional(PresetNameSchema),
    tags: Type.Optional(TagsSchema),
    notes: Type.Optional(NotesSchema),
    params: Type.Optional(PresetParamsSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PresetPatch = Static<typeof PresetPatchSchema>;

export const BUNDLE_FORMAT = 'hushbox-presets';
/** An export bundle. On import, `presets` may hold any known schema version. */
export const BundleSchema = Type.Object({
  format: Type.Literal(BUNDLE_FORMAT),
  exported: Type.String({ format: 'date-time' }),
  version: Type.String({ description: 'supervisor version that exported it' }),
  presets: Type.Array(PresetV1Schema),
});
export type Bundle = Static<typeof BundleSchema>;

export const CollisionPolicySchema = Type.Union([Type.Literal('overwrite'), Type.Literal('copy'), Type.Literal('skip')]);
export type CollisionPolicy = Static<typeof CollisionPolicySchema>;

/**
 * The `params` part of a preset as the running engine understands it: one
 * optional entry per parameter of the live table, with its range. Ids the
 * engine does not have are let through (numbers) and reported separately.
 */
export function paramsSchemaFor(table: Iterable<ParamDef>): TSchema {
  const props: Record<string, TSchema> = {};
  for (const d of table) {
    const opts = { minimum: d.min, maximum: d.max, description: `${d.name}${d.unit ? ` [${d.unit}]` : ''}`, default: d.default };
    props[d.id] = Type.Optional(d.scale === 'bool' || d.scale === 'enum' ? Type.Integer(opts) : Type.Number(opts));
  }
  return Type.Object(props, { additionalProperties: Type.Number() });
}

export interface ParamCheck {
  /** Ids the running engine does not have: kept in the preset, not applied, reported. */
  unknown: string[];
}

/**
 * Check preset values against the live table. Out-of-range or non-numeric
 * values are errors (nothing changes); ids the engine lacks are reported in
 * `unknown` so that a preset written for a fuller engine still loads.
 */
export function checkPresetParams(table: ReadonlyMap<string, ParamDef>, params: Record<string, unknown>, where = 'params'): ParamCheck {
  const keys = Object.keys(params);
  if (keys.length > MAX_PRESET_PARAMS) throw new ValidationError(`${where}: ${keys.length} parameters; a preset names at most ${MAX_PRESET_PARAMS}`);
  // Anything not shaped like a parameter id is refused here, not stored and then dropped on the way out.
  const odd = keys.filter((id) => id.length > PARAM_ID_MAX || !PARAM_ID.test(id));
  if (odd.length) {
    const shown = odd.slice(0, 5).map((id) => JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id));
    throw new ValidationError(`${where}: not parameter ids: ${shown.join(', ')}${odd.length > 5 ? ` and ${odd.length - 5} more` : ''} (an id looks like mic.comp.threshold)`, odd.slice(0, 20));
  }
  const schema = paramsSchemaFor(table.values());
  const problems: string[] = [];
  for (const [id, v] of Object.entries(params)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${where}.${id}: expected a finite number, got ${JSON.stringify(v)}`);
  }
  if (problems.length === 0 && !Value.Check(schema, params)) {
    for (const e of Value.Errors(schema, params)) {
      const id = e.path.replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~');
      const d = table.get(id);
      problems.push(
        d ? `${where}.${id}: ${JSON.stringify(e.value)} is outside ${d.min}..${d.max}${d.unit ? ` ${d.unit}` : ''}${d.scale === 'bool' || d.scale === 'enum' ? ' (whole numbers)' : ''}` : `${where}.${id}: ${e.message}`,
      );
    }
  }
  if (problems.length) throw new ValidationError(problems.join('; '), problems);
  return { unknown: Object.keys(params).filter((id) => !table.has(id)) };
}

// C0 and C1 controls, soft hyphen, zero-width characters, line and paragraph separators and the bidi
// controls (U+202A-E, U+2066-9): they hide or reorder text, so 'Podcast\u202e' can pass for 'Podcast'.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/u;
// eslint-disable-next-line no-control-regex -- as above, with tab and line breaks allowed
const HIDDEN_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/u;

/**
 * A name, tag or note as the box keeps it: NFC (so 'é' typed two ways is one
 * name), trimmed, without characters that hide or reorder text. Throws a
 * ValidationError naming the field, the character and where it is.
 */
export function cleanText(value: string, where: string, opts: { multiline?: boolean } = {}): string {
  const text = value.normalize('NFC');
  const m = (opts.multiline ? HIDDEN_MULTILINE : HIDDEN).exec(text);
  if (m) {
    const code = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new ValidationError(`${where}: contains the invisible or control character U+${code} at position ${m.index + 1}; names are plain text`);
  }
  return opts.multiline ? text : text.trim();
}

/** A preset's name, tags and notes made clean (see cleanText), or an error naming the field. */
export function cleanPresetText<T extends { name?: string; tags?: string[]; notes?: string }>(p: T, where: string): T {
  const out = { ...p };
  if (p.name !== undefined) {
    out.name = cleanText(p.name, `${where}name`);
    if (!out.name) throw new ValidationError(`${where}name: must not be empty`);
  }
  if (p.tags !== undefined) out.tags = p.tags.map((t, i) => cleanText(t, `${where}tags[${i}]`));
  if (p.notes !== undefined) out.notes = cleanText(p.notes, `${where}notes`, { multiline: true });
  return out;
}

/** Turn a name into a file-name-safe id: "Studio voice" -> "studio-voice". */
export function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 56)
    .replace(/-+$/, '');
  return s || 'preset';
}

function describeErrors(schema: TSchema, value: unknown, where: string): string[] {
  return [...Value.Errors(schema, value)].slice(0, 8).map((e) => `${where}${e.path || ''}: ${e.message}${e.value !== undefined && typeof e.value !== 'object' ? ` (got ${JSON.stringify(e.value)})` : ''}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Bring a preset of any known schema version to v1. `id` and times fill in what
 * older versions did not carry. Throws a ValidationError naming what is wrong.
 */
export function migratePreset(raw: unknown, where: string, fill: { id?: string; now: string }): Preset {
  if (!isObject(raw)) throw new ValidationError(`${where}: expected a JSON object`);
  const version = raw.schema;
  if (version === undefined) {
    if (!Value.Check(PresetV0Schema, raw)) throw new ValidationError(`${where}: not a valid preset (v0): ${describeErrors(PresetV0Schema, raw, '').join('; ')}`);
    const { name, tags, notes, ...params } = raw as PresetV0;
    const v1: Preset = {
      schema: 1,
      id: fill.id ?? slugify(name),
      name: name.trim(),
      tags: tags ?? [],
      notes: notes ?? '',
      created: fill.now,
      modified: fill.now,
      params: params as Record<string, number>,
    };
    return checkV1(v1, where);
  }
  if (version === 1) {
    const candidate = { ...raw, id: fill.id ?? raw.id ?? (typeof raw.name === 'string' ? slugify(raw.name) : undefined) };
    return checkV1(candidate, where);
  }
  throw new ValidationError(`${where}: unknown preset schema version ${JSON.stringify(version)} (this supervisor reads 0 and 1)`);
}

function checkV1(candidate: unknown, where: string): Preset {
  if (!Value.Check(PresetV1Schema, candidate)) {
    throw new ValidationError(`${where}: not a valid preset: ${describeErrors(PresetV1Schema, candidate, '').join('; ')}`);
  }
  return candidate;
}
