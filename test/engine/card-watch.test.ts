// A sound card that comes after the supervisor's start (HUSHBOX_AUDIO=auto had
// none and chose the simulated device): the engine moves to it, once, without
// keeping it as the user's choice; a card the engine refuses is not tried again
// until the cards change; a backend the owner chose meanwhile is left alone.
// The cards are a fake /proc/asound that changes under the watch; the engine
// is a stand-in that records what it was asked (the real engine's device change
// is tested in engine-service tests, and on the image under QEMU).
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../../src/config/schema.js';
import { defaultConfig } from '../../src/config/config.js';
import { CardWatch } from '../../src/engine/card-watch.js';
import { RootFs } from '../../src/system/root-fs.js';
import { writeSoundCards, type FakeCard } from '../fakes/sound-cards.js';
import { makeContext, tempDir } from '../fakes/temp-context.js';

type Card = FakeCard;
const hda: Card = { id: 'Intel', name: 'HDA-Intel - HDA Intel', pcms: ['pcm0p', 'pcm0c'] };
const hdmi: Card = { id: 'HDMI', name: 'HDA-Intel - HDA ATI HDMI', pcms: ['pcm3p'] };
const scarlett: Card = { id: 'Gen', name: 'USB-Audio - Scarlett Solo 4th Gen', usbId: '1235:8218', pcms: ['pcm0p', 'pcm0c'] };

const dirs: Array<{ cleanup(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

/** The root's /proc/asound shows these cards now (called again: the cards change). */
const setCards = writeSoundCards;

function box(opts: { active?: boolean; refuse?: string[] } = {}) {
  const d = tempDir('hushbox-card-watch-');
  dirs.push(d);
  const root = join(d.dir, 'root');
  setCards(root, []);
  let io: EngineConfig = { ...defaultConfig().engine, backend: 'sim', device: 'hw:Gen' };
  const asked: Array<{ patch: { backend: string; device: string }; reason: string; keep: boolean }> = [];
  const engine = {
    ioConfig: () => io,
    async reconfigure(patch: { backend: 'alsa'; device: string }, reason: string, o: { keep: boolean }) {
      asked.push({ patch, reason, keep: o.keep });
      if (opts.refuse?.includes(patch.device)) throw new Error(`cannot open ${patch.device}`);
      io = { ...io, ...patch };
      return io;
    },
  };
  const watch = new CardWatch({ ctx: makeContext(join(d.dir, 'data')), fs: new RootFs(root), preferred: 'hw:Gen', active: () => opts.active ?? true, engine, intervalMs: 60_000 });
  return { root, watch, asked, setBackend: (b: EngineConfig['backend']) => (io = { ...io, backend: b }) };
}

describe('a sound card that comes after the start', () => {
  it('moves the engine from the simulated device to it, once, not kept as the user\'s choice', async () => {
    const { root, watch, asked } = box();
    await watch.start();
    expect(await watch.look()).toBeNull();
    setCards(root, [hdmi]);
    expect(await watch.look(), 'a card that only plays is no use').toBeNull();
    setCards(root, [hdmi, hda]);
    expect(await watch.look()).toMatchObject({ backend: 'alsa', device: 'hw:CARD=Intel,DEV=0' });
    expect(asked).toEqual([{ patch: { backend: 'alsa', device: 'hw:CARD=Intel,DEV=0' }, reason: expect.stringContaining('a sound card appeared'), keep: false }]);
    // Done: the watch has stopped.
    setCards(root, [hdmi, hda, scarlett]);
    expect(await watch.look()).toBeNull();
    expect(asked).toHaveLength(1);
    await watch.stop();
  });

  it('takes the Scarlett plugged in later by its name', async () => {
    const { root, watch, asked } = box();
    await watch.start();
    setCards(root, [scarlett]);
    expect(await watch.look()).toMatchObject({ device: 'hw:Gen' });
    expect(asked[0].patch).toEqual({ backend: 'alsa', device: 'hw:Gen' });
    await watch.stop();
  });

  it('does not try a card the engine refused again until the cards change', async () => {
    const { root, watch, asked } = box({ refuse: ['hw:CARD=Intel,DEV=0'] });
    await watch.start();
    setCards(root, [hda]);
    expect(await watch.look()).toBeNull();
    expect(await watch.look()).toBeNull();
    expect(asked).toHaveLength(1);
    setCards(root, [hda, scarlett]);
    expect(await watch.look()).toMatchObject({ device: 'hw:Gen' });
    expect(asked.map((a) => a.patch.device)).toEqual(['hw:CARD=Intel,DEV=0', 'hw:Gen']);
    await watch.stop();
  });

  it('leaves a backend the owner chose meanwhile alone, and does nothing where auto found a card at start', async () => {
    const chosen = box();
    await chosen.watch.start();
    chosen.setBackend('jack');
    setCards(chosen.root, [hda]);
    expect(await chosen.watch.look()).toBeNull();
    expect(chosen.asked).toEqual([]);

    const found = box({ active: false });
    await found.watch.start();
    setCards(found.root, [hda]);
    expect(await found.watch.look()).toBeNull();
    expect(found.asked).toEqual([]);
  });
});
