import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscoveryAnnouncer } from '../../src/homeassistant/announcer.js';
import { updateEntityState, discoveryMessages, isNumberEntity, type DiscoveryInput } from '../../src/homeassistant/discovery.js';
import { boxTopics, haTopics } from '../../src/mqtt/topics.js';
import { tempDir } from '../fakes/temp-context.js';
import { FULL_TABLE, SKELETON_TABLE } from '../fakes/table-engine.js';

const input = (params = FULL_TABLE): DiscoveryInput => ({
  deviceId: 'studio',
  name: 'Studio box',
  version: '1.2.3',
  panelUrl: 'http://studio.local/',
  box: boxTopics('hushbox/studio'),
  ha: haTopics('homeassistant'),
  params,
  presetNames: ['Podcast', 'Mine'],
});

describe('Home Assistant discovery', () => {
  it('announces select, switch, numbers, sensors, button and update with device, origin, availability and unique ids', () => {
    const msgs = discoveryMessages(input());
    const byKey = Object.fromEntries(msgs.map((m) => [`${m.component}/${m.objectId}`, m]));
    expect(Object.keys(byKey).sort()).toEqual(
      [
        'select/preset',
        'switch/bypass',
        'number/mic_trim_gain',
        'number/inst_trim_gain',
        'number/mic_ns_strength',
        'number/mic_out_gain',
        'number/master_gain',
        'sensor/cpu_temperature',
        'sensor/dsp_load',
        'sensor/xruns',
        'sensor/latency',
        'sensor/engine_state',
        'button/restart_engine',
        'update/firmware',
      ].sort(),
    );
    for (const m of msgs) {
      expect(m.topic).toBe(`homeassistant/${m.component}/studio/${m.objectId}/config`);
      expect(m.payload).toMatchObject({
        unique_id: `hushbox_studio_${m.objectId}`,
        availability_topic: 'hushbox/studio/availability',
        payload_available: 'online',
        payload_not_available: 'offline',
        device: { identifiers: ['hushbox_studio'], name: 'Studio box', sw_version: '1.2.3', configuration_url: 'http://studio.local/', model: expect.any(String), manufacturer: 'hushbox' },
        origin: { name: 'hushbox', sw_version: '1.2.3', support_url: 'http://studio.local/docs' },
      });
      expect(typeof m.payload.name).toBe('string');
    }
    expect(new Set(msgs.map((m) => m.payload.unique_id)).size).toBe(msgs.length);
    expect(byKey['select/preset']!.payload).toMatchObject({ options: ['Podcast', 'Mine'], command_topic: 'hushbox/studio/set', state_topic: 'hushbox/studio/state' });
    expect(byKey['switch/bypass']!.payload).toMatchObject({ payload_on: '{"bypass": true}', payload_off: '{"bypass": false}' });
    expect(byKey['number/master_gain']!.payload).toMatchObject({ min: -60, max: 12, unit_of_measurement: 'dB', command_template: '{"params": {"master.gain": {{ value }}}}' });
    expect(byKey['number/mic_ns_strength']!.payload).toMatchObject({ min: 0, max: 100, step: 1, unit_of_measurement: '%' });
    expect(byKey['sensor/latency']!.payload).toMatchObject({ state_topic: 'hushbox/studio/health', value_template: '{{ value_json.latency_ms }}' });
    expect(byKey['button/restart_engine']!.payload).toMatchObject({ command_topic: 'hushbox/studio/request/restart_engine' });
    expect(byKey['update/firmware']!.payload).toMatchObject({
      state_topic: 'hushbox/studio/update',
      command_topic: 'hushbox/studio/request/install_update',
      payload_install: '{"transaction": "homeassistant"}',
      device_class: 'firmware',
    });
    expect(byKey['update/firmware']!.payload.value_template).toBeUndefined();
  });

  it("gives the update entity Home Assistant's MQTT update JSON: versions, progress while installing, the outcome after", () => {
    const base = { installedVersion: '1.2.0', latestVersion: '1.3.0', notes: 'faster gate', rebootRequired: false, outcome: null };
    const idle = { running: false, phase: 'idle' as const, percent: null, message: null, version: null };
    expect(updateEntityState({ ...base, install: idle })).toEqual({
      installed_version: '1.2.0',
      latest_version: '1.3.0',
      title: 'hushbox firmware',
      release_summary: 'faster gate',
      in_progress: false,
      update_percentage: null,
    });
    const busy = updateEntityState({ ...base, install: { running: true, phase: 'installing', percent: 40, message: 'Copying image to rootfs.1', version: '1.3.0' } });
    expect(busy).toMatchObject({ in_progress: true, update_percentage: 40, release_summary: 'installing: Copying image to rootfs.1' });
    const fellBack = updateEntityState({
      ...base,
      latestVersion: '1.2.0',
      install: idle,
      outcome: { kind: 'fell_back', version: '1.3.0', running: '1.2.0', message: 'update to 1.3.0 failed, running 1.2.0 again' },
    });
    expect(fellBack).toMatchObject({ installed_version: '1.2.0', in_progress: false, release_summary: 'update to 1.3.0 failed, running 1.2.0 again' });
  });

  it('makes numbers of the level controls only, not of every gain', () => {
    expect(['mic.trim.gain', 'inst.out.gain', 'mix.mic.gain', 'master.gain', 'inst.ns.strength', 'master.limit.ceiling'].every(isNumberEntity)).toBe(true);
    expect(['mic.eq.low.gain', 'mic.eq.peak1.gain', 'mic.comp.makeup', 'master.bypass', 'mic.ns.floor', 'mic.limit.ceiling', 'master.limit.release'].some(isNumberEntity)).toBe(false);
  });

  it('makes a number of the master limiter\'s ceiling, in dBFS, beside the master gain', () => {
    const table = [...FULL_TABLE, { id: 'master.limit.ceiling', name: 'Master limiter ceiling', unit: 'dBFS', scale: 'db' as const, min: -12, max: 0, default: -1 }];
    const ceiling = discoveryMessages(input(table)).find((m) => m.objectId === 'master_limit_ceiling');
    expect(ceiling?.payload).toMatchObject({
      name: 'Master limiter ceiling',
      min: -12,
      max: 0,
      unit_of_measurement: 'dBFS',
      command_template: '{"params": {"master.limit.ceiling": {{ value }}}}',
      value_template: "{{ value_json.params['master.limit.ceiling'] }}",
    });
    expect(ceiling?.payload.entity_category).toBeUndefined();
  });

  it('has no bypass switch and no numbers the engine lacks', () => {
    const keys = discoveryMessages(input(SKELETON_TABLE)).map((m) => `${m.component}/${m.objectId}`);
    expect(keys).not.toContain('switch/bypass');
    expect(keys.filter((k) => k.startsWith('number/')).sort()).toEqual(['number/inst_trim_gain', 'number/mic_trim_gain']);
  });
});

describe('DiscoveryAnnouncer', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  it('clears, with an empty retained config, what it announced before and no longer wants, across restarts', () => {
    const file = join(tmp.dir, 'announced.json');
    const sent: Array<[string, string, boolean]> = [];
    const publish = (t: string, p: string, o: { retain: boolean }) => void sent.push([t, p, o.retain]);
    new DiscoveryAnnouncer(file).announce(discoveryMessages(input(FULL_TABLE)), publish);
    expect(sent.every(([, p, r]) => p.length > 0 && r)).toBe(true);
    sent.length = 0;
    // a new process, with an engine that has fewer parameters
    const cleared = new DiscoveryAnnouncer(file).announce(discoveryMessages(input(SKELETON_TABLE)), publish);
    expect(cleared.sort()).toEqual(
      ['homeassistant/number/studio/master_gain/config', 'homeassistant/number/studio/mic_ns_strength/config', 'homeassistant/number/studio/mic_out_gain/config', 'homeassistant/switch/studio/bypass/config'].sort(),
    );
    for (const t of cleared) expect(sent).toContainEqual([t, '', true]);
  });
});
