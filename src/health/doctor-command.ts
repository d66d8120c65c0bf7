import { loadConfig } from '../config/config.js';
import type { Config } from '../config/schema.js';
import type { EngineStatus } from '../engine/telemetry.js';
import { nativeControls } from '../system/native-system.js';
import { RootFs } from '../system/root-fs.js';
import { systemConfig } from '../system/system-service.js';
import { runDoctor, type DoctorReport } from './doctor.js';
import { collectHealth, type Health } from './health.js';

/** The engine's state from a supervisor running on this box, if one answers. */
async function fromSupervisor(config: Config): Promise<{ engine: EngineStatus; health: Health | null } | null> {
  const base = `http://127.0.0.1:${config.http.port}`;
  try {
    const status = await fetch(`${base}/api/status`, { signal: AbortSignal.timeout(1500) });
    if (!status.ok) return null;
    const engine = ((await status.json()) as { engine: EngineStatus }).engine;
    const h = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(3000) }).catch(() => null);
    return { engine, health: h?.ok ? ((await h.json()) as Health) : null };
  } catch {
    return null;
  }
}

/** `hushbox doctor`: the checks from a shell, with the running supervisor's view when there is one. */
export async function doctorCommand(opts: { configFile?: string; dataDir: string }): Promise<DoctorReport> {
  const config = loadConfig({ file: opts.configFile, dataDir: opts.dataDir });
  const sys = systemConfig(config);
  const running = config.http.port > 0 ? await fromSupervisor(config) : null;
  const health =
    running?.health ??
    (await collectHealth({
      fs: new RootFs(sys.root),
      dataDir: opts.dataDir,
      startedAt: new Date(),
      engine: { status: () => ({ state: 'stopped', pid: null, backend: config.engine.backend, device: config.engine.device, reason: null, restarts: 0 }), telemetry: () => null },
    }));
  return runDoctor({ config, engine: running?.engine ?? null, health, controls: sys.root === '/' ? nativeControls() : undefined });
}
