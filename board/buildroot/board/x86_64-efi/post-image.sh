#!/bin/sh
# x86-64 EFI: grub.cfg and a first grubenv beside GRUB on the EFI
# partition, then disk.img and the update bundle.
set -eu

board_dir="$(cd "$(dirname "$0")" && pwd)"
: "${BINARIES_DIR:?run from Buildroot}"
efi="$BINARIES_DIR/efi-part/EFI/BOOT"
[ -f "$efi/bootx64.efi" ] || {
	echo "post-image: $efi/bootx64.efi missing (BR2_TARGET_GRUB2_X86_64_EFI)" >&2
	exit 1
}
install -m 0644 "$board_dir/grub.cfg" "$efi/grub.cfg"

# GRUB's environment block: 1024 bytes, a header, the variables, '#' padding.
env="# GRUB Environment Block
ORDER=A B
A_OK=1
B_OK=1
A_TRY=0
B_TRY=0
"
{
	printf '%s' "$env"
	head -c $((1024 - ${#env})) /dev/zero | tr '\0' '#'
} >"$efi/grubenv"

"$board_dir/../../scripts/post-image-common.sh" "$board_dir/genimage.cfg" hushbox-x86_64
