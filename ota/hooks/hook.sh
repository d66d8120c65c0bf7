#!/bin/sh
# RAUC bundle hook (manifest [hooks] filename=hook.sh). RAUC calls it with the
# hook's name as $1 and the slot in RAUC_SLOT_* variables.
#
# slot-post-install (rootfs): stamps the new slot with the bundle it came from,
# in /etc/hushbox-bundle, so the supervisor can name what it booted. It never
# touches the data partition: presets, settings and the audit log live there
# and must come through an update as they were.
set -eu

case "${1:-}" in
slot-post-install)
	[ "${RAUC_SLOT_CLASS:-}" = rootfs ] || exit 0
	mnt="${RAUC_SLOT_MOUNT_POINT:?RAUC_SLOT_MOUNT_POINT not set}"
	mkdir -p "$mnt/etc"
	{
		echo "HUSHBOX_BUNDLE_VERSION=${RAUC_MF_VERSION:-unknown}"
		echo "HUSHBOX_BUNDLE_COMPATIBLE=${RAUC_MF_COMPATIBLE:-unknown}"
		echo "HUSHBOX_SLOT=${RAUC_SLOT_NAME:-unknown}"
		echo "HUSHBOX_SLOT_BOOTNAME=${RAUC_SLOT_BOOTNAME:-unknown}"
	} >"$mnt/etc/hushbox-bundle.tmp"
	mv "$mnt/etc/hushbox-bundle.tmp" "$mnt/etc/hushbox-bundle"
	sync
	;;
*)
	# other hooks are not used by this bundle
	exit 0
	;;
esac
