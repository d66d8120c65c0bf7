#!/bin/sh
# x86-64 EFI: the shared steps, then the EFI partition mounted where RAUC's
# GRUB backend finds grubenv (ota/system-x86_64.conf).
set -eu

target="${1:?TARGET_DIR}"
board_dir="$(cd "$(dirname "$0")" && pwd)"
"$board_dir/../../scripts/post-build-common.sh" "$target" x86_64-efi

mkdir -p "$target/boot/efi"
grep -q '[[:space:]]/boot/efi[[:space:]]' "$target/etc/fstab" ||
	echo "PARTLABEL=efi /boot/efi vfat defaults,noatime,flush 0 2" >>"$target/etc/fstab"
