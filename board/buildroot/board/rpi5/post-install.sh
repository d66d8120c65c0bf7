#!/bin/sh
# RAUC post-install handler (system.conf [handlers] post-install): a boot
# partition image names rootfs A on its kernel command line; when it was
# written to boot B, point it at rootfs B.
set -eu

for i in ${RAUC_TARGET_SLOTS:-}; do
	class=""
	parent=""
	device=""
	eval "class=\${RAUC_SLOT_CLASS_$i:-}"
	eval "parent=\${RAUC_SLOT_PARENT_$i:-}"
	eval "device=\${RAUC_SLOT_DEVICE_$i:-}"
	if [ "$class" != boot ] || [ "$parent" != rootfs.1 ]; then
		continue
	fi
	mnt="$(mktemp -d /run/hushbox-boot.XXXXXX)"
	mount -t vfat "$device" "$mnt"
	sed -e 's/PARTLABEL=rootfs-a/PARTLABEL=rootfs-b/' -e 's/rauc\.slot=A/rauc.slot=B/' \
		"$mnt/cmdline.txt" >"$mnt/cmdline.txt.new"
	mv "$mnt/cmdline.txt.new" "$mnt/cmdline.txt"
	sync
	umount "$mnt"
	rmdir "$mnt"
	echo "hushbox: $device (boot B) now starts rootfs B"
done
