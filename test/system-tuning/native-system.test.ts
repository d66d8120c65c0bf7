// The addon's system calls, for real: on a child process, and sd_notify to a real datagram socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeControls, nativeSystemCalls } from '../../src/system/native-system.js';
import { RootFs } from '../../src/system/root-fs.js';
import { SystemdService } from '../../src/system/systemd.js';
import { Tuner } from '../../src/system/tuning.js';
import { tempDir, contextWith, waitFor } from '../fakes/context.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function child(): ChildProcess {
  const c = spawn('sleep', ['30'], { stdio: 'ignore' });
  cleanups.push(() => void c.kill('SIGKILL'));
  return c;
}

/** A unix datagram socket that collects what arrives (python3: Node has no AF_UNIX datagrams). */
async function datagramSink(path: string): Promise<{ messages: string[]; close: () => void }> {
  const py = spawn('python3', ['-u', '-c', [
    'import socket,sys',
    's=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(path)})`,
    'print("ready", flush=True)',
    'while True:',
    '  d=s.recv(4096)',
    '  sys.stdout.write(d.decode().replace("\\n","|")+"\\n"); sys.stdout.flush()',
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  let buf = '';
  let ready: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  py.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'ready') ready();
      else messages.push(line);
    }
  });
  await isReady;
  return { messages, close: () => void py.kill('SIGKILL') };
}

describe('native system calls', () => {
  const sys = nativeSystemCalls();

  it('sets and reads SCHED_FIFO priority of another process', async () => {
    const c = child();
    await once(c, 'spawn');
    expect(sys.getScheduler(c.pid!)).toEqual({ policy: 'other', priority: 0 });
    sys.setScheduler(c.pid!, 'fifo', 42);
    expect(sys.getScheduler(c.pid!)).toEqual({ policy: 'fifo', priority: 42 });
    sys.setScheduler(c.pid!, 'other', 0);
    expect(sys.getScheduler(c.pid!).policy).toBe('other');
  });

  it('sets and reads CPU affinity of another process', async () => {
    const c = child();
    await once(c, 'spawn');
    const all = sys.getAffinity(c.pid!);
    expect(all.length).toBeGreaterThanOrEqual(1);
    sys.setAffinity(c.pid!, [all.at(-1)!]);
    expect(sys.getAffinity(c.pid!)).toEqual([all.at(-1)]);
  });

  it('answers errors with an errno code', () => {
    expect(() => sys.setScheduler(0x3ffffff, 'fifo', 10)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(() => sys.setScheduler(process.pid, 'fifo', 500)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => sys.setScheduler(process.pid, 'deadline' as never, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => sys.setAffinity(process.pid, [])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => nativeControls().list('hw:NoSuchCard')).toThrow(expect.objectContaining({ code: 'ECTL_OPEN' }));
  });

  it('tunes an IRQ thread and the supervisor affinity for real, and undoes it (a child process stands in)', async () => {
    const irq = child();
    const self = child();
    await Promise.all([once(irq, 'spawn'), once(self, 'spawn')]);
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const fake = new RootFs(tmp.dir);
    const put = (p: string, v: string) => {
      mkdirSync(dirname(fake.path(p)), { recursive: true });
      writeFileSync(fake.path(p), v);
    };
    put(`proc/${irq.pid}/comm`, 'irq/99-xhci_hcd\n');
    put('proc/interrupts', '           CPU0       CPU1\n 99:       1234          0  IR-PCI-MSI 327680-edge      xhci_hcd\n');
    put(`proc/${self.pid}/task/${self.pid}/stat`, '');
    const cpus = sys.getAffinity(self.pid!);
    put('sys/devices/system/cpu/online', cpus.length > 1 ? `0-${cpus.length - 1}\n` : '0\n');
    put('proc/cmdline', `isolcpus=${cpus.at(-1)}\n`);
    const tuner = new Tuner(fake, sys, { enabled: true, audioCpu: -1, irqPriority: 60, engineDevice: 'hw:Gen', swappiness: 10, selfPid: self.pid! });
    const steps = Object.fromEntries(tuner.apply().map((s) => [s.id, s]));
    expect(steps['irq-priorities']!.status).toBe('done');
    expect(sys.getScheduler(irq.pid!)).toEqual({ policy: 'fifo', priority: 55 });
    if (cpus.length > 1) {
      expect(steps['cpu-layout']!.status).toBe('done');
      expect(sys.getAffinity(self.pid!)).not.toContain(cpus.at(-1));
    }
    expect(tuner.undo()).toEqual([]);
    expect(sys.getScheduler(irq.pid!)).toEqual({ policy: 'other', priority: 0 });
    expect(sys.getAffinity(self.pid!)).toEqual(cpus);
  });

  it('sends sd_notify datagrams to a unix socket, and reports no socket as false', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const path = join(tmp.dir, 'notify.sock');
    const sink = await datagramSink(path);
    cleanups.push(sink.close);
    expect(existsSync(path)).toBe(true);
    expect(sys.sdNotify('READY=1\nSTATUS=test', path)).toBe(true);
    await waitFor('the datagram', () => sink.messages.length > 0);
    expect(sink.messages[0]).toBe('READY=1|STATUS=test');
    const saved = process.env.NOTIFY_SOCKET;
    delete process.env.NOTIFY_SOCKET;
    try {
      expect(sys.sdNotify('READY=1')).toBe(false);
    } finally {
      if (saved !== undefined) process.env.NOTIFY_SOCKET = saved;
    }
    expect(() => sys.sdNotify('READY=1', join(tmp.dir, 'nobody-listens'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('tells systemd READY=1 at start and pings the watchdog at half of WATCHDOG_USEC', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const path = join(tmp.dir, 'notify.sock');
    const sink = await datagramSink(path);
    cleanups.push(sink.close);
    const svc = new SystemdService(contextWith(), { NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) });
    expect(svc.watchdogIntervalMs()).toBe(100);
    // While the supervisor starts: each service started extends systemd's start timeout.
    svc.progress('engine', 60_000);
    await waitFor('the start\'s progress', () => sink.messages.length >= 1, 3000);
    expect(sink.messages[0]).toBe('EXTEND_TIMEOUT_USEC=60000000|STATUS=starting: engine started');
    await svc.start();
    await waitFor('three watchdog pings', () => sink.messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 3000);
    expect(sink.messages[1]).toMatch(/^READY=1\|/);
    // The first ping goes with READY=1, not half a watchdog period later.
    expect(sink.messages[2]).toBe('WATCHDOG=1');
    // Once ready, progress says nothing more.
    svc.progress('late');
    await svc.stop();
    await waitFor('STOPPING=1', () => sink.messages.includes('STOPPING=1'));
    expect(sink.messages.filter((m) => m.includes('late'))).toEqual([]);
    const n = sink.messages.length;
    await new Promise((r) => setTimeout(r, 250));
    expect(sink.messages.length).toBe(n);
    // Not under systemd: nothing to do.
    const quiet = new SystemdService(contextWith(), {});
    await quiet.start();
    await quiet.stop();
    expect(new SystemdService(contextWith(), { WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }).watchdogIntervalMs()).toBeNull();
  });
});
