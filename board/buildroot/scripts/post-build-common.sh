#!/bin/sh
# What every hushbox image gets once its packages are installed: the
# version stamped into os-release, the data partition in fstab, no login
# prompt on any console. Called by each board's post-build.sh as
#   post-build-common.sh TARGET_DIR BOARD
set -eu

target="${1:?TARGET_DIR}"
board="${2:?BOARD}"
here="$(cd "$(dirname "$0")" && pwd)"
version="$("$here/version.sh")"

# os-release: what the box (and `hushbox doctor`) reports as its build.
cat >"$target/usr/lib/os-release" <<OSRELEASE
NAME=hushbox
ID=hushbox
ID_LIKE=buildroot
PRETTY_NAME="hushbox $version ($board)"
VERSION="$version"
VERSION_ID="$version"
IMAGE_ID="hushbox-$board"
IMAGE_VERSION="$version"
VARIANT_ID="$board"
OSRELEASE
ln -sf ../usr/lib/os-release "$target/etc/os-release"

# The root stays read-only (Buildroot writes "/dev/root / auto ro"); presets,
# settings, the broker's state and RAUC's state live on the data partition.
mkdir -p "$target/data"
grep -q '[[:space:]]/data[[:space:]]' "$target/etc/fstab" ||
	echo "LABEL=hushbox-data /data ext4 defaults,noatime,x-systemd.growfs 0 2" >>"$target/etc/fstab"

# A production box offers no login on its screen or serial line.
for unit in getty.target getty@.service serial-getty@.service console-getty.service; do
	ln -sf /dev/null "$target/etc/systemd/system/$unit"
done
