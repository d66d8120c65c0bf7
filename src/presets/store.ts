import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HushboxError } from '../errors.js';
import { removeFileDurably, setAside, TEMP_PREFIX, writeFileAtomic } from './atomic-file.js';
import { migratePreset, PRESET_SCHEMA_VERSION, slugify, type Preset } from './schema.js';

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

function uniqueSlug(stem: string, taken: (id: string) => boolean): string {
  const base = slugify(stem);
  if (!taken(base)) return base;
  for (let n = 2; ; n++) if (!taken(`${base}-${n}`)) return `${base}-${n}`;
}

export interface BrokenFile {
  file: string;
  movedTo: string;
  reason: string;
}

export interface LoadResult {
  presets: Preset[];
  broken: BrokenFile[];
  /** Files of an older schema, migrated and rewritten. */
  migrated: string[];
}

/** User presets on the data partition: one JSON file per preset, written atomically. */
export class PresetStore {
  readonly brokenDir: string;

  constructor(readonly dir: string) {
    this.brokenDir = join(dir, 'broken');
  }

  fileOf(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  /**
   * Read every preset. Temporary files of an interrupted write are removed; a
   * file that does not parse or validate is moved to broken/ so the rest load.
   */
  load(now = new Date().toISOString()): LoadResult {
    mkdirSync(this.dir, { recursive: true });
    const result: LoadResult = { presets: [], broken: [], migrated: [] };
    for (const name of readdirSync(this.dir).sort()) {
      const file = join(this.dir, name);
      if (name.startsWith(TEMP_PREFIX)) {
        // a write (or an import's staging directory) that never reached its rename: the old files are intact
        rmSync(file, { recursive: true, force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const stem = name.slice(0, -'.json'.length);
      // A file copied in by hand ("My Preset.json") gets an id that is a safe file name.
      const id = ID_PATTERN.test(stem) ? stem : uniqueSlug(stem, (x) => existsSync(this.fileOf(x)) || result.presets.some((p) => p.id === x));
      try {
        const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
        const preset = migratePreset(raw, name, { id, now });
        if ((raw as { schema?: unknown }).schema !== PRESET_SCHEMA_VERSION || id !== stem) {
          this.save(preset);
          if (id !== stem) removeFileDurably(file);
          result.migrated.push(name);
        }
        result.presets.push(preset);
      } catch (err) {
        const reason = err instanceof SyntaxError ? `not valid JSON: ${err.message}` : (err as Error).message;
        const movedTo = setAside(file, this.brokenDir, new Date(now));
        result.broken.push({ file, movedTo, reason });
      }
    }
    return result;
  }

  save(preset: Preset): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.fileOf(preset.id), `${JSON.stringify(preset, null, 2)}\n`);
  }

  /**
   * Write several presets all or nothing: each to a staging directory (written
   * and fsynced through the thread pool, so the event loop never waits on the
   * disk), and only when every one is there, renamed into place. A failure while
   * staging (a full disk) removes the staging directory and changes nothing.
   */
  async saveAll(presets: Preset[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // A bundle can hold one preset twice (two exports joined): each file is written once, the last one wins.
    presets = [...new Map(presets.map((p) => [p.id, p])).values()];
    const stage = await mkdtemp(join(this.dir, `${TEMP_PREFIX}import-`));
    try {
      for (const p of presets) {
        const fh = await open(join(stage, `${p.id}.json`), 'w', 0o644);
        try {
          await fh.writeFile(`${JSON.stringify(p, null, 2)}\n`);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
      // Renames need no room: once staged, the import cannot fail for want of space.
      for (const p of presets) await rename(join(stage, `${p.id}.json`), this.fileOf(p.id));
      const dh = await open(this.dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }

  remove(id: string): void {
    try {
      removeFileDurably(this.fileOf(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new HushboxError('storage', `cannot remove preset ${id}: ${(err as Error).message}`);
    }
  }
}
