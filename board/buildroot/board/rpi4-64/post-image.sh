#!/bin/sh
# Raspberry Pi 4: sdcard.img and the update bundle.
set -eu

board_dir="$(cd "$(dirname "$0")" && pwd)"
"$board_dir/../../scripts/post-image-common.sh" "$board_dir/genimage.cfg" hushbox-rpi4
