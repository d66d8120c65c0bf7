// vitest's global setup: the front panel's bundle, built from src/web/page/ when older than its
// sources, so a browser test never runs an old page.
// @ts-expect-error: a plain .mjs script without types
import { buildPage, pageStale } from '../scripts/build-page.mjs';

export default async function setup(): Promise<void> {
  if ((pageStale as () => boolean)()) await (buildPage as () => Promise<unknown>)();
}
