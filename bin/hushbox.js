#!/usr/bin/env node
// The installed `hushbox` command: the compiled supervisor's command line.
// The image carries it bundled into one file (dist/hushbox.mjs, board/debian/build.sh),
// which starts faster; a development tree runs dist/main.js.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/hushbox.mjs', import.meta.url);
import(existsSync(bundle) ? bundle.href : '../dist/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('hushbox: the supervisor is not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
});
