import { defaultConfig } from '../../src/config/config.js';
import type { Config } from '../../src/config/schema.js';
import { Supervisor } from '../../src/supervisor.js';
import type { Logger } from '../../src/log.js';
import type { ControlAccess } from '../../src/system/native-system.js';
import { onboardOwner } from './owner-http.js';
import { silentLog, tempDir } from './temp-context.js';

/** A real supervisor (real engine, sim backend) over a temporary data directory. */
export async function startSupervisor(
  patch: (c: Config) => void = () => {},
  opts: { controls?: ControlAccess; log?: Logger } = {},
): Promise<{ sup: Supervisor; dataDir: string; url: string; token: string; stop: () => Promise<void> }> {
  const tmp = tempDir('hushbox-sup-');
  const config = defaultConfig();
  config.deviceId = 'testbox';
  config.http = { host: '127.0.0.1', port: 0 };
  config.mqtt.enabled = false;
  patch(config);
  const sup = new Supervisor({ dataDir: tmp.dir, config, ...opts, log: opts.log ?? silentLog() });
  await sup.start();
  const url = `http://127.0.0.1:${sup.web.port()}/`;
  // Onboarded as the page would: ownerFetch(url) and ownerHeaders(url) then act as the owner.
  const { token } = await onboardOwner(url);
  return {
    sup,
    dataDir: tmp.dir,
    url,
    token,
    stop: async () => {
      await sup.stop();
      tmp.cleanup();
    },
  };
}
