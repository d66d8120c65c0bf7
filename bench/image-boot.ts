// Power-on figures of the built image under QEMU (TCG), for bench/image.mjs:
// boots fresh boxes one after another and prints one JSON line per boot.
//   npx vite-node bench/image-boot.ts -- [--boots N]
import { parseArgs } from 'node:util';
import { imageFiles, QemuBox } from '../test/fakes/qemu-box.js';
import { waitFor } from '../test/fakes/net.js';

const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { boots: { type: 'string', default: '3' } } });
const image = imageFiles();
for (let i = 0; i < Number(values.boots); i++) {
  const box = await QemuBox.create({ image });
  try {
    const t0 = Date.now();
    await box.start();
    await box.waitForLine(/Booting `hushbox slot/, 600_000);
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
    process.stdout.write(`${JSON.stringify({ boot: i + 1, grubMs: grub, pageMs: page, engineMs: engine, analyze, chain, blame })}\n`);
  } finally {
    await box.remove();
  }
}
