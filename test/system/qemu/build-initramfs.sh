#!/bin/sh
# Builds a small initramfs that boots Debian's PREEMPT_RT kernel straight into
# the ALSA system test: busybox, the engine and its shared libraries, alsa-lib's
# configuration, the snd-aloop module and its dependencies, and init.sh as /init.
#
#   build-initramfs.sh OUT_DIR ENGINE_BINARY [RT_GUARD_LIBRARY]
# Writes OUT_DIR/initramfs.cpio.gz and prints the kernel image to boot.
# HB_MODULES (default snd-aloop): the modules to carry, with their dependencies;
# HB_INIT (default init.sh, beside this script): the /init to run;
# HB_BINS: more programs to carry with their libraries (alsa-utils' amidi).
set -eu

out="$1"
engine="$2"
guard="${3:-}"
here="$(cd "$(dirname "$0")" && pwd)"

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "missing $1: install the Debian package $2 (scripts/prepare.mjs TEST_DEBS)" >&2
    exit 3
  fi
}
need busybox busybox-static
need cpio cpio
need qemu-system-x86_64 qemu-system-x86

kver=""
for d in /lib/modules/*-rt-amd64; do
  [ -d "$d" ] && kver="$(basename "$d")"
done
if [ -z "$kver" ] || [ ! -f "/boot/vmlinuz-$kver" ]; then
  echo "missing the PREEMPT_RT kernel: install the Debian package linux-image-rt-amd64 (/boot/vmlinuz-*-rt-amd64 and /lib/modules/*-rt-amd64)" >&2
  exit 3
fi
if [ ! -x "$engine" ]; then
  echo "missing the engine binary $engine: run npm run build" >&2
  exit 3
fi

root="$out/root"
rm -rf "$root"
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/mods" \
  "$root/usr/local/bin" "$root/usr/share" "$root/lib" "$root/lib64"
cp "$(command -v busybox)" "$root/bin/busybox"
cp "$engine" "$root/usr/local/bin/hushbox-engine"
for bin in ${HB_BINS:-}; do
  if [ ! -x "$bin" ]; then
    echo "missing $bin: install the Debian package alsa-utils (scripts/prepare.mjs TEST_DEBS)" >&2
    exit 3
  fi
  cp "$bin" "$root/usr/local/bin/"
  ldd "$bin" | awk '/=>/ { print $3 }' | while read -r lib; do
    [ -f "$lib" ] && [ ! -f "$root$lib" ] && mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
    true
  done
done
if [ -n "$guard" ]; then cp "$guard" "$root/usr/local/lib-rt-guard.so"; fi

# Shared libraries at the paths the dynamic loader expects.
ldd "$engine" | awk '/=>/ { print $3 } !/=>/ && /^\t\// { print $1 }' | while read -r lib; do
  [ -f "$lib" ] || continue
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
if [ -n "$guard" ]; then
  ldd "$guard" | awk '/=>/ { print $3 }' | while read -r lib; do
    [ -f "$lib" ] && [ ! -f "$root$lib" ] && mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
    true
  done
fi
# alsa-lib reads its configuration even for hw: names.
cp -r /usr/share/alsa "$root/usr/share/alsa"

# The modules and what they need, in load order (dependencies first), each once.
moddir="/lib/modules/$kver"
: >"$root/mods/order"
for want in ${HB_MODULES:-snd-aloop}; do
  deps="$(awk -F': ' -v m="/$want.ko" 'index($1, m) { print $2 }' "$moddir/modules.dep")"
  order=""
  for m in $deps; do order="$m $order"; done
  for m in $order $(awk -F: -v m="/$want.ko" 'index($1, m) { print $1 }' "$moddir/modules.dep"); do
    name="$(basename "$m")"
    name="${name%.xz}"
    name="${name%.zst}"
    grep -qx "$name" "$root/mods/order" && continue
    case "$m" in
      *.ko) cp "$moddir/$m" "$root/mods/" ;;
      *.ko.xz) xz -dc "$moddir/$m" >"$root/mods/$name" ;;
      *.ko.zst) zstd -dcq "$moddir/$m" >"$root/mods/$name" ;;
    esac
    echo "$name" >>"$root/mods/order"
  done
done

cp "$here/${HB_INIT:-init.sh}" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.cpio.gz"
echo "/boot/vmlinuz-$kver"
