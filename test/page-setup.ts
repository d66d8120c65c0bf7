// vitest's global setup: the front panel's bundle, built from src/web/page/ when older than its
// sources, so a browser test never runs an old page.
// @ts-expect-error: a plain .mjs script without types
import { buildPage, pageStale } from '../scripts/build-page.mjs';

export default async function setup(): Promise<void> {
  if (!(pageStale as () => boolean)()) return;
  try {
    await (buildPage as () => Promise<unknown>)();
  } catch (err) {
    // Only the page's own tests need it: the others run, and those say what is missing.
    process.stderr.write(`[page-setup] the front panel could not be bundled: ${String((err as Error).message).split('\n')[0]} (run npm install)\n`);
  }
}
