import type { Preset } from './schema.js';

// Factory presets shipped with the box, written with the ids of PARAMS.md.
// Read-only: a user saves a changed copy under another name. An engine that
// lacks some of these parameters applies the rest and reports the others.

const SHIPPED = '2026-11-22T00:00:00.000Z';

function strip(s: 'mic' | 'inst', v: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [`${s}.${k}`, x]));
}

const ALL_STAGES_BYPASSED = {
  'hpf.bypass': 1,
  'hum.bypass': 1,
  'ns.bypass': 1,
  'gate.bypass': 1,
  'comp.bypass': 1,
  'eq.bypass': 1,
  'limit.bypass': 1,
};

/**
 * The master limiter on the outputs (after the mix): the same ceiling and release as
 * the mic's limiter, so the sum of both strips never clips. Every preset sets it, so
 * recalling one after Bypass turns it back on.
 */
function masterLimiter(ceiling: number, release: number): Record<string, number> {
  return { 'master.limit.bypass': 0, 'master.limit.ceiling': ceiling, 'master.limit.release': release };
}

function preset(id: string, name: string, tags: string[], notes: string, params: Record<string, number>): Preset {
  return { schema: 1, id, name, tags, notes, created: SHIPPED, modified: SHIPPED, params };
}

export const FACTORY_PRESETS: readonly Preset[] = [
  preset('podcast', 'Podcast', ['voice', 'spoken'], 'Spoken word in an untreated room: rumble and hum removed, firm noise suppression, gate, steady compression, limiter.', {
    ...strip('mic', {
      'trim.gain': 6,
      'hpf.bypass': 0, 'hpf.freq': 80, 'hpf.slope': 24,
      'hum.bypass': 0, 'hum.mains': 0, 'hum.harmonics': 4,
      'ns.bypass': 0, 'ns.strength': 60, 'ns.floor': -20,
      'gate.bypass': 0, 'gate.threshold': -50, 'gate.range': 20, 'gate.attack': 2, 'gate.hold': 80, 'gate.release': 150, 'gate.hysteresis': 4,
      'comp.bypass': 0, 'comp.threshold': -20, 'comp.ratio': 3, 'comp.knee': 6, 'comp.attack': 10, 'comp.release': 120, 'comp.makeup': 4,
      'eq.bypass': 0, 'eq.low.freq': 120, 'eq.low.gain': -2, 'eq.peak1.freq': 300, 'eq.peak1.gain': -2, 'eq.peak1.q': 1, 'eq.peak2.freq': 3500, 'eq.peak2.gain': 2, 'eq.peak2.q': 1, 'eq.high.freq': 10000, 'eq.high.gain': 1,
      'limit.bypass': 0, 'limit.ceiling': -1, 'limit.release': 50,
      'out.gain': 0,
    }),
    ...masterLimiter(-1, 50),
    'master.bypass': 0,
  }),
  preset('streaming', 'Streaming', ['voice', 'live'], 'Live streams with a noisy background (fans, keyboard): strongest noise suppression, tighter gate and compression.', {
    ...strip('mic', {
      'trim.gain': 4,
      'hpf.bypass': 0, 'hpf.freq': 100, 'hpf.slope': 24,
      'hum.bypass': 0, 'hum.mains': 0, 'hum.harmonics': 4,
      'ns.bypass': 0, 'ns.strength': 80, 'ns.floor': -25,
      'gate.bypass': 0, 'gate.threshold': -45, 'gate.range': 30, 'gate.attack': 1, 'gate.hold': 60, 'gate.release': 120, 'gate.hysteresis': 4,
      'comp.bypass': 0, 'comp.threshold': -18, 'comp.ratio': 4, 'comp.knee': 6, 'comp.attack': 5, 'comp.release': 100, 'comp.makeup': 5,
      'eq.bypass': 0, 'eq.low.freq': 150, 'eq.low.gain': -3, 'eq.peak1.freq': 400, 'eq.peak1.gain': -2, 'eq.peak1.q': 1, 'eq.peak2.freq': 4000, 'eq.peak2.gain': 3, 'eq.peak2.q': 1, 'eq.high.freq': 10000, 'eq.high.gain': 2,
      'limit.bypass': 0, 'limit.ceiling': -1, 'limit.release': 40,
      'out.gain': 0,
    }),
    ...masterLimiter(-1, 40),
    'master.bypass': 0,
  }),
  preset('studio-voice', 'Studio voice', ['voice', 'music'], 'A treated room and a good microphone: gentle high-pass, light compression, no gate or noise suppression.', {
    ...strip('mic', {
      'trim.gain': 2,
      'hpf.bypass': 0, 'hpf.freq': 60, 'hpf.slope': 12,
      'hum.bypass': 1,
      'ns.bypass': 1,
      'gate.bypass': 1,
      'comp.bypass': 0, 'comp.threshold': -24, 'comp.ratio': 2, 'comp.knee': 10, 'comp.attack': 20, 'comp.release': 200, 'comp.makeup': 2,
      'eq.bypass': 0, 'eq.low.freq': 100, 'eq.low.gain': 0, 'eq.peak1.freq': 250, 'eq.peak1.gain': -1, 'eq.peak1.q': 0.7, 'eq.peak2.freq': 5000, 'eq.peak2.gain': 1, 'eq.peak2.q': 0.7, 'eq.high.freq': 12000, 'eq.high.gain': 1.5,
      'limit.bypass': 0, 'limit.ceiling': -0.5, 'limit.release': 80,
      'out.gain': 0,
    }),
    ...masterLimiter(-0.5, 80),
    'master.bypass': 0,
  }),
  preset('bypass', 'Bypass', ['utility'], 'Every processing stage off and every gain at 0 dB: the signal as it comes in.', {
    ...strip('mic', { 'trim.gain': 0, ...ALL_STAGES_BYPASSED, 'out.gain': 0 }),
    ...strip('inst', { 'trim.gain': 0, ...ALL_STAGES_BYPASSED, 'out.gain': 0 }),
    'master.limit.bypass': 1,
  }),
];
