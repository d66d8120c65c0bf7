import type { RootFs } from './root-fs.js';

/** A threaded interrupt handler (PREEMPT_RT, or threadirqs): a kernel thread `irq/N-name`. */
export interface IrqThread {
  pid: number;
  irq: number;
  name: string;
  kind: 'usb' | 'sound';
}

const USB = /xhci|ehci|ohci|uhci|dwc_otg|dwc2|dwc3|usb/i;
const SOUND = /^snd|audio|hda/i;

/** Device names per IRQ number from /proc/interrupts (the last column). */
export function interruptNames(fs: RootFs): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of (fs.read('proc/interrupts') ?? '').split('\n')) {
    const m = /^\s*(\d+):.*?\s(\S+)\s*$/.exec(line);
    if (m) out.set(Number(m[1]), m[2]!);
  }
  return out;
}

/** The USB host controller and sound card IRQ threads, found as rtirq finds them. */
export function findIrqThreads(fs: RootFs): IrqThread[] {
  const names = interruptNames(fs);
  const out: IrqThread[] = [];
  for (const e of fs.list('proc')) {
    if (!/^\d+$/.test(e)) continue;
    const comm = fs.value(`proc/${e}/comm`);
    const m = comm ? /^irq\/(\d+)-(.+)$/.exec(comm) : null;
    if (!m) continue;
    const irq = Number(m[1]);
    // comm is cut at 15 characters; /proc/interrupts has the full device name.
    const name = names.get(irq) ?? m[2]!;
    const kind = SOUND.test(name) || SOUND.test(m[2]!) ? 'sound' : USB.test(name) || USB.test(m[2]!) ? 'usb' : null;
    if (kind) out.push({ pid: Number(e), irq, name, kind });
  }
  return out.sort((a, b) => a.irq - b.irq);
}
