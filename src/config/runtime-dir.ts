import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Env = Record<string, string | undefined>;

/**
 * Where the supervisor keeps what lives only while it runs (its lock; sockets):
 * $HUSHBOX_RUNTIME_DIR, else /run/hushbox for root (systemd's RuntimeDirectory on
 * the box), else $XDG_RUNTIME_DIR/hushbox, else a per-user directory in /tmp.
 * A tmpfs, cleared at boot: nothing here survives a power cut, and nothing here
 * needs the data partition to have room.
 */
export function runtimeDir(env: Env = process.env): string {
  if (env.HUSHBOX_RUNTIME_DIR) return env.HUSHBOX_RUNTIME_DIR;
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return '/run/hushbox';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'hushbox');
  return join(tmpdir(), `hushbox-${uid}`);
}
