import type { RootFs } from './root-fs.js';

/** A sound card as /proc/asound describes it. */
export interface SoundCard {
  index: number;
  /** The short id used in device names (hw:Gen). */
  id: string;
  /** The long name from /proc/asound/cards. */
  name: string;
  /** vendor:product for USB cards ('1235:8218'), else null. */
  usbId: string | null;
}

/** Every card in <root>/proc/asound. */
export function listSoundCards(fs: RootFs): SoundCard[] {
  const names = new Map<number, string>();
  for (const line of (fs.read('proc/asound/cards') ?? '').split('\n')) {
    const m = /^\s*(\d+)\s+\[[^\]]*\]:\s*(.*)$/.exec(line);
    if (m) names.set(Number(m[1]), m[2]!.trim());
  }
  return fs
    .list('proc/asound')
    .map((e) => /^card(\d+)$/.exec(e))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const index = Number(m[1]);
      const dir = `proc/asound/card${index}`;
      return {
        index,
        id: fs.value(`${dir}/id`) ?? String(index),
        name: names.get(index) ?? '',
        usbId: fs.value(`${dir}/usbid`),
      };
    })
    .sort((a, b) => a.index - b.index);
}

/**
 * The card an ALSA device name refers to ('hw:Gen', 'plughw:1,0',
 * 'hw:CARD=Gen,DEV=0'), or null for names that do not name one ('default').
 */
export function cardOfDevice(device: string): string | null {
  const byKey = /(?:^|[:,])CARD=([^,]+)/.exec(device);
  if (byKey) return byKey[1]!;
  const m = /^[A-Za-z_]+:([^,]+)/.exec(device);
  return m ? m[1]! : null;
}

/** Whether the device's card is present; a device that names no card counts as present. */
export function findDeviceCard(fs: RootFs, device: string): { card: string | null; found: SoundCard | null; present: boolean } {
  const card = cardOfDevice(device);
  if (card === null) return { card, found: null, present: true };
  const cards = listSoundCards(fs);
  const found = /^\d+$/.test(card) ? cards.find((c) => c.index === Number(card)) : cards.find((c) => c.id === card);
  return { card, found: found ?? null, present: found !== undefined };
}
