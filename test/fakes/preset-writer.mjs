// Writes presets through the store module in a loop until killed. Used by the
// crash test: run from the built dist/ so it is a plain Node process.
import { PresetStore } from '../../dist/presets/store.js';

const [dir] = process.argv.slice(2);
const store = new PresetStore(dir);
const notes = 'x'.repeat(1500);
let i = 0;
process.stdout.write('ready\n');
for (;;) {
  const n = i++;
  const now = new Date().toISOString();
  store.save({
    schema: 1,
    id: `p${n % 7}`,
    name: `Preset ${n % 7}`,
    tags: ['crash', String(n)],
    notes,
    created: now,
    modified: now,
    params: Object.fromEntries(Array.from({ length: 60 }, (_, k) => [`mic.p${k}.gain`, (n % 48) - 24])),
  });
}
