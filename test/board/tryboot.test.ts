import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../fakes/temp-context.js';
import { externalTree } from './buildroot-source.js';

// The Raspberry Pi 5's RAUC backend (board/rpi5/tryboot.sh) against a config
// partition, a device tree and /run in a temporary folder: what the firmware
// does between boots (clear the tryboot flag, start the partition autoboot.txt
// names) is played by the test.
const board = join(externalTree, 'board', 'rpi5');

describe('rpi5 tryboot backend for RAUC', () => {
  const tmp = tempDir('hushbox-tryboot-');
  const config = join(tmp.dir, 'config');
  const dt = join(tmp.dir, 'dt');
  const reboot = join(tmp.dir, 'run', 'systemd', 'reboot-param');
  afterAll(() => tmp.cleanup());

  const env = { ...process.env, HUSHBOX_TRYBOOT_CONFIG_DIR: config, HUSHBOX_TRYBOOT_DT: dt, HUSHBOX_TRYBOOT_REBOOT_PARAM: reboot };
  const backend = (...args: string[]) => {
    const r = spawnSync(join(board, 'tryboot.sh'), args, { env, encoding: 'utf8' });
    return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };
  const ok = (...args: string[]) => {
    const r = backend(...args);
    expect(r.status, `${args.join(' ')}: ${r.err}`).toBe(0);
    return r.out;
  };
  /** What the firmware does on a reboot: starts [tryboot]'s partition once if the flag was passed, else [all]'s. */
  const rebootBox = () => {
    const text = readFileSync(join(config, 'autoboot.txt'), 'utf8');
    const all = /\[all\][^[]*boot_partition=(\d)/.exec(text)![1]!;
    const tried = /\[tryboot\][^[]*boot_partition=(\d)/.exec(text)![1]!;
    const armed = existsSync(reboot) && readFileSync(reboot, 'utf8').includes('tryboot');
    rmSync(join(tmp.dir, 'run'), { recursive: true, force: true }); // /run is a tmpfs
    const part = Buffer.alloc(4);
    part.writeUInt32BE(Number(armed ? tried : all));
    writeFileSync(join(dt, 'partition'), part);
  };
  const committed = () => /\[all\][^[]*boot_partition=(\d)/.exec(readFileSync(join(config, 'autoboot.txt'), 'utf8'))![1];

  beforeEach(() => {
    rmSync(config, { recursive: true, force: true });
    rmSync(dt, { recursive: true, force: true });
    rmSync(join(tmp.dir, 'run'), { recursive: true, force: true });
    mkdirSync(config);
    mkdirSync(dt);
    copyFileSync(join(board, 'autoboot.txt'), join(config, 'autoboot.txt'));
    rebootBox();
  });

  it('starts on slot A, committed and good; B is not', () => {
    expect(ok('get-current')).toBe('A');
    expect(ok('get-primary')).toBe('A');
    expect(ok('get-state', 'A')).toBe('good');
    expect(ok('get-state', 'B')).toBe('bad');
  });

  it('an update to B arms one tryboot; marking B good once it runs commits it', () => {
    ok('set-state', 'B', 'bad'); // RAUC, before it writes the slot
    ok('set-primary', 'B');
    expect(readFileSync(reboot, 'utf8')).toBe('0 tryboot\n');
    expect(ok('get-primary')).toBe('B');
    expect(committed()).toBe('2');
    rebootBox();
    expect(ok('get-current')).toBe('B');
    ok('set-state', 'B', 'good'); // rauc status mark-good, after the box checked itself
    expect(committed()).toBe('3');
    expect(ok('get-primary')).toBe('B');
    expect(ok('get-state', 'B')).toBe('good');
    rebootBox();
    expect(ok('get-current')).toBe('B');
  });

  it('a try that never gets marked good (a hang, a watchdog reset) falls back to A on the next boot', () => {
    ok('set-primary', 'B');
    rebootBox();
    expect(ok('get-current')).toBe('B');
    rebootBox(); // the watchdog resets the box: no tryboot flag this time
    expect(ok('get-current')).toBe('A');
    expect(ok('get-primary')).toBe('A');
    expect(ok('get-state', 'B')).toBe('bad');
  });

  it('making the committed slot primary again disarms a pending tryboot', () => {
    ok('set-primary', 'B');
    ok('set-primary', 'A');
    expect(existsSync(reboot)).toBe(false);
    rebootBox();
    expect(ok('get-current')).toBe('A');
  });

  it('marking the committed slot bad commits the other one', () => {
    ok('set-state', 'A', 'bad');
    expect(committed()).toBe('3');
    expect(ok('get-primary')).toBe('B');
  });

  it('refuses to mark good a slot that is not running, and names an unknown slot or command', () => {
    const notRunning = backend('set-state', 'B', 'good');
    expect(notRunning.status).not.toBe(0);
    expect(notRunning.err).toMatch(/slot B is not running/);
    expect(committed()).toBe('2');
    expect(backend('set-primary', 'C').err).toMatch(/unknown slot 'C'/);
    expect(backend('reboot-now').err).toMatch(/unknown command 'reboot-now'/);
    expect(backend('set-state', 'A', 'meh').err).toMatch(/unknown state 'meh'/);
  });

  it('falls back to rauc.slot= on the kernel command line when the firmware names no partition', () => {
    rmSync(join(dt, 'partition'));
    const cmdline = join(tmp.dir, 'cmdline');
    writeFileSync(cmdline, 'root=PARTLABEL=rootfs-b rootfstype=ext4 rootwait ro rauc.slot=B console=tty1 quiet\n');
    const slot = spawnSync(join(board, 'tryboot.sh'), ['get-current'], { env: { ...env, HUSHBOX_TRYBOOT_CMDLINE: cmdline }, encoding: 'utf8' });
    expect(slot.stdout.trim()).toBe('B');
    writeFileSync(cmdline, 'root=/dev/sda1 quiet\n');
    const none = spawnSync(join(board, 'tryboot.sh'), ['get-current'], { env: { ...env, HUSHBOX_TRYBOOT_CMDLINE: cmdline }, encoding: 'utf8' });
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/cannot tell the running slot/);
  });
});
