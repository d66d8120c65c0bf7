#!/bin/sh
# Step "overlay" of board/debian/build.sh, on the unpacked root tree:
#   configure.sh TREE VERSION
# Enables and masks units, stamps the version, and prepares what a read-only
# root needs (mount points, an empty machine id, the kernel's stable names).
set -eu
tree="$1"
version="$2"
[ -d "$tree/usr/lib/systemd" ] || { echo "configure: $tree is not a root tree" >&2; exit 1; }

# The version, where people and programs look for it. IMAGE_VERSION and
# VERSION_ID are what the box reports; /usr/lib/hushbox/package.json carries
# the same version for the supervisor (build.sh, step app).
rm -f "$tree/etc/os-release"
cat >"$tree/etc/os-release" <<OS
PRETTY_NAME="hushbox $version (Debian trixie)"
NAME="hushbox"
ID=hushbox
ID_LIKE=debian
VERSION="$version"
VERSION_ID="$version"
VERSION_CODENAME=trixie
IMAGE_ID=hushbox-x86_64
IMAGE_VERSION="$version"
HOME_URL="https://github.com/hushbox/hushbox"
OS
cp "$tree/etc/os-release" "$tree/usr/lib/os-release"

echo hushbox >"$tree/etc/hostname"
cat >"$tree/etc/hosts" <<HOSTS
127.0.0.1	localhost
127.0.1.1	hushbox
::1		localhost ip6-localhost ip6-loopback
HOSTS

# An empty file: the initramfs binds /data/etc/machine-id over it.
: >"$tree/etc/machine-id"
rm -f "$tree/var/lib/dbus/machine-id"
ln -sf /etc/machine-id "$tree/var/lib/dbus/machine-id"
mkdir -p "$tree/data" "$tree/boot/efi"

# GRUB boots /boot/vmlinuz and /boot/initrd.img of the slot.
kernel="$(cd "$tree/boot" && ls vmlinuz-* | head -n 1)"
initrd="$(cd "$tree/boot" && ls initrd.img-* | head -n 1)"
ln -sf "$kernel" "$tree/boot/vmlinuz"
ln -sf "$initrd" "$tree/boot/initrd.img"
rm -f "$tree/vmlinuz" "$tree/vmlinuz.old" "$tree/initrd.img" "$tree/initrd.img.old"

sc() { systemctl --root="$tree" --quiet "$@"; }
sc enable systemd-networkd.service systemd-resolved.service avahi-daemon.service mosquitto.service \
	hushbox.service hushbox-identity.service hushbox-mqtt-credentials.service hushbox-reset-file.service
# No login prompt anywhere (the box is an appliance; the debug shell is opt-in, see grub.cfg).
sc mask getty@.service serial-getty@.service console-getty.service getty-static.service
# Without a network cable this would hold the boot for 2 minutes.
sc mask systemd-networkd-wait-online.service
# The root is read-only: nothing to commit, no first-boot questions, no package timers.
sc mask systemd-machine-id-commit.service systemd-firstboot.service \
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service \
	systemd-update-utmp.service systemd-update-utmp-runlevel.service 2>/dev/null || true
# What an appliance with no logins, no containers and no kernel debugging does not
# use: each is a process or a mount early in every boot, competing with udev and the
# supervisor for the CPU (a few seconds of power-on under QEMU, bench/image.mjs).
# logind and the user sessions serve logins (there are none; the debug shell is
# root's without them); the modprobe@ and mount units are for DRM, FUSE, configfs,
# hugepages, POSIX message queues, debugfs and tracefs; the generator and the
# credentials loader read network settings and udev credentials from the kernel's
# command line; the catalog and update-done units act on package updates, which a
# read-only root never has.
sc mask systemd-logind.service systemd-user-sessions.service \
	modprobe@drm.service modprobe@fuse.service modprobe@configfs.service modprobe@dm_mod.service modprobe@loop.service modprobe@efi_pstore.service \
	dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount sys-kernel-config.mount \
	systemd-network-generator.service systemd-udev-load-credentials.service \
	systemd-journal-catalog-update.service systemd-update-done.service
# RAUC marks a slot good only when the supervisor says so (after its checks):
# nothing marks it at boot.
for unit in rauc-mark-good.service; do
	if [ -e "$tree/usr/lib/systemd/system/$unit" ]; then sc mask "$unit"; fi
done

# Every library the engine and the addon link is in the image (they were built on this machine).
for bin in /usr/lib/hushbox/build/native/hushbox-engine /usr/lib/hushbox/build/native/Release/hushbox.node; do
	if missing="$(chroot "$tree" /usr/bin/ldd "$bin" 2>&1 | grep 'not found')"; then
		echo "configure: $bin needs libraries the image lacks (add their packages to board/debian/packages):" >&2
		echo "$missing" >&2
		exit 1
	fi
done

# Users of the journal's files.
mkdir -p "$tree/var/log/journal"
echo "configure: $version"
