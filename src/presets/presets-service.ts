import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { noSpaceError, requireRoom } from '../config/data-space.js';
import { ConflictError, EngineError, HushboxError, LimitError, NotFoundError, UnsupportedError, ValidationError } from '../errors.js';
import type { EngineService } from '../engine/engine-service.js';
import type { ParamDef } from '../engine/params.js';
import { engineProfiles, profileOf } from '../engine/profiles.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import { writeFileAtomic } from './atomic-file.js';
import { AuditLog } from './audit-log.js';
import { FACTORY_PRESETS } from './factory.js';
import {
  BUNDLE_FORMAT,
  checkPresetParams,
  cleanPresetText,
  MAX_USER_PRESETS,
  migratePreset,
  paramsSchemaFor,
  PresetV1Schema,
  slugify,
  type Bundle,
  type CollisionPolicy,
  type Preset,
  type PresetInput,
  type PresetPatch,
} from './schema.js';
import { AbSlotSchema, type AbSlot, type BoxState } from './state.js';
import { PresetStore } from './store.js';

export const BYPASS_PARAM = 'master.bypass';
const PARAM_ID = Type.String({ pattern: '^[a-z][a-z0-9]*(\\.[a-z0-9]+)+$' });

export const PresetEntrySchema = Type.Composite([PresetV1Schema, Type.Object({ factory: Type.Boolean({ description: 'shipped with the box; read-only' }) })]);
export type PresetEntry = Static<typeof PresetEntrySchema>;

export const ApplyResultSchema = Type.Object({
  preset: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
  applied: Type.Record(Type.String(), Type.Number(), { description: 'what the engine applied, in one batch' }),
  locked: Type.Array(Type.String(), { description: 'left alone because they are locked' }),
  unknown: Type.Array(Type.String(), { description: 'named by the preset, but the running engine has no such parameter' }),
  warnings: Type.Array(Type.String()),
});
export type ApplyResult = Static<typeof ApplyResultSchema>;

export const LocksSchema = Type.Object({ locked: Type.Array(PARAM_ID, { maxItems: 256 }) }, { additionalProperties: false });
export type Locks = Static<typeof LocksSchema>;

const AbSlotStateSchema = Type.Union([
  Type.Object({ storedAt: Type.String(), preset: Type.Union([Type.String(), Type.Null()]), params: Type.Record(Type.String(), Type.Number()) }),
  Type.Null(),
]);
export const AbStateSchema = Type.Object({
  active: Type.Union([AbSlotSchema, Type.Null()]),
  A: AbSlotStateSchema,
  B: AbSlotStateSchema,
});
export type AbState = Static<typeof AbStateSchema>;
export const AbDiffSchema = Type.Array(
  Type.Object({ id: Type.String(), A: Type.Union([Type.Number(), Type.Null()]), B: Type.Union([Type.Number(), Type.Null()]) }),
);
export type AbDiff = Static<typeof AbDiffSchema>;

export const ImportItemSchema = Type.Object({
  index: Type.Integer(),
  name: Type.Union([Type.String(), Type.Null()]),
  action: Type.Union([Type.Literal('create'), Type.Literal('overwrite'), Type.Literal('copy'), Type.Literal('skip'), Type.Literal('error')]),
  id: Type.Union([Type.String(), Type.Null()], { description: 'the id the preset is (or would be) stored under' }),
  as: Type.Union([Type.String(), Type.Null()], { description: 'the name it is stored under, when it differs' }),
  migratedFrom: Type.Union([Type.Integer(), Type.Null()], { description: 'schema version it was migrated from' }),
  warnings: Type.Array(Type.String()),
  error: Type.Union([Type.String(), Type.Null()]),
});
export const ImportReportSchema = Type.Object({
  dryRun: Type.Boolean(),
  collision: Type.String(),
  ok: Type.Boolean({ description: 'false when some item is invalid; then nothing was imported' }),
  counts: Type.Record(Type.String(), Type.Integer()),
  items: Type.Array(ImportItemSchema),
});
export type ImportReport = Static<typeof ImportReportSchema>;
type ImportItem = Static<typeof ImportItemSchema>;

