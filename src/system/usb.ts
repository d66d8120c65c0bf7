import type { RootFs } from './root-fs.js';

/** A USB device from /sys/bus/usb/devices. */
export interface UsbDevice {
  /** The sysfs name, e.g. '1-1.3'. */
  bus: string;
  vendorId: number;
  productId: number;
  product: string;
  manufacturer: string;
  /** bInterfaceClass of each interface (1 audio, 8 mass storage, 0xff vendor). */
  interfaceClasses: number[];
  /** power/control: 'on' (never suspend) or 'auto'; null when absent. */
  powerControl: string | null;
  autosuspendDelayMs: number | null;
}

export function listUsbDevices(fs: RootFs): UsbDevice[] {
  const entries = fs.list('sys/bus/usb/devices');
  return entries
    .filter((e) => /^\d+-[\d.]+$/.test(e) && fs.exists(`sys/bus/usb/devices/${e}/idVendor`))
    .map((e) => {
      const dir = `sys/bus/usb/devices/${e}`;
      const hex = (f: string) => parseInt(fs.value(`${dir}/${f}`) ?? '', 16);
      const delay = fs.value(`${dir}/power/autosuspend_delay_ms`);
      return {
        bus: e,
        vendorId: hex('idVendor'),
        productId: hex('idProduct'),
        product: fs.value(`${dir}/product`) ?? '',
        manufacturer: fs.value(`${dir}/manufacturer`) ?? '',
        interfaceClasses: entries
          .filter((i) => i.startsWith(`${e}:`))
          .map((i) => parseInt(fs.value(`sys/bus/usb/devices/${i}/bInterfaceClass`) ?? '', 16))
          .filter((n) => !Number.isNaN(n)),
        powerControl: fs.value(`${dir}/power/control`),
        autosuspendDelayMs: delay === null ? null : Number(delay),
      };
    });
}

export function usbId(d: { vendorId: number; productId: number }): string {
  return `${d.vendorId.toString(16).padStart(4, '0')}:${d.productId.toString(16).padStart(4, '0')}`;
}
