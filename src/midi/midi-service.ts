import { randomBytes } from 'node:crypto';
import { HushboxError, NotFoundError, ValidationError } from '../errors.js';
import type { EngineService, MidiLinkEntry } from '../engine/engine-service.js';
import type { EventMap } from '../events.js';
import type { Logger } from '../log.js';
import type { PresetsService } from '../presets/presets-service.js';
import type { RecordingsService } from '../recording/recordings-service.js';
import type { Service, ServiceContext } from '../service.js';
import {
  MAX_MAPPINGS,
  type MidiActivity,
  type MidiLearnRequest,
  type MidiMapping,
  type MidiMappingInput,
  type MidiSettings,
  type MidiStatus,
} from './schema.js';
import { MidiStore, settingsProblems } from './store.js';

const ACTIVITY_KEPT = 50;
const DEFAULT_LEARN_MS = 30_000;

/** Learn ran out of time with no MIDI that fits. */
export class LearnTimeoutError extends HushboxError {
  override readonly statusCode = 408;
  constructor(message: string) {
    super('midi_learn_timeout', message);
  }
}

export interface MidiDeps {
  ctx: ServiceContext;
  engine: EngineService;
  /** Program Change recalls and the A/B toggle go through the presets service, as any recall does. */
  presets?: PresetsService;
  /** A record switch starts a take, or stops the one recording. */
  recordings?: Pick<RecordingsService, 'startTake' | 'stopTake'>;
}

const SOURCES = { cc: 1, note: 2, program: 3 } as const;
const MODES = { absolute: 0, relative_twos: 1, relative_offset: 2, relative_signed: 3 } as const;
const ACTIONS = { param: 1, toggle: 2, preset: 3, ab_toggle: 4, record: 5 } as const;

/**
 * MIDI control: the mappings (settings on the data partition, applied by the
 * engine's audio thread), learn, recent activity, and what a Program Change
 * or a switch asks of the supervisor (a preset recall, the A/B toggle).
 */
export class MidiService implements Service {
  readonly name = 'midi';
  private readonly log: Logger;
  private readonly store: MidiStore;
  private settings: MidiSettings = { version: 1, input: 'none', mappings: [], programs: [] };
  private readonly activity: MidiActivity[] = [];
  private learning:
    | { request: MidiLearnRequest; until: number; timer: NodeJS.Timeout; resolve: (m: MidiMapping) => void; reject: (e: Error) => void }
    | undefined;
  private offs: Array<() => void> = [];

  constructor(private readonly deps: MidiDeps) {
    this.log = deps.ctx.log.child({ service: this.name });
    this.store = new MidiStore(deps.ctx.dataDir, this.log);
  }

  async start(): Promise<void> {
    this.settings = this.store.load();
    const bus = this.deps.ctx.bus;
    this.offs = [
      bus.on('midiActivity', this.name, (a) => this.onActivity(a)),
      bus.on('midiProgram', this.name, (p) => this.onProgram(p)),
      bus.on('midiAction', this.name, (a) => this.onAction(a)),
    ];
    this.pushToEngine();
    await this.deps.engine.setMidiInput(this.settings.input);
    this.log.info({ input: this.settings.input, mappings: this.settings.mappings.length }, 'MIDI settings loaded');
  }

  async stop(): Promise<void> {
    this.offs.forEach((off) => off());
    this.offs = [];
    this.cancelLearn();
  }

  status(): MidiStatus {
    const l = this.learning;
    return {
      input: this.settings.input,
      mappings: this.settings.mappings.map((m) => ({ ...m })),
      programs: [...this.settings.programs],
      learning: l ? { action: l.request.action, ...(l.request.param ? { param: l.request.param } : {}), until: new Date(l.until).toISOString() } : null,
      activity: [...this.activity],
      counters: this.deps.engine.midiCounters(),
    };
  }

  /** The settings as saved (for export). */
  exportSettings(): MidiSettings {
    return structuredClone(this.settings);
  }

  /** Replace every MIDI setting (import): checked whole first, nothing changes on bad input. */
  async importSettings(body: unknown, source: string): Promise<MidiStatus> {
    const problems = settingsProblems(body);
    if (problems.length) throw new ValidationError(`invalid MIDI settings: ${problems.join('; ')}`, problems);
    const next = structuredClone(body as MidiSettings);
    for (const m of next.mappings) this.check(m);
    const ids = new Set(next.mappings.map((m) => m.id));
    if (ids.size !== next.mappings.length) throw new ValidationError('invalid MIDI settings: mapping ids repeat');
    await this.commit(next, source);
    return this.status();
  }

  /** Change the input or the program list. */
  async update(patch: Partial<Pick<MidiSettings, 'input' | 'programs'>>, source: string): Promise<MidiStatus> {
    await this.commit({ ...this.settings, ...patch }, source);
    return this.status();
  }

