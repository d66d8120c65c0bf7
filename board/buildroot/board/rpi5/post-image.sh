#!/bin/sh
# Raspberry Pi 5: the config partition's autoboot.txt, boot B's command
# line, then sdcard.img and the update bundle (which carries boot A's image).
set -eu

board_dir="$(cd "$(dirname "$0")" && pwd)"
: "${BINARIES_DIR:?run from Buildroot}"
cp "$board_dir/autoboot.txt" "$BINARIES_DIR/autoboot.txt"
sed -e 's/PARTLABEL=rootfs-a/PARTLABEL=rootfs-b/' -e 's/rauc\.slot=A/rauc.slot=B/' \
	"$BINARIES_DIR/rpi-firmware/cmdline.txt" >"$BINARIES_DIR/cmdline-b.txt"
"$board_dir/../../scripts/post-image-common.sh" "$board_dir/genimage.cfg" hushbox-rpi5 boot.vfat
