#!/usr/bin/env node
// The installed `hushbox` command: the compiled supervisor's command line.
import('../dist/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('hushbox: the supervisor is not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
});
