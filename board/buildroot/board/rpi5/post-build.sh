#!/bin/sh
# Raspberry Pi 5: the shared steps, then RAUC's tryboot backend and the
# handler that points boot B at rootfs B.
set -eu

target="${1:?TARGET_DIR}"
board_dir="$(cd "$(dirname "$0")" && pwd)"
"$board_dir/../../scripts/post-build-common.sh" "$target" rpi5

install -D -m 0755 "$board_dir/tryboot.sh" "$target/usr/libexec/hushbox/rauc-tryboot"
install -D -m 0755 "$board_dir/post-install.sh" "$target/usr/libexec/hushbox/rauc-post-install"
