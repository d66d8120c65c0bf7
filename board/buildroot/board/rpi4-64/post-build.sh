#!/bin/sh
# Raspberry Pi 4: the shared steps, then what U-Boot and RAUC need: the
# boot partition mounted where fw_setenv finds uboot.env.
set -eu

target="${1:?TARGET_DIR}"
board_dir="$(cd "$(dirname "$0")" && pwd)"
"$board_dir/../../scripts/post-build-common.sh" "$target" rpi4-64

install -D -m 0644 "$board_dir/fw_env.config" "$target/etc/fw_env.config"
mkdir -p "$target/boot/firmware"
grep -q '[[:space:]]/boot/firmware[[:space:]]' "$target/etc/fstab" ||
	echo "/dev/mmcblk0p1 /boot/firmware vfat defaults,noatime,flush 0 2" >>"$target/etc/fstab"
