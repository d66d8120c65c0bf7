import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** An "engine" that writes a start time (ns) to `log` and exits at once with an error. */
export function crashingEngine(dir: string, log: string): string {
  return script(join(dir, 'crashing-engine.sh'), `date +%s%N >> '${log}'\necho 'cannot open audio device: simulated failure' >&2\nexit 3`);
}

/**
 * The real engine with the sim backend where the supervisor asked for ALSA:
 * lets the device-presence logic run against a real engine without a sound card.
 */
export function simForAlsaEngine(dir: string, realEngine: string): string {
  return script(
    join(dir, 'sim-for-alsa-engine.sh'),
    `out=""
for a in "$@"; do out="$out $a"; done
set --
skip=0
for a in $out; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in
    alsa) set -- "$@" sim ;;
    --device) skip=1; set -- "$@" --input tone ;;
    *) set -- "$@" "$a" ;;
  esac
done
exec '${realEngine}' "$@"`,
  );
}
