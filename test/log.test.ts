import { describe, expect, it } from 'vitest';
import { formatLine } from '../src/log.js';
import { waitFor } from './fakes/context.js';
import { startSupervisor } from './fakes/supervisor-process.js';

describe('log lines on a terminal', () => {
  it('show time, level, service, message and the other fields, without the JSON', () => {
    const json = JSON.stringify({ level: 40, time: '2026-11-22T06:31:02.123Z', app: 'hushbox', service: 'engine', pid: 1, msg: 'engine restarted', reason: 'hang detected', restarts: 2 });
    expect(formatLine(json)).toBe('06:31:02.123 warn  engine   engine restarted  reason="hang detected" restarts=2\n');
    expect(formatLine(json, true)).toContain('\x1b[33mwarn \x1b[0m');
    expect(formatLine('not json')).toBe('not json\n');
  });

  it('the supervisor logs readable lines when asked, JSON otherwise', async () => {
    for (const format of ['json', 'pretty'] as const) {
      const sup = await startSupervisor({ env: { HUSHBOX_LOG_FORMAT: format, HUSHBOX_LOG_LEVEL: 'info' } });
      try {
        const first = await waitFor('a log line naming the engine', () => sup.output().split('\n').find((l) => l.includes('engine attached')));
        if (format === 'json') expect(JSON.parse(first)).toMatchObject({ service: 'engine', msg: 'engine attached' });
        else expect(first).toMatch(/^\d\d:\d\d:\d\d\.\d{3} info {2}engine {3}engine attached {2}link=/);
      } finally {
        await sup.stop();
        sup.cleanup();
      }
    }
  }, 60_000);
});