const LAST_STATE_DEBOUNCE_MS = 1000;
/** How long an import's checks run before giving the event loop back. */
const IMPORT_SLICE_MS = 10;
const LastStateSchema = Type.Object({
  preset_id: Type.Union([Type.String(), Type.Null()]),
  preset_modified: Type.Boolean(),
  params: Type.Record(Type.String(), Type.Number()),
});
type LastState = Static<typeof LastStateSchema>;

/** A patch of the state, as MQTT `<base>/set` carries it. */
export interface StatePatch {
  preset?: string;
  bypass?: boolean;
  params?: Record<string, number | boolean>;
}

export interface PresetsDeps {
  ctx: ServiceContext;
  engine: EngineService;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Presets, their recall into the engine, A/B compare, locks, import/export, the audit log. */
export class PresetsService implements Service {
  readonly name = 'presets';
  private readonly log: Logger;
  private readonly store: PresetStore;
  private readonly audit: AuditLog;
  private readonly locksFile: string;
  private readonly abFile: string;
  private user = new Map<string, Preset>();
  private readonly factory = new Map(FACTORY_PRESETS.map((p) => [p.id, p]));
  private lockedIds: string[] = [];
  private ab: AbState = { active: null, A: null, B: null };
  private current: { id: string; name: string } | null = null;
  private modified = false;
  private offs: Array<() => void> = [];
  private started = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly lastStateFile: string;

  constructor(private readonly deps: PresetsDeps) {
    this.log = deps.ctx.log.child({ service: this.name });
    this.store = new PresetStore(join(deps.ctx.dataDir, 'presets'));
    this.audit = new AuditLog(join(deps.ctx.dataDir, 'audit.log'), this.log);
    this.locksFile = join(deps.ctx.dataDir, 'preset-locks.json');
    this.abFile = join(deps.ctx.dataDir, 'ab.json');
    this.lastStateFile = join(deps.ctx.dataDir, 'last-state.json');
  }

  async start(): Promise<void> {
    if (this.started) return;
    const loaded = this.store.load();
    for (const b of loaded.broken) {
      this.log.error({ file: b.file, movedTo: b.movedTo, reason: b.reason }, `broken preset file set aside: ${b.file} -> ${b.movedTo}: ${b.reason}`);
      this.audit.append({ action: 'preset.broken', source: 'startup', details: b });
    }
    for (const f of loaded.migrated) this.log.info({ file: f }, 'preset file migrated to schema 1');
    this.user = new Map(loaded.presets.map((p) => [p.id, p]));
    this.lockedIds = this.readJson(this.locksFile, (v) => (Value.Check(LocksSchema, v) ? v.locked : undefined)) ?? [];
    this.ab = this.readJson(this.abFile, (v) => (Value.Check(AbStateSchema, v) ? v : undefined)) ?? this.ab;
    const bus = this.deps.ctx.bus;
    this.offs = [
      bus.on('paramsChanged', this.name, ({ source }) => {
        if (!source.startsWith('preset') && !source.startsWith('ab')) {
          if (this.current) this.modified = true;
          this.emitState();
        }
      }),
      bus.on('engineStatus', this.name, () => this.emitState()),
    ];
    this.offs.push(bus.on('stateChanged', this.name, () => this.scheduleSave()));
    this.started = true;
    this.log.info({ user: this.user.size, factory: this.factory.size, broken: loaded.broken.length, locked: this.lockedIds }, 'presets loaded');
    await this.restoreLastState();
  }

  async stop(): Promise<void> {
    this.offs.forEach((off) => off());
    this.offs = [];
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      this.saveLastState();
    }
    this.started = false;
  }

