// Power-on figures of the built image under QEMU (TCG), for bench/image.mjs:
// boots fresh boxes one after another, each twice: its first boot (the data
// partition grown, the broker's users made) and, after an orderly power-off,
// an ordinary power-on. Prints one JSON line per boot.
//   npx vite-node bench/image-boot.ts -- [--boots N]
import { parseArgs } from 'node:util';
import { imageFiles, QemuBox } from '../test/fakes/qemu-box.js';
import { waitFor } from '../test/fakes/net.js';

const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { boots: { type: 'string', default: '3' } } });
const image = imageFiles();

async function powerOn(box: QemuBox, i: number, kind: 'first' | 'again'): Promise<void> {
  const t0 = Date.now();
  const from = box.mark();
  await box.start();
  await box.waitForLine(/Booting `hushbox slot/, 600_000, from);
  const grub = Date.now() - t0;
  await box.waitForHttp('/api/status', 900_000);
  const page = Date.now() - t0;
  await waitFor('the engine to run', async () => {
    const s = (await (await fetch(`${box.url}/api/status`)).json()) as { engine: { state: string } };
    return s.engine.state === 'running';
  }, 300_000, 250);
  const engine = Date.now() - t0;
  const analyze = (await box.sh('systemd-analyze time 2>&1 || true')).trim();
  const chain = (await box.sh('systemd-analyze critical-chain --no-pager hushbox.service 2>&1 || true')).trim();
  const blame = (await box.sh('systemd-analyze blame --no-pager 2>&1 | head -15 || true')).trim();
  process.stdout.write(`${JSON.stringify({ boot: i + 1, kind, grubMs: grub, pageMs: page, engineMs: engine, analyze, chain, blame })}\n`);
}

for (let i = 0; i < Number(values.boots); i++) {
  const box = await QemuBox.create({ image });
  try {
    await powerOn(box, i, 'first');
    await box.shutdown();
    await powerOn(box, i, 'again');
  } finally {
    await box.remove();
  }
}
