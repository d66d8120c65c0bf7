import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EngineError } from '../../errors.js';
import { DoctorReportSchema, runDoctor } from '../../health/doctor.js';
import { DoctorSummarySchema } from '../../health/doctor-watch.js';
import { engineHealth, HealthSchema } from '../../health/health.js';
import { nativeControls } from '../../system/native-system.js';
import { systemConfig } from '../../system/system-service.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

export const healthRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, deps) => {
  app.get(
    '/api/health',
    {
      schema: {
        summary: 'CPU temperature, load, frequency, throttling, memory, disk, uptime, and the engine’s DSP load, xruns, jitter, latency',
        response: { 200: HealthSchema, 503: ErrorSchema },
      },
    },
    async () => {
      if (!deps.health) throw new EngineError('health_unavailable', 'the health service is not running');
      const h = await deps.health.current();
      // The system part as last sampled (every few seconds); the engine part live.
      return { ...h, engine: engineHealth(deps.engine.status(), deps.engine.telemetry()) };
    },
  );

  app.get(
    '/api/doctor',
    { schema: { summary: 'Every check of the box (system, interface, engine) with pass/warn/fail and how to fix it', response: { 200: DoctorReportSchema } } },
    // Through the watch when there is one: the run also refreshes the summary the page shows.
    async () =>
      deps.doctor ? deps.doctor.report() : runDoctor({
        config: deps.ctx.config,
        engine: deps.engine.status(),
        health: deps.health ? await deps.health.current() : null,
        // Real ALSA controls only on the real root; a fake tree has no cards behind it.
        controls: systemConfig(deps.ctx.config).root === '/' ? nativeControls() : undefined,
      }),
  );

  app.get(
    '/api/doctor/summary',
    {
      schema: {
        summary: "The doctor's warnings and failures with their fixes, as last run (every minute, and at each GET /api/doctor)",
        response: { 200: DoctorSummarySchema, 503: ErrorSchema },
      },
    },
    async () => {
      if (!deps.doctor) throw new EngineError('doctor_unavailable', 'the doctor is not run on this box');
      return deps.doctor.summary() ?? deps.doctor.refresh();
    },
  );
};
