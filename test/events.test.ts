import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { EventBus } from '../src/events.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino(stream), lines };
}

describe('the event bus', () => {
  it('delivers typed payloads to every listener until it unsubscribes', () => {
    const { log } = capture();
    const bus = new EventBus(log);
    const got: number[] = [];
    const off = bus.on('xrun', 'test', (e) => void got.push(e.lostFrames));
    bus.emit('xrun', { timeNs: 1, lostFrames: 64, stream: 'capture' });
    off();
    bus.emit('xrun', { timeNs: 2, lostFrames: 128, stream: 'playback' });
    expect(got).toEqual([64]);
    expect(bus.listenerCount('xrun')).toBe(0);
  });

  it('catches a failing listener, logs it with its owner, and still calls the others', async () => {
    const { log, lines } = capture();
    const bus = new EventBus(log);
    const got: string[] = [];
    bus.on('xrun', 'broken-service', () => {
      throw new Error('boom');
    });
    bus.on('xrun', 'async-broken', async () => {
      throw new Error('later');
    });
    bus.on('xrun', 'good-service', () => void got.push('ok'));
    expect(() => bus.emit('xrun', { timeNs: 1, lostFrames: 0, stream: null })).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['ok']);
    expect(lines.map((l) => l.owner)).toEqual(['broken-service', 'async-broken']);
  });
});
