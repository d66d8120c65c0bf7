// Peer tool, not our own check: Redocly's recommended rules on the OpenAPI document the app serves.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OtaService } from '../../src/ota/ota-service.js';
import { DoctorWatch } from '../../src/health/doctor-watch.js';
import { HistoryService } from '../../src/history/history-service.js';
import { LatencyMeasure } from '../../src/engine/latency-measure.js';
import { packageRoot } from '../../src/paths.js';
import { PresetsService } from '../../src/presets/presets-service.js';
import { buildOwnerApp } from '../fakes/owner.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';
import { SKELETON_TABLE, TableEngine } from '../fakes/table-engine.js';

const run = promisify(execFile);

describe('the OpenAPI document', () => {
  it('passes Redocly recommended lint with no errors, security schemes and servers declared', async () => {
    const tmp = tempDir('hushbox-openapi-');
    const ctx = makeContext(tmp.dir);
    const engine = new TableEngine(SKELETON_TABLE, ctx.bus);
    const presets = new PresetsService({ ctx, engine: engine.asService() });
    await presets.start();
    const history = new HistoryService({ ctx, engine: engine.asService() });
    const app = await buildOwnerApp({ ctx, engine: engine.asService(), presets, ota: new OtaService({ ctx }), history, doctor: new DoctorWatch({ ctx, engine: engine.asService() }), latency: new LatencyMeasure({ ctx, engine: engine.asService() }) });
    try {
      const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
      expect(Object.keys(doc.components.securitySchemes)).toEqual(['session', 'token']);
      expect(doc.servers).toHaveLength(1);
      const file = join(tmp.dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const res = await run(join(packageRoot, 'node_modules', '.bin', 'redocly'), ['lint', '--extends=recommended', file], { timeout: 60_000 }).catch(
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      const out = `${res.stdout}\n${res.stderr}`;
      expect(out, out).not.toMatch(/You have \d+ errors?/);
      expect(out).toMatch(/Woohoo! Your API description is valid|You have \d+ warnings?/);
      expect((res as { code?: number }).code ?? 0, out).toBe(0);
    } finally {
      await app.close();
      await presets.stop();
      tmp.cleanup();
    }
  }, 90_000);
});
