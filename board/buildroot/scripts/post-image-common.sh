#!/bin/sh
# The disk image from the board's genimage config, then a signed RAUC
# bundle of the same root filesystem. Called by each board's post-image.sh as
#   post-image-common.sh GENIMAGE_CFG COMPATIBLE [BOOT_IMAGE]
# (BOOT_IMAGE: a boot partition image that updates carry too, the Pi 5's).
# The bundle is signed with $HUSHBOX_SIGNING_CERT/$HUSHBOX_SIGNING_KEY, or
# with the development key when they are not set (ota/KEYS.md).
set -eu

cfg="${1:?GENIMAGE_CFG}"
compatible="${2:?COMPATIBLE}"
boot="${3:-}"
here="$(cd "$(dirname "$0")" && pwd)"
: "${BINARIES_DIR:?run from Buildroot}"
: "${BUILD_DIR:?run from Buildroot}"

echo "hushbox: disk image from $cfg"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
rm -rf "$BUILD_DIR/genimage.tmp"
genimage \
	--rootpath "$root" \
	--tmppath "$BUILD_DIR/genimage.tmp" \
	--inputpath "$BINARIES_DIR" \
	--outputpath "$BINARIES_DIR" \
	--config "$cfg"

version="$("$here/version.sh")"
bundle="$BINARIES_DIR/$compatible-$version.raucb"
echo "hushbox: update bundle $bundle"
rm -f "$bundle"
set -- --image "$BINARIES_DIR/rootfs.ext4" --version "$version" \
	--compatible "$compatible" --out "$bundle"
[ -z "$boot" ] || set -- "$@" --boot "$BINARIES_DIR/$boot"
if [ -n "${HUSHBOX_SIGNING_CERT:-}" ]; then
	set -- "$@" --cert "$HUSHBOX_SIGNING_CERT" --key "${HUSHBOX_SIGNING_KEY:?HUSHBOX_SIGNING_KEY}"
fi
"$here/../../../ota/build-bundle.sh" "$@"
