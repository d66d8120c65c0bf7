#!/bin/sh
# The initramfs of the aarch64 test VM: a static init (init.c), the aarch64
# native test binary and every shared library it needs, from the cross
# toolchain's sysroot and Debian's arm64 multiarch folders.
#   build-initramfs.sh OUT_DIR TEST_BINARY   (prints the initramfs path)
set -eu

out="${1:?OUT_DIR}"
binary="${2:?TEST_BINARY}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$out/root"
rm -rf "$root"
mkdir -p "$root/lib"

aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -Werror -o "$root/init" "$here/init.c"
cp "$binary" "$root/hushbox-native-tests"

find_lib() {
	for dir in /usr/aarch64-linux-gnu/lib /usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu; do
		if [ -e "$dir/$1" ]; then
			echo "$dir/$1"
			return 0
		fi
	done
	echo "build-initramfs: no aarch64 $1 (apt-get install the :arm64 -dev packages)" >&2
	return 1
}

# The libraries the binary needs, and theirs, once each.
todo="$root/hushbox-native-tests"
while [ -n "$todo" ]; do
	next=""
	for file in $todo; do
		for lib in $(aarch64-linux-gnu-readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			[ -e "$root/lib/$lib" ] && continue
			src="$(find_lib "$lib")"
			cp -L "$src" "$root/lib/$lib"
			next="$next $root/lib/$lib"
		done
	done
	todo="$next"
done
cp -L "$(find_lib ld-linux-aarch64.so.1)" "$root/lib/ld-linux-aarch64.so.1"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs-arm64.cpio.gz"
echo "$out/initramfs-arm64.cpio.gz"