  private readJson<T>(file: string, check: (v: unknown) => T | undefined): T | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const v = check(JSON.parse(text));
      if (v === undefined) throw new Error('unexpected shape');
      return v;
    } catch (err) {
      this.log.error({ file, err: (err as Error).message }, `ignoring unreadable settings file ${file}`);
      return undefined;
    }
  }

  // --- the state at power-off comes back at power-on ---

  private scheduleSave(): void {
    // Debounced: a slider drag is one write, not hundreds (flash wear).
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveLastState();
    }, LAST_STATE_DEBOUNCE_MS);
  }

  private saveLastState(): void {
    const params = this.currentValues();
    if (Object.keys(params).length === 0) return;
    const last: LastState = { preset_id: this.current?.id ?? null, preset_modified: this.modified, params };
    try {
      writeFileAtomic(this.lastStateFile, `${JSON.stringify(last)}\n`);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'cannot save the current state');
    }
  }

  /** Re-apply what ran before the supervisor stopped (or the power went). */
  private async restoreLastState(): Promise<void> {
    const last = this.readJson(this.lastStateFile, (v) => (Value.Check(LastStateSchema, v) ? v : undefined));
    if (!last) return;
    if (this.deps.engine.status().state !== 'running') {
      this.log.warn('engine not running; the last state is not restored');
      return;
    }
    const table = this.table();
    const values = Object.fromEntries(Object.entries(last.params).filter(([id, v]) => table.has(id) && v >= table.get(id)!.min && v <= table.get(id)!.max));
    try {
      if (Object.keys(values).length) await this.deps.engine.setParams(values, 'preset:restore');
      const preset = last.preset_id ? (this.user.get(last.preset_id) ?? this.factory.get(last.preset_id)) : undefined;
      this.current = preset ? { id: preset.id, name: preset.name } : null;
      this.modified = preset ? last.preset_modified : false;
      this.log.info({ preset: this.current?.name ?? null, params: Object.keys(values).length }, 'last state restored');
      this.emitState();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'cannot restore the last state');
    }
  }

  // --- the table the running engine has ---

  private table(): Map<string, ParamDef> {
    return new Map(this.deps.engine.params().map((p, index) => [p.id, { ...p, index }]));
  }

  /** JSON schema of a preset's params for the running engine (ids and ranges from its table). */
  paramsSchema(): unknown {
    return paramsSchemaFor(this.table().values());
  }

  private currentValues(): Record<string, number> {
    return Object.fromEntries(this.deps.engine.params().map((p) => [p.id, p.value]));
  }

  // --- queries ---

  list(): PresetEntry[] {
    const byName = (a: Preset, b: Preset) => a.name.localeCompare(b.name);
    return [
      ...[...this.factory.values()].map((p) => ({ ...p, factory: true })),
      ...[...this.user.values()].sort(byName).map((p) => ({ ...p, factory: false })),
    ];
  }

  names(): string[] {
    return this.list().map((p) => p.name);
  }

  get(id: string): PresetEntry {
    const p = this.user.get(id) ?? this.factory.get(id);
    if (!p) throw new NotFoundError(`no preset with id '${id}'`);
    return { ...p, factory: this.factory.has(id) };
  }

  /** By id, then by name (case-insensitive). */
  find(idOrName: string): PresetEntry {
    const byId = this.user.get(idOrName) ?? this.factory.get(idOrName);
    if (byId) return { ...byId, factory: this.factory.has(byId.id) };
    const key = idOrName.trim().toLowerCase();
    const byName = this.list().find((p) => p.name.toLowerCase() === key);
    // Not the list of names: there may be hundreds (GET /api/presets has them).
    if (!byName) throw new NotFoundError(`no preset with id or name '${idOrName}'`);
    return byName;
  }

  private nameTaken(name: string, exceptId?: string): PresetEntry | undefined {
    const key = name.trim().toLowerCase();
    return this.list().find((p) => p.name.toLowerCase() === key && p.id !== exceptId);
  }

  private uniqueId(base: string, taken: (id: string) => boolean): string {
    if (!taken(base)) return base;
    for (let n = 2; ; n++) {
      const id = `${base}-${n}`;
      if (!taken(id)) return id;
    }
  }

  private idTaken = (id: string): boolean => this.user.has(id) || this.factory.has(id);

  // --- changes ---

  /** Create a user preset; without params it captures the current state. */
  create(raw: PresetInput, source: string): { preset: PresetEntry; warnings: string[] } {
    const input = cleanPresetText(raw, '');
    this.checkRoom(1);
    requireRoom(this.deps.ctx.dataDir, 'cannot save a new preset');
    const name = input.name;
    const clash = this.nameTaken(name);
    if (clash) throw new ConflictError(`a preset named '${clash.name}' already exists (id ${clash.id})`);
    const params = input.params ?? this.currentValues();
    const { unknown } = checkPresetParams(this.table(), params);
    const now = new Date().toISOString();
    const preset: Preset = {
      schema: 1,
      id: this.uniqueId(slugify(name), this.idTaken),
      name,
      tags: input.tags ?? [],
      notes: input.notes ?? '',
      created: now,
      modified: now,
      params,
    };
    this.store.save(preset);
    this.user.set(preset.id, preset);
    this.audit.append({ action: 'preset.create', source, id: preset.id, name: preset.name, details: { params: Object.keys(params).length } });
    this.changed([preset.id], source);
    return { preset: { ...preset, factory: false }, warnings: unknownWarnings(unknown) };
  }

  update(id: string, rawPatch: PresetPatch, source: string): { preset: PresetEntry; warnings: string[] } {
    const patch = cleanPresetText(rawPatch, '');
    requireRoom(this.deps.ctx.dataDir, 'cannot save the preset');
    if (this.factory.has(id)) throw new ConflictError(`'${this.factory.get(id)!.name}' is a factory preset and read-only; save a copy under another name`);
    const old = this.user.get(id);
    if (!old) throw new NotFoundError(`no preset with id '${id}'`);
    const name = patch.name ?? old.name;
    const clash = this.nameTaken(name, id);
    if (clash) throw new ConflictError(`a preset named '${clash.name}' already exists (id ${clash.id})`);
    const params = patch.params ?? old.params;
    const { unknown } = checkPresetParams(this.table(), params);
    const preset: Preset = { ...old, name, tags: patch.tags ?? old.tags, notes: patch.notes ?? old.notes, params, modified: new Date().toISOString() };
    this.store.save(preset);
    this.user.set(id, preset);
    this.audit.append({ action: 'preset.update', source, id, name, details: { fields: Object.keys(patch) } });
    if (this.current?.id === id) this.current = { id, name };
    this.changed([id], source);
    return { preset: { ...preset, factory: false }, warnings: unknownWarnings(unknown) };
  }

  remove(id: string, source: string): void {
    if (this.factory.has(id)) throw new ConflictError(`'${this.factory.get(id)!.name}' is a factory preset and cannot be deleted`);
    const old = this.user.get(id);
    if (!old) throw new NotFoundError(`no preset with id '${id}'`);
    this.store.remove(id);
    this.user.delete(id);
    this.audit.append({ action: 'preset.delete', source, id, name: old.name });
    if (this.current?.id === id) this.current = null;
    this.changed([id], source);
  }

  /** Refuse a change that would take the user presets past MAX_USER_PRESETS. */
  private checkRoom(adding: number): void {
    if (adding > 0 && this.user.size + adding > MAX_USER_PRESETS) {
      throw new LimitError(
        'too_many_presets',
        `this box keeps at most ${MAX_USER_PRESETS} presets of your own; it has ${this.user.size}${adding > 1 ? ` and this adds ${adding}` : ''}: delete some first`,
      );
    }
  }

  private changed(ids: string[], source: string): void {
    this.deps.ctx.bus.emit('presetsChanged', { ids, source });
    this.emitState();
  }

  // --- recall ---

  /**
   * Split values into what the engine applies and what it leaves alone:
   * locked ids are skipped, ids the engine lacks are reported, out-of-range
   * values throw before anything changes.
   */
  private plan(values: Record<string, number>, where: string): { apply: Record<string, number>; locked: string[]; unknown: string[] } {
    const table = this.table();
    const locked = Object.keys(values).filter((id) => this.lockedIds.includes(id));
    const rest = Object.fromEntries(Object.entries(values).filter(([id]) => !this.lockedIds.includes(id)));
    const { unknown } = checkPresetParams(table, rest, where);
    const apply = Object.fromEntries(Object.entries(rest).filter(([id]) => table.has(id)));
    return { apply, locked, unknown };
  }

  /** Recall a preset (by id or name) as one batch: the engine ramps, no click. */
  async apply(idOrName: string, source: string): Promise<ApplyResult> {
    return this.applyPatch({ preset: idOrName }, source);
  }

  /**
   * Apply a state patch as ONE batch: a preset's values, overlaid with explicit
   * params and the bypass. Everything is checked first; a bad part changes nothing.
   */
  async applyPatch(patch: StatePatch, source: string): Promise<ApplyResult> {
    const preset = patch.preset !== undefined ? this.find(patch.preset) : null;
    const table = this.table();
    const fromPreset = preset ? this.plan(preset.params, `preset '${preset.name}' params`) : { apply: {}, locked: [], unknown: [] };
    const explicit: Record<string, number> = {};
    if (patch.params) {
      const problems: string[] = [];
      const invalid: string[] = [];
      for (const [id, v] of Object.entries(patch.params)) {
        const def = table.get(id);
        if (!def) problems.push(`params.${id}: unknown parameter`);
        else if (typeof v === 'boolean' && def.scale !== 'bool') invalid.push(`params.${id}: expected a number${def.unit ? ` in ${def.unit}` : ''}, got ${v} (true/false is for on/off parameters)`);
        else if (typeof v === 'boolean') explicit[id] = v ? 1 : 0;
        else explicit[id] = v;
      }
      if (problems.length) throw new NotFoundError(problems.join('; '));
      if (invalid.length) throw new ValidationError(invalid.join('; '), invalid);
      checkPresetParams(table, explicit);
    }
    if (patch.bypass !== undefined) {
      if (!table.has(BYPASS_PARAM)) throw new UnsupportedError(`bypass needs the ${BYPASS_PARAM} parameter, which the running engine does not have`);
      explicit[BYPASS_PARAM] = patch.bypass ? 1 : 0;
    }
    const batch = { ...fromPreset.apply, ...explicit };
    if (Object.keys(batch).length === 0) {
      if (!preset) throw new ValidationError('nothing to change: give preset, params or bypass');
      const state = this.deps.engine.status().state;
      if (state !== 'running') throw new EngineError('engine_not_running', `the engine is ${state}; the preset cannot be applied now`);
    }
    const applied = Object.keys(batch).length ? await this.deps.engine.setParams(batch, preset ? `preset:${source}` : source) : {};
    const warnings = unknownWarnings(fromPreset.unknown);
    if (fromPreset.locked.length) warnings.push(`locked, left unchanged: ${fromPreset.locked.join(', ')}`);
    if (preset) {
      this.current = { id: preset.id, name: preset.name };
      this.modified = Object.keys(explicit).length > 0;
      this.audit.append({ action: 'preset.apply', source, id: preset.id, name: preset.name, details: { applied: Object.keys(applied).length, unknown: fromPreset.unknown.length } });
      if (fromPreset.unknown.length) this.log.warn({ preset: preset.id, unknown: fromPreset.unknown }, `preset '${preset.name}' names parameters this engine lacks; applied the rest`);
      this.emitState();
    }
    return { preset: preset ? { id: preset.id, name: preset.name } : null, applied, locked: fromPreset.locked, unknown: fromPreset.unknown, warnings };
  }

  // --- locks ---

  locks(): Locks {
    return { locked: [...this.lockedIds] };
  }

  setLocks(locks: Locks, source: string): { locked: string[]; warnings: string[] } {
    if (!Value.Check(LocksSchema, locks)) throw new ValidationError(`locked: expected a list of parameter ids`);
    const ids = [...new Set(locks.locked)].sort();
    const table = this.table();
    writeFileAtomic(this.locksFile, `${JSON.stringify({ locked: ids }, null, 2)}\n`);
    this.lockedIds = ids;
    this.audit.append({ action: 'locks.set', source, details: { locked: ids } });
    this.emitState();
    const unknown = ids.filter((id) => !table.has(id));
    return { locked: ids, warnings: unknown.length ? [`the running engine has no ${unknown.join(', ')}; locked anyway`] : [] };
  }

  // --- A/B compare ---

  abState(): AbState {
    return structuredClone(this.ab);
  }

  private saveAb(): void {
    writeFileAtomic(this.abFile, `${JSON.stringify(this.ab)}\n`);
  }

  abStore(slot: AbSlot, source: string): AbState {
    const values = this.currentValues();
    if (Object.keys(values).length === 0) throw new UnsupportedError('the engine has not reported its parameters yet; nothing to store');
    this.ab[slot] = { storedAt: new Date().toISOString(), preset: this.current?.name ?? null, params: values };
    this.ab.active = slot;
    this.saveAb();
    this.audit.append({ action: 'ab.store', source, details: { slot } });
    this.emitState();
    return this.abState();
  }

  async abRecall(slot: AbSlot, source: string): Promise<ApplyResult> {
    const stored = this.ab[slot];
    if (!stored) throw new ConflictError(`A/B slot ${slot} is empty; store the current state in it first`);
    const { apply, locked, unknown } = this.plan(stored.params, `slot ${slot}`);
    const applied = Object.keys(apply).length ? await this.deps.engine.setParams(apply, `ab:${source}`) : {};
    this.ab.active = slot;
    this.saveAb();
    this.modified = this.current !== null;
    this.audit.append({ action: 'ab.recall', source, details: { slot } });
    this.emitState();
    const warnings = unknownWarnings(unknown);
    if (locked.length) warnings.push(`locked, left unchanged: ${locked.join(', ')}`);
    return { preset: null, applied, locked, unknown, warnings };
  }

  /** Switch to the other slot. */
  async abToggle(source: string): Promise<ApplyResult & { active: AbSlot }> {
    const next: AbSlot = this.ab.active === 'A' ? 'B' : 'A';
    const result = await this.abRecall(next, source);
    return { ...result, active: next };
  }

  /** Parameters whose values differ between A and B. */
  abDiff(): AbDiff {
    const a = this.ab.A?.params ?? {};
    const b = this.ab.B?.params ?? {};
    const ids = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return ids.filter((id) => a[id] !== b[id]).map((id) => ({ id, A: a[id] ?? null, B: b[id] ?? null }));
  }

  // --- import / export ---

  exportBundle(ids?: string[]): Bundle {
    const chosen = ids?.length ? ids.map((id) => this.get(id)) : [...this.user.values()].map((p) => ({ ...p, factory: false }));
    return {
      format: BUNDLE_FORMAT,
      exported: new Date().toISOString(),
      version: this.deps.ctx.version,
      presets: chosen.map(({ factory: _f, ...p }) => p),
    };
  }

  /**
   * Import a bundle (or a bare array) of presets of any known schema version.
   * With dryRun, report what would happen. If any item is invalid nothing is
   * imported and the report says which and why.
   */
  async importBundle(body: unknown, opts: { dryRun: boolean; collision: CollisionPolicy }, source: string): Promise<ImportReport> {
    let raws: unknown[];
    if (Array.isArray(body)) raws = body;
    else if (isObject(body) && Array.isArray(body.presets)) {
      if (body.format !== undefined && body.format !== BUNDLE_FORMAT) throw new ValidationError(`format: expected '${BUNDLE_FORMAT}', got ${JSON.stringify(body.format)}`);
      raws = body.presets;
    } else throw new ValidationError(`expected a bundle {"format": "${BUNDLE_FORMAT}", "presets": [...]} or an array of presets`);
    if (raws.length > 1000) throw new ValidationError(`presets: at most 1000 per import, got ${raws.length}`);

    const now = new Date().toISOString();
    const table = this.table();
    // First each item on its own (migrate, clean, check): the costly part, in slices that give the
    // event loop back (a 1000-preset bundle takes longer than HTTP, the WebSocket and MQTT may wait).
    const checked: Array<Preset | Error> = [];
    const items: ImportItem[] = [];
    let bytes = 0;
    let slice = performance.now();
    for (const [index, raw] of raws.entries()) {
      if (performance.now() - slice > IMPORT_SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        slice = performance.now();
      }
      const item: ImportItem = { index, name: isObject(raw) && typeof raw.name === 'string' ? raw.name : null, action: 'error', id: null, as: null, migratedFrom: null, warnings: [], error: null };
      items.push(item);
      try {
        const version = isObject(raw) ? raw.schema : undefined;
        const p = migratePreset(raw, `presets[${index}]`, { now });
        Object.assign(p, cleanPresetText({ name: p.name, tags: p.tags, notes: p.notes }, `presets[${index}].`));
        if (version === undefined) item.migratedFrom = 0;
        item.warnings = unknownWarnings(checkPresetParams(table, p.params, `presets[${index}].params`).unknown);
        // its file's size, give or take the id and name it may get below
        bytes += JSON.stringify(p, null, 2).length + 160;
        checked.push(p);
      } catch (err) {
        item.error = (err as Error).message;
        checked.push(err as Error);
      }
    }
    // Then where each goes, against the presets as they are now, with no await until the write starts.
    const ids = new Set([...this.user.keys(), ...this.factory.keys()]);
    const names = new Map(this.list().map((p) => [p.name.toLowerCase(), p]));
    const writes: Preset[] = [];
    for (const item of items) {
      const p = checked[item.index];
      if (p instanceof Error) continue;
      const existing = (this.user.has(p.id) ? { ...this.user.get(p.id)!, factory: false } : undefined) ?? names.get(p.name.toLowerCase()) ?? (this.factory.has(p.id) ? { ...this.factory.get(p.id)!, factory: true } : undefined);
      let policy = existing ? opts.collision : null;
      if (policy === 'overwrite' && existing?.factory) {
        policy = 'copy';
        item.warnings.push(`'${existing.name}' is a factory preset and read-only; imported as a copy`);
      }
      if (!existing) {
        const id = this.uniqueId(p.id, (x) => ids.has(x));
        writes.push({ ...p, id });
        item.action = 'create';
        item.id = id;
      } else if (policy === 'skip') {
        item.action = 'skip';
        item.id = existing.id;
      } else if (policy === 'overwrite') {
        writes.push({ ...p, id: existing.id, created: existing.created, modified: now });
        item.action = 'overwrite';
        item.id = existing.id;
      } else {
        let n = 2;
        while (names.has(`${p.name} (${n})`.toLowerCase())) n++;
        const name = `${p.name} (${n})`;
        const id = this.uniqueId(slugify(name), (x) => ids.has(x));
        writes.push({ ...p, id, name, created: now, modified: now });
        item.action = 'copy';
        item.id = id;
        item.as = name;
      }
      const written = writes.at(-1);
      if (item.action !== 'skip' && written) {
        ids.add(written.id);
        names.set(written.name.toLowerCase(), { ...written, factory: false });
      }
    }
    const counts: Record<string, number> = {};
    for (const i of items) counts[i.action] = (counts[i.action] ?? 0) + 1;
    const ok = !items.some((i) => i.action === 'error');
    const report: ImportReport = { dryRun: opts.dryRun, collision: opts.collision, ok, counts, items };
    if (opts.dryRun) return report;
    if (!ok) {
      const errors = items.filter((i) => i.error).map((i) => i.error!);
      throw new ValidationError(`nothing imported: ${errors.join('; ')}`, report);
    }
    this.checkRoom(writes.filter((p) => !this.user.has(p.id)).length);
    const dataDir = this.deps.ctx.dataDir;
    requireRoom(dataDir, 'nothing imported', bytes);
    try {
      await this.store.saveAll(writes);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.audit.append({ action: 'preset.import.failed', source, details: { collision: opts.collision, presets: writes.length, error: e.code ?? e.message } });
      this.log.error({ err: e.message }, 'preset import failed; nothing imported');
      if (e.code === 'ENOSPC') throw noSpaceError(dataDir, `nothing imported (${writes.length} presets)`);
      throw new HushboxError('storage', `nothing imported: the presets could not be written (${e.code ?? e.message})`);
    }
    for (const p of writes) this.user.set(p.id, p);
    this.audit.append({ action: 'preset.import', source, details: { collision: opts.collision, counts, ids: writes.map((p) => p.id) } });
    if (writes.length) this.changed(writes.map((p) => p.id), source);
    return report;
  }

  // --- state ---

  state(): BoxState {
    const params = this.currentValues();
    const bypass = params[BYPASS_PARAM];
    return {
      preset: this.current?.name ?? null,
      preset_id: this.current?.id ?? null,
      preset_modified: this.modified,
      bypass: bypass === undefined ? null : bypass >= 0.5,
      params,
      profile: this.profileName(),
      engine_state: this.deps.engine.status().state,
      ab_active: this.ab.active,
      locked: [...this.lockedIds],
    };
  }

  /** The I/O profile the engine runs with, 'custom', or null when the engine cannot say. */
  private profileName(): string | null {
    const io = this.deps.engine.ioConfig?.();
    if (!io) return null;
    try {
      return profileOf(io, engineProfiles(io.binary));
    } catch {
      return null;
    }
  }

  private emitState(): void {
    this.deps.ctx.bus.emit('stateChanged', this.state());
  }
}

function unknownWarnings(unknown: string[]): string[] {
  return unknown.length ? [`the running engine has no ${unknown.join(', ')}; ${unknown.length === 1 ? 'it is' : 'they are'} kept in the preset but not applied`] : [];
}
