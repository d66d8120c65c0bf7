import { describe, expect, it } from 'vitest';
import { boxTopics, checkBaseTopic, checkPayload, COMMANDS, haTopics, parseJson, RequestSchemas, SetPayloadSchema, transactionOf } from '../../src/mqtt/topics.js';

describe('MQTT topics', () => {
  const t = boxTopics('hushbox/studio');

  it('builds every box topic from the base', () => {
    expect(t.availability).toBe('hushbox/studio/availability');
    expect(t.state).toBe('hushbox/studio/state');
    expect(t.health).toBe('hushbox/studio/health');
    expect(t.set).toBe('hushbox/studio/set');
    expect(t.request('apply_preset')).toBe('hushbox/studio/request/apply_preset');
    expect(t.response('apply_preset')).toBe('hushbox/studio/response/apply_preset');
    expect(t.requestWildcard).toBe('hushbox/studio/request/+');
  });

  it('finds the command of a request topic and nothing else', () => {
    expect(t.commandOf('hushbox/studio/request/ab_toggle')).toBe('ab_toggle');
    expect(t.commandOf('hushbox/studio/request/a/b')).toBeUndefined();
    expect(t.commandOf('hushbox/studio/request/')).toBeUndefined();
    expect(t.commandOf('hushbox/other/request/ab_toggle')).toBeUndefined();
    expect(t.commandOf('hushbox/studio/set')).toBeUndefined();
  });

  it('builds Home Assistant discovery topics', () => {
    const ha = haTopics('homeassistant');
    expect(ha.status).toBe('homeassistant/status');
    expect(ha.config('select', 'studio', 'preset')).toBe('homeassistant/select/studio/preset/config');
  });

  it('refuses base topics with wildcards or empty levels', () => {
    expect(checkBaseTopic('hushbox/a')).toBe('hushbox/a');
    for (const bad of ['', 'hushbox/#', 'a/+/b', '/a', 'a/', 'a//b']) expect(() => checkBaseTopic(bad)).toThrow(/not a valid topic/);
  });

  it('names the topic when a payload is not JSON; an empty payload is an empty object', () => {
    expect(() => parseJson('x/set', '{"preset":')).toThrow(/x\/set: payload is not valid JSON/);
    expect(parseJson('x', '')).toEqual({});
  });

  it('checks set payloads and names the wrong field', () => {
    expect(checkPayload(SetPayloadSchema, { preset: 'Podcast' }, 'set')).toEqual({ preset: 'Podcast' });
    expect(() => checkPayload(SetPayloadSchema, { bypass: 'yes' }, 'set')).toThrow(/bypass/);
    expect(() => checkPayload(SetPayloadSchema, { volume: 3 }, 'set')).toThrow(/volume/);
    expect(() => checkPayload(SetPayloadSchema, {}, 'set')).toThrow(/set:/);
    expect(() => checkPayload(SetPayloadSchema, { params: { 'mic.trim.gain': 'x' } }, 'set')).toThrow(/params/);
  });

  it('has a schema for every command, each taking a transaction', () => {
    expect(COMMANDS).toEqual(['apply_preset', 'set_params', 'set_bypass', 'ab_toggle', 'ab_store', 'save_preset', 'set_locks', 'restart_engine', 'get_health', 'get_state', 'install_update', 'check_update', 'reboot', 'midi_learn', 'midi_learn_cancel', 'record_start', 'record_stop']);
    expect(checkPayload(RequestSchemas.apply_preset, { preset: 'x', transaction: 'abc' }, 'r')).toEqual({ preset: 'x', transaction: 'abc' });
    expect(checkPayload(RequestSchemas.save_preset, { name: 'Mine', transaction: 1 }, 'r')).toEqual({ name: 'Mine', transaction: 1 });
    expect(() => checkPayload(RequestSchemas.ab_store, { slot: 'C' }, 'r')).toThrow(/slot/);
    expect(() => checkPayload(RequestSchemas.record_start, { format: 'mp3' }, 'r')).toThrow(/format/);
  });

  it('finds the transaction even in a payload that is otherwise wrong', () => {
    expect(transactionOf({ transaction: 'x', junk: 1 })).toBe('x');
    expect(transactionOf({ transaction: { a: 1 } })).toBeUndefined();
    expect(transactionOf('str')).toBeUndefined();
  });
});
