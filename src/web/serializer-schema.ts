// Response schemas as fast-json-stringify serializes them fastest: without
// anyOf where a plainer schema says the same.
//
// fast-json-stringify writes a branch test for each anyOf, and those tests are
// Ajv validators, compiled when the route first answers: the first
// `GET /api/status` after power-on (its telemetry is "a frame or null") loaded
// all of Ajv and compiled a schema, 9-16 s on the emulated box while the page
// waited. The unions the API's answers use are mostly "X or null" and "one of
// these strings": fast-json-stringify writes both without Ajv when they are
// said as `nullable: true` and as a type with an `enum`. This rewrites those,
// at any depth, and leaves every other anyOf (unions of objects) as it was.
//
// Only the serializer sees the rewritten schema: requests are still validated
// against the route's own schema, and the OpenAPI document shows it.

type Schema = Record<string, unknown>;

const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean']);
/** Keywords that say nothing about how a primitive is written out (they constrain, or describe). */
const NOTES = new Set(['description', 'title', 'default', 'examples', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', '$id']);

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNull = (s: Schema) => s.type === 'null' && Object.keys(s).every((k) => k === 'type' || NOTES.has(k));

/** A primitive branch: its type, and its one value when it is a constant (or its values when an enum). */
function primitive(s: Schema): { type: string; values?: unknown[] } | undefined {
  if (typeof s.type !== 'string' || !PRIMITIVES.has(s.type)) return undefined;
  if (!Object.keys(s).every((k) => k === 'type' || k === 'const' || k === 'enum' || NOTES.has(k))) return undefined;
  if ('const' in s) return { type: s.type, values: [s.const] };
  if (Array.isArray(s.enum)) return { type: s.type, values: s.enum };
  return { type: s.type };
}

/** Outer keywords kept beside a union that is rewritten (its description, mostly). */
function outer(s: Schema): Schema {
  const { anyOf: _anyOf, ...rest } = s;
  return rest;
}

function union(s: Schema, branches: Schema[]): Schema {
  const nullable = branches.some(isNull);
  const others = branches.filter((b) => !isNull(b));
  if (others.length === 0) return s;
  const prims = others.map(primitive);
  if (prims.every((p) => p !== undefined)) {
    const types = [...new Set(prims.map((p) => p.type))];
    const out: Schema = { ...outer(s) };
    if (types.length === 1) {
      out.type = types[0];
      // One type of constants ('A' | 'B'): an enum, which the serializer ignores and the reader is told.
      if (prims.every((p) => p.values)) out.enum = prims.flatMap((p) => p.values);
      if (nullable) out.nullable = true;
    } else {
      out.type = nullable ? [...types, 'null'] : types;
    }
    return out;
  }
  if (nullable && others.length === 1 && typeof others[0].type === 'string') {
    return { ...others[0], ...outer(s), nullable: true };
  }
  const merged = mergeObjects(others);
  if (merged) return { ...merged, ...outer(s), ...(nullable ? { nullable: true } : {}) };
  return { ...s, anyOf: branches };
}

const OBJECT_KEYS = new Set(['type', 'properties', 'required', 'additionalProperties', ...NOTES]);

/**
 * Objects told apart by their properties ({ available: true, slots } or { available: false, reason }): one object with
 * every branch's properties, required where every branch requires them. A value of any branch is written out as it
 * was, since each property it has is written by its own branch's schema (a property that differs between branches
 * gets the union of its schemas, said plainly in turn where it can be).
 */
function mergeObjects(branches: Schema[]): Schema | undefined {
  if (!branches.every((b) => b.type === 'object' && isSchema(b.properties) && Object.keys(b).every((k) => OBJECT_KEYS.has(k)))) return undefined;
  const extra = new Set(branches.map((b) => JSON.stringify(b.additionalProperties ?? null)));
  if (extra.size !== 1) return undefined;
  const byName = new Map<string, Schema[]>();
  for (const b of branches) {
    for (const [name, p] of Object.entries(b.properties as Schema)) {
      if (!isSchema(p)) return undefined;
      const list = byName.get(name) ?? [];
      if (!list.some((q) => JSON.stringify(q) === JSON.stringify(p))) list.push(p);
      byName.set(name, list);
    }
  }
  const properties = Object.fromEntries([...byName].map(([name, list]) => [name, list.length === 1 ? list[0] : plainForSerializer({ anyOf: list })]));
  const required = Object.keys(properties).filter((name) => branches.every((b) => Array.isArray(b.required) && b.required.includes(name)));
  const out: Schema = { type: 'object', properties };
  if (required.length > 0) out.required = required;
  if (branches[0].additionalProperties !== undefined) out.additionalProperties = branches[0].additionalProperties;
  return out;
}

/** The schema with its simple unions said plainly, at any depth (a new object: the route's own is not changed). */
export function plainForSerializer(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(plainForSerializer);
  if (!isSchema(schema)) return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' || k === 'patternProperties' || k === 'definitions' || k === '$defs') {
      out[k] = isSchema(v) ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, plainForSerializer(s)])) : v;
    } else if (k === 'items' || k === 'additionalProperties' || k === 'prefixItems' || k === 'allOf' || k === 'oneOf' || k === 'not' || k === 'anyOf') {
      out[k] = plainForSerializer(v);
    } else {
      out[k] = v;
    }
  }
  return Array.isArray(out.anyOf) && out.anyOf.every(isSchema) ? union(out, out.anyOf) : out;
}
