#!/usr/bin/env node
// Bundles the front panel (src/web/page/) with esbuild into src/web/public/app.js and app.css:
// Preact, htm and uPlot from node_modules, one script and one stylesheet the box serves itself.
// Run by `node scripts/prepare.mjs --build` and by the tests (vitest's global setup).
//
//   node scripts/build-page.mjs [--dev]   (--dev: no minification, a source map)
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'web', 'page');
const out = join(root, 'src', 'web', 'public');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Whether the bundle is older than its sources (or the lock file: a library update). */
export function pageStale() {
  const built = join(out, 'app.js');
  if (!existsSync(built) || !existsSync(join(out, 'app.css'))) return true;
  const t = statSync(built).mtimeMs;
  return newest(src) > t || statSync(join(root, 'package-lock.json')).mtimeMs > t;
}

export async function buildPage({ dev = false } = {}) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: join(src, 'main.js') },
    bundle: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: !dev,
    sourcemap: dev ? 'linked' : false,
    legalComments: 'linked',
    outdir: out,
    metafile: true,
    logLevel: 'warning',
  });
  return Object.fromEntries(Object.entries(result.metafile.outputs).map(([f, o]) => [f.replace(`${root}/`, ''), o.bytes]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildPage({ dev: process.argv.includes('--dev') });
  for (const [f, bytes] of Object.entries(sizes)) console.log(`[build-page] ${f} ${(bytes / 1024).toFixed(1)} KiB`);
}