  create(input: MidiMappingInput, source: string): Promise<MidiMapping> {
    if (this.settings.mappings.length >= MAX_MAPPINGS) throw new ValidationError(`at most ${MAX_MAPPINGS} MIDI mappings`);
    const mapping: MidiMapping = { id: randomBytes(6).toString('hex'), ...input };
    this.check(mapping);
    return this.commit({ ...this.settings, mappings: [...this.settings.mappings, mapping] }, source).then(() => mapping);
  }

  async replace(id: string, input: MidiMappingInput, source: string): Promise<MidiMapping> {
    this.find(id);
    const mapping: MidiMapping = { id, ...input };
    this.check(mapping);
    await this.commit({ ...this.settings, mappings: this.settings.mappings.map((m) => (m.id === id ? mapping : m)) }, source);
    return mapping;
  }

  async remove(id: string, source: string): Promise<void> {
    this.find(id);
    await this.commit({ ...this.settings, mappings: this.settings.mappings.filter((m) => m.id !== id) }, source);
  }

  /**
   * Wait for the next MIDI message that fits the request (a CC for a parameter,
   * a Program Change for presets, a note or CC for a switch) and map it. A new
   * learn replaces one still waiting.
   */
  learn(request: MidiLearnRequest, source: string): Promise<MidiMapping> {
    this.check({ id: 'learn', source: request.action === 'preset' ? 'program' : 'cc', channel: 'omni', number: 0, ...request });
    this.cancelLearn();
    const ms = request.timeout_ms ?? DEFAULT_LEARN_MS;
    return new Promise<MidiMapping>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.learning = undefined;
        this.emitChanged(source);
        reject(new LearnTimeoutError(`no ${this.wanted(request)} came within ${ms / 1000} s; move the control and try again`));
      }, ms);
      this.learning = { request, until: Date.now() + ms, timer, resolve, reject };
      this.log.info({ request, source }, 'MIDI learn: waiting');
      this.emitChanged(source);
    });
  }

  /** Stop a learn that waits; it answers learn_cancelled. */
  cancelLearn(): boolean {
    const l = this.learning;
    if (!l) return false;
    this.learning = undefined;
    clearTimeout(l.timer);
    l.reject(new HushboxError('midi_learn_cancelled', 'MIDI learn was cancelled'));
    return true;
  }

  private wanted(r: MidiLearnRequest): string {
    return r.action === 'param' ? 'Control Change' : r.action === 'preset' ? 'Program Change' : 'note or Control Change (a switch)';
  }

  private find(id: string): MidiMapping {
    const m = this.settings.mappings.find((x) => x.id === id);
    if (!m) throw new NotFoundError(`no MIDI mapping '${id}'`);
    return m;
  }

  /** A mapping that cannot work is refused, naming the field. */
  private check(m: MidiMapping): void {
    const bad = (why: string): never => {
      throw new ValidationError(`MIDI mapping: ${why}`);
    };
    if (m.source !== 'program' && m.number === undefined) bad(`number: a ${m.source} mapping needs the CC or note number`);
    if (m.action === 'preset' && m.source !== 'program') bad('action: preset is for a Program Change (source program)');
    if (m.source === 'program' && m.action !== 'preset') bad('source: a Program Change recalls a preset (action preset)');
    if (m.action === 'param' && m.source !== 'cc') bad('action: param follows a Control Change (source cc); a note can toggle');
    if (m.mode && m.mode !== 'absolute' && m.action !== 'param') bad('mode: relative encoders set a parameter (action param)');
    if (m.resolution === 14) {
      if (m.source !== 'cc' || m.action !== 'param') bad('resolution: 14 bits is for a CC pair setting a parameter (source cc, action param)');
      if ((m.mode ?? 'absolute') !== 'absolute') bad('resolution: 14 bits is for an absolute knob, not a relative encoder');
      if (m.number !== undefined && m.number > 31) bad(`number: a 14-bit pair is named by its MSB, CC 0..31 (its LSB is CC number + 32); ${m.number} is not one`);
    }
    if (m.action === 'param' || m.action === 'toggle') {
      if (!m.param) bad(`param: action ${m.action} needs a parameter id`);
      const params = this.deps.engine.params();
      if (params.length) {
        const p = params.find((x) => x.id === m.param);
        if (!p) bad(`param: unknown parameter '${m.param}'`);
        if (m.action === 'toggle' && p!.scale !== 'bool') bad(`param: toggle needs an on/off parameter; '${m.param}' is not one`);
        for (const k of ['min', 'max'] as const) {
          const v = m[k];
          if (v !== undefined && (v < p!.min || v > p!.max)) bad(`${k}: ${v} is outside ${p!.id}'s range ${p!.min}..${p!.max}`);
        }
      }
      if (m.min !== undefined && m.max !== undefined && m.min >= m.max) bad('min must be below max');
    } else if (m.param !== undefined) {
      bad(`param: action ${m.action} takes no parameter`);
    }
  }

  private async commit(next: MidiSettings, source: string): Promise<void> {
    const inputChanged = next.input !== this.settings.input;
    this.store.save(next);
    this.settings = next;
    this.pushToEngine();
    this.log.info({ source, mappings: next.mappings.length, input: next.input }, 'MIDI settings changed');
    if (inputChanged) await this.deps.engine.setMidiInput(next.input);
    this.emitChanged(source);
  }

  private emitChanged(source: string): void {
    this.deps.ctx.bus.emit('midiChanged', { source });
  }

  private pushToEngine(): void {
    const entries: MidiLinkEntry[] = this.settings.mappings.map((m) => ({
      source: SOURCES[m.source],
      channel: m.channel === 'omni' ? 255 : m.channel - 1,
      number: m.number ?? 0,
      mode: MODES[m.mode ?? 'absolute'],
      action: ACTIONS[m.action],
      invert: m.invert ?? false,
      ...(m.resolution === 14 ? { resolution: 14 as const } : {}),
      ...(m.param !== undefined ? { param: m.param } : {}),
      ...(m.min !== undefined ? { min: m.min } : {}),
      ...(m.max !== undefined ? { max: m.max } : {}),
    }));
    this.deps.engine.setMidiMap(entries);
  }

  private onActivity(a: EventMap['midiActivity']): void {
    this.activity.unshift({ at: new Date().toISOString(), ...a });
    this.activity.length = Math.min(this.activity.length, ACTIVITY_KEPT);
    const l = this.learning;
    if (!l) return;
    const r = l.request;
    let m: MidiMappingInput | undefined;
    if (r.action === 'param' && a.kind === 'cc' && r.resolution === 14) {
      // A 14-bit knob sends its MSB (CC 0..31) and its LSB (CC + 32): either names the pair.
      if (a.number < 64) m = { source: 'cc', channel: a.channel, number: a.number % 32, action: 'param', param: r.param, mode: 'absolute', resolution: 14 };
    } else if (r.action === 'param' && a.kind === 'cc') m = { source: 'cc', channel: a.channel, number: a.number, action: 'param', param: r.param, mode: r.mode ?? 'absolute' };
    else if (r.action === 'preset' && a.kind === 'program') m = { source: 'program', channel: 'omni', action: 'preset' };
    else if (r.action !== 'param' && r.action !== 'preset' && (a.kind === 'cc' || a.kind === 'note_on'))
      m = { source: a.kind === 'cc' ? 'cc' : 'note', channel: a.channel, number: a.number, action: r.action, ...(r.param ? { param: r.param } : {}) };
    if (!m) return;
    this.learning = undefined;
    clearTimeout(l.timer);
    // What was mapped to the same control before goes: one control, one job.
    const same = (x: MidiMapping) => x.source === m.source && x.number === m.number && (x.channel === m.channel || x.channel === 'omni');
    const mapping: MidiMapping = { id: randomBytes(6).toString('hex'), ...m };
    const kept = this.settings.mappings.filter((x) => !same(x));
    this.commit({ ...this.settings, mappings: [...kept, mapping] }, 'learn').then(
      () => {
        this.log.info({ mapping }, 'MIDI learn: mapped');
        l.resolve(mapping);
      },
      (err: Error) => l.reject(err),
    );
  }

  private async onProgram({ program }: EventMap['midiProgram']): Promise<void> {
    const presets = this.deps.presets;
    if (!presets) return;
    const target = this.settings.programs.length ? this.settings.programs[program] : presets.list()[program]?.id;
    if (target === undefined) {
      this.log.warn({ program }, `Program Change ${program} has no preset (the program list has ${this.settings.programs.length || presets.list().length})`);
      return;
    }
    try {
      await presets.apply(target, 'midi');
    } catch (err) {
      if (!(err instanceof HushboxError)) throw err;
      this.log.warn({ program, target, code: err.code, message: err.message }, 'Program Change: the preset recall failed');
    }
  }

  private async onAction({ action }: EventMap['midiAction']): Promise<void> {
    try {
      if (action === 'ab_toggle') await this.deps.presets?.abToggle('midi');
      else if (!this.deps.recordings) this.log.warn('a MIDI switch asked for a recording; this box has no recorder');
      else if (this.deps.engine.recording()?.state === 'recording') await this.deps.recordings.stopTake();
      else await this.deps.recordings.startTake({});
    } catch (err) {
      this.log.warn({ err, action }, 'MIDI action failed');
    }
  }
}
