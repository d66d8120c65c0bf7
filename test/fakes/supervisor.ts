import { defaultConfig } from '../../src/config/config.js';
import type { Config } from '../../src/config/schema.js';
import { Supervisor } from '../../src/supervisor.js';
import { silentLog, tempDir } from './temp-context.js';

/** A real supervisor (real engine, sim backend) over a temporary data directory. */
export async function startSupervisor(patch: (c: Config) => void = () => {}): Promise<{ sup: Supervisor; dataDir: string; stop: () => Promise<void> }> {
  const tmp = tempDir('hushbox-sup-');
  const config = defaultConfig();
  config.deviceId = 'testbox';
  config.http = { host: '127.0.0.1', port: 0 };
  config.mqtt.enabled = false;
  patch(config);
  const sup = new Supervisor({ dataDir: tmp.dir, log: silentLog(), config });
  await sup.start();
  return {
    sup,
    dataDir: tmp.dir,
    stop: async () => {
      await sup.stop();
      tmp.cleanup();
    },
  };
}
