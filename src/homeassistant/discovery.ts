// Home Assistant MQTT discovery: the entities of one box, derived from the
// engine's parameter table and the preset list. Pure: topics and payloads in,
// no client here.
import type { Param } from '../engine/params.js';
import { BYPASS_PARAM } from '../presets/presets-service.js';
import type { OtaSummary } from '../ota/schema.js';
import { AVAILABILITY_OFFLINE, AVAILABILITY_ONLINE, type BoxTopics, type HaTopics, type UpdatePayload } from '../mqtt/topics.js';

export interface DiscoveryInput {
  deviceId: string;
  name: string;
  version: string;
  panelUrl: string;
  box: BoxTopics;
  ha: HaTopics;
  params: Array<Omit<Param, 'value'>>;
  presetNames: string[];
}

export interface DiscoveryMessage {
  topic: string;
  component: string;
  objectId: string;
  payload: Record<string, unknown>;
}

/** Number entities: the gains, the noise-suppression strength and the output ceiling the engine has. */
export function isNumberEntity(id: string): boolean {
  // Level controls a dashboard wants, not every gain (EQ band gains stay on the front panel).
  return /^[a-z0-9]+\.(trim|out)\.gain$|^mix\.[a-z0-9]+\.gain$|^master\.gain$|^master\.limit\.ceiling$|^[a-z0-9]+\.ns\.strength$/.test(id);
}

const objectIdOf = (id: string) => id.replace(/[^a-z0-9]+/gi, '_').toLowerCase();

export function discoveryMessages(input: DiscoveryInput): DiscoveryMessage[] {
  const { deviceId, box } = input;
  const device = {
    identifiers: [`hushbox_${deviceId}`],
    name: input.name,
    manufacturer: 'hushbox',
    model: 'hushbox voice processor',
    sw_version: input.version,
    configuration_url: input.panelUrl,
  };
  const origin = { name: 'hushbox', sw_version: input.version, support_url: new URL('docs', input.panelUrl).toString() };
  const common = {
    device,
    origin,
    availability_topic: box.availability,
    payload_available: AVAILABILITY_ONLINE,
    payload_not_available: AVAILABILITY_OFFLINE,
  };
  const out: DiscoveryMessage[] = [];
  const add = (component: string, objectId: string, payload: Record<string, unknown>) =>
    out.push({
      topic: input.ha.config(component, deviceId, objectId),
      component,
      objectId,
      payload: { ...payload, unique_id: `hushbox_${deviceId}_${objectId}`, ...common },
    });

  add('select', 'preset', {
    name: 'Preset',
    icon: 'mdi:tune-variant',
    command_topic: box.set,
    command_template: '{"preset": {{ value | tojson }}}',
    state_topic: box.state,
    // "None" is how an MQTT select says "no option selected" (no preset recalled yet).
    value_template: "{{ value_json.preset if value_json.preset else 'None' }}",
    options: input.presetNames,
  });

  const ids = new Set(input.params.map((p) => p.id));
  if (ids.has(BYPASS_PARAM)) {
    add('switch', 'bypass', {
      name: 'Bypass',
      icon: 'mdi:debug-step-over',
      command_topic: box.set,
      payload_on: '{"bypass": true}',
      payload_off: '{"bypass": false}',
      state_topic: box.state,
      value_template: "{{ 'ON' if value_json.bypass else 'OFF' }}",
      state_on: 'ON',
      state_off: 'OFF',
    });
  }

  for (const p of input.params.filter((x) => isNumberEntity(x.id))) {
    const percent = p.unit === '%';
    add('number', objectIdOf(p.id), {
      name: p.name,
      icon: percent ? 'mdi:volume-off' : 'mdi:knob',
      command_topic: box.set,
      command_template: `{"params": {"${p.id}": {{ value }}}}`,
      state_topic: box.state,
      value_template: `{{ value_json.params['${p.id}'] }}`,
      min: p.min,
      max: p.max,
      step: percent ? 1 : 0.5,
      unit_of_measurement: p.unit || undefined,
      mode: 'slider',
      entity_category: p.id.startsWith('master.') || percent ? undefined : 'config',
    });
  }

  const sensor = (objectId: string, payload: Record<string, unknown>) =>
    add('sensor', objectId, { state_topic: box.health, entity_category: 'diagnostic', ...payload });
  sensor('cpu_temperature', {
    name: 'CPU temperature',
    device_class: 'temperature',
    state_class: 'measurement',
    unit_of_measurement: '°C',
    value_template: '{{ value_json.cpu_temperature }}',
  });
  sensor('dsp_load', { name: 'DSP load', icon: 'mdi:chip', state_class: 'measurement', unit_of_measurement: '%', value_template: '{{ value_json.dsp_load }}' });
  sensor('xruns', { name: 'Xruns', icon: 'mdi:alert-circle-outline', state_class: 'total_increasing', value_template: '{{ value_json.xruns }}' });
  sensor('latency', {
    name: 'Latency',
    device_class: 'duration',
    state_class: 'measurement',
    unit_of_measurement: 'ms',
    value_template: '{{ value_json.latency_ms }}',
  });
  sensor('engine_state', { name: 'Engine state', icon: 'mdi:state-machine', value_template: '{{ value_json.engine_state }}' });

  add('button', 'restart_engine', {
    name: 'Restart engine',
    device_class: 'restart',
    entity_category: 'config',
    command_topic: box.request('restart_engine'),
    payload_press: '{"transaction": "homeassistant"}',
  });

  add('update', 'firmware', {
    name: 'Firmware',
    device_class: 'firmware',
    entity_category: 'config',
    state_topic: box.update,
    command_topic: box.request('install_update'),
    payload_install: '{"transaction": "homeassistant"}',
  });

  // Drop keys left undefined so the JSON carries only what applies.
  for (const m of out) for (const k of Object.keys(m.payload)) if (m.payload[k] === undefined) delete m.payload[k];
  return out;
}

/** `<base>/update`: the update entity's state from the OTA summary, as Home Assistant's MQTT update platform reads it. */
export function updateEntityState(s: OtaSummary): UpdatePayload {
  const busy = s.install.running;
  const summary = s.outcome?.message ?? s.notes;
  return {
    installed_version: s.installedVersion,
    latest_version: s.latestVersion,
    title: 'hushbox firmware',
    release_summary: busy ? `${s.install.phase}: ${s.install.message ?? ''}`.slice(0, 255) : summary ? summary.slice(0, 255) : null,
    in_progress: busy,
    update_percentage: busy ? s.install.percent : null,
  };
}
