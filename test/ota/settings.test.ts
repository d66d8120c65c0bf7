import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { otaSettings, parseRaucStatus } from '../../src/ota/rauc.js';

describe('OTA settings', () => {
  it("take the compatible and keyring from the box's RAUC system.conf", () => {
    for (const [file, compatible] of [
      ['system-x86_64.conf', 'hushbox-x86_64'],
      ['system-rpi4.conf', 'hushbox-rpi4'],
    ]) {
      const s = otaSettings({ HUSHBOX_RAUC_CONF: join(packageRoot, 'ota', file!) });
      expect(s.compatible).toBe(compatible);
      expect(s.keyring).toBe('/etc/rauc/keyring.pem');
      expect(s.maxBundleBytes).toBe(1024 * 1024 * 1024);
    }
  });

  it("fall back to the development keyring in ota/dev-keys where there is no RAUC system", () => {
    const s = otaSettings({ HUSHBOX_RAUC_CONF: '/nonexistent/system.conf' });
    expect(s.keyring).toBe(join(packageRoot, 'ota', 'dev-keys', 'keyring.pem'));
    expect(s.compatible).toMatch(/^hushbox-(x86_64|rpi4)$/);
  });

  it('refuse a size limit that is not a positive number of bytes', () => {
    expect(() => otaSettings({ HUSHBOX_OTA_MAX_BYTES: '12MB' })).toThrow(/HUSHBOX_OTA_MAX_BYTES: expected a positive whole number/);
  });

  it("read RAUC 1.8's status JSON into slots and the booted slot", () => {
    const status = parseRaucStatus({
      compatible: 'hushbox-x86_64',
      variant: '',
      booted: 'A',
      boot_primary: 'rootfs.0',
      slots: [
        { 'efi.0': { class: 'efi', device: '/dev/disk/by-partlabel/efi', type: 'vfat', bootname: null, state: 'inactive', parent: null, mountpoint: null, boot_status: null } },
        {
          'rootfs.0': {
            class: 'rootfs', device: '/dev/disk/by-partlabel/rootfs-a', type: 'ext4', bootname: 'A', state: 'booted', parent: null, mountpoint: '/', boot_status: 'good',
            slot_status: { bundle: { compatible: 'hushbox-x86_64', version: '1.0.0' }, status: 'ok' },
          },
        },
        { 'rootfs.1': { class: 'rootfs', device: '/dev/disk/by-partlabel/rootfs-b', type: 'ext4', bootname: 'B', state: 'inactive', parent: null, mountpoint: null, boot_status: 'bad' } },
      ],
    });
    expect(status).toEqual({
      available: true,
      compatible: 'hushbox-x86_64',
      booted: 'A',
      bootPrimary: 'rootfs.0',
      slots: [
        { name: 'efi.0', class: 'efi', bootname: null, state: 'inactive', bootStatus: null, bundleVersion: null },
        { name: 'rootfs.0', class: 'rootfs', bootname: 'A', state: 'booted', bootStatus: 'good', bundleVersion: '1.0.0' },
        { name: 'rootfs.1', class: 'rootfs', bootname: 'B', state: 'inactive', bootStatus: 'bad', bundleVersion: null },
      ],
    });
  });
});
