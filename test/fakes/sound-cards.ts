// A fake /proc/asound under a test's root directory: the cards the kernel would list, their ids, USB ids and PCM devices.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface FakeCard {
  id: string;
  name: string;
  usbId?: string;
  /** pcm entries such as pcm0p, pcm0c */
  pcms: string[];
}

/** Writes `root`/proc/asound with these cards, in this order, replacing what was there (the cards change). */
export function writeSoundCards(root: string, cards: FakeCard[]): void {
  rmSync(join(root, 'proc', 'asound'), { recursive: true, force: true });
  const files: Record<string, string> = {
    'proc/asound/cards': cards.map((c, i) => ` ${i} [${c.id.padEnd(15)}]: ${c.name}\n                      ${c.name}\n`).join('') || '--- no soundcards ---\n',
  };
  cards.forEach((c, i) => {
    files[`proc/asound/card${i}/id`] = `${c.id}\n`;
    if (c.usbId) files[`proc/asound/card${i}/usbid`] = `${c.usbId}\n`;
    for (const p of c.pcms) files[`proc/asound/card${i}/${p}/info`] = `card: ${i}\n`;
  });
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
}
