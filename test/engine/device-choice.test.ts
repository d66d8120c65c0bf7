import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { chooseAudioDevice, withAutoAudio } from '../../src/engine/device-choice.js';
import { RootFs } from '../../src/system/root-fs.js';
import { writeSoundCards, type FakeCard } from '../fakes/sound-cards.js';

const base = mkdtempSync(join(tmpdir(), 'hushbox-device-choice-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

type Card = FakeCard;

/** A fake /proc/asound with these cards, in this order. */
function root(cards: Card[]): RootFs {
  const dir = join(base, String(n++));
  writeSoundCards(dir, cards);
  return new RootFs(dir);
}

const hda: Card = { id: 'Intel', name: 'HDA-Intel - HDA Intel', pcms: ['pcm0p', 'pcm0c'] };
const hdmi: Card = { id: 'HDMI', name: 'HDA-Intel - HDA ATI HDMI', pcms: ['pcm3p', 'pcm7p'] };
const scarlett: Card = { id: 'Gen', name: 'USB-Audio - Scarlett Solo 4th Gen', usbId: '1235:8218', pcms: ['pcm0p', 'pcm0c'] };

describe('choosing the sound card (HUSHBOX_AUDIO=auto)', () => {
  it('takes the Scarlett when it is there, even behind other cards', () => {
    expect(chooseAudioDevice(root([hdmi, hda, scarlett]), 'hw:Gen')).toMatchObject({ backend: 'alsa', device: 'hw:Gen' });
  });

  it('takes another Focusrite interface by its USB vendor when hw:Gen is not there', () => {
    const clarett: Card = { id: 'USB', name: 'USB-Audio - Clarett+ 2Pre', usbId: '1235:8206', pcms: ['pcm0p', 'pcm0c'] };
    expect(chooseAudioDevice(root([hda, clarett]), 'hw:Gen')).toMatchObject({ backend: 'alsa', device: 'hw:CARD=USB,DEV=0' });
  });

  it('takes the first card with a device that both plays and records, skipping playback-only cards', () => {
    const choice = chooseAudioDevice(root([hdmi, hda]), 'hw:Gen');
    expect(choice).toMatchObject({ backend: 'alsa', device: 'hw:CARD=Intel,DEV=0' });
    expect(choice.why).toMatch(/plays and records/);
  });

  it('pairs playback and capture of the same device number', () => {
    const odd: Card = { id: 'Odd', name: 'odd', pcms: ['pcm0p', 'pcm1c', 'pcm2p', 'pcm2c'] };
    expect(chooseAudioDevice(root([odd]), 'hw:Gen').device).toBe('hw:CARD=Odd,DEV=2');
  });

  it('falls back to the simulated device only when no card plays and records', () => {
    expect(chooseAudioDevice(root([]), 'hw:Gen')).toMatchObject({ backend: 'sim', why: 'no sound card' });
    expect(chooseAudioDevice(root([hdmi]), 'hw:Gen')).toMatchObject({ backend: 'sim', why: expect.stringMatching(/HDMI/) });
  });

  it('changes the config only when HUSHBOX_AUDIO=auto, and refuses other values', () => {
    const fs = root([hda]);
    const config = defaultConfig({});
    expect(withAutoAudio(config, fs, {}).config).toBe(config);
    expect(withAutoAudio(config, fs, { HUSHBOX_AUDIO: 'config' }).choice).toBeNull();
    const auto = withAutoAudio(config, fs, { HUSHBOX_AUDIO: 'auto' });
    expect(auto.config.engine).toMatchObject({ backend: 'alsa', device: 'hw:CARD=Intel,DEV=0', rate: config.engine.rate });
    expect(() => withAutoAudio(config, fs, { HUSHBOX_AUDIO: 'yes' })).toThrow(/HUSHBOX_AUDIO: expected 'auto' or 'config', got 'yes'/);
  });
});
