#!/bin/sh
# mmdebstrap customize hook of the root step (build.sh): $1 is the new root.
# What needs the packages' own tools; everything else is done on the tree by
# configure.sh, so that changing it does not rerun mmdebstrap.
set -eu
root="$1"
# No compiler in the image: the native parts are built on the build machine.
if chroot "$root" dpkg-query -W -f '${Package}\n' | grep -E '^(gcc|g\+\+|cpp|clang|make)(-[0-9.]+)?$'; then
	echo "root-hook: a compiler got into the image (above); find which package pulls it in" >&2
	exit 1
fi
ls "$root"/boot/vmlinuz-* "$root"/boot/initrd.img-* >/dev/null || {
	echo "root-hook: no kernel or initramfs in /boot" >&2
	exit 1
}
# apt's lists and caches are of no use on a read-only root.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
