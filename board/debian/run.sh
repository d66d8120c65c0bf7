#!/bin/sh
# Boots the built image in QEMU (npm run image:run), as a PC would:
# OVMF (EFI), software emulation (TCG), a sound card (Intel HDA), a hardware
# watchdog (i6300esb), user-mode networking with the front panel forwarded to
# http://localhost:8080 and the box's MQTT broker to a free port.
# The serial console is on this terminal (Ctrl-A X quits QEMU).
#
# The built image is not changed: the box writes to a copy-on-write overlay in
# a temporary directory, gone when QEMU ends (HUSHBOX_QEMU_KEEP=DIR keeps it in DIR
# and boots from it again next time).
#
#   HUSHBOX_QEMU_HTTP   host port for the front panel (default 8080)
#   HUSHBOX_QEMU_MQTT   host port for MQTT (default: a free one)
#   HUSHBOX_QEMU_DISK   size of the box's disk (default 4G; /data grows to fill it)
#   HUSHBOX_QEMU_MEM    memory in MiB (default 1024)
#   HUSHBOX_IMAGE       the raw image (default build/image/hushbox-x86_64.img)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
img="${HUSHBOX_IMAGE:-$repo/build/image/hushbox-x86_64.img}"
[ -f "$img" ] || { echo "image:run: $img does not exist: build it with npm run image" >&2; exit 1; }
for tool in qemu-system-x86_64 qemu-img; do
	command -v "$tool" >/dev/null 2>&1 || { echo "image:run: $tool not found: apt-get install qemu-system-x86 qemu-utils" >&2; exit 1; }
done
code=/usr/share/OVMF/OVMF_CODE_4M.fd
vars=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f "$code" ] || { echo "image:run: $code not found: apt-get install ovmf" >&2; exit 1; }

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
http="${HUSHBOX_QEMU_HTTP:-8080}"
mqtt="${HUSHBOX_QEMU_MQTT:-$(free_port)}"

if [ -n "${HUSHBOX_QEMU_KEEP:-}" ]; then
	dir="$HUSHBOX_QEMU_KEEP"
	mkdir -p "$dir"
else
	dir="$(mktemp -d /tmp/hushbox-qemu.XXXXXX)"
	trap 'rm -rf "$dir"' EXIT INT TERM
fi
[ -f "$dir/disk.qcow2" ] || qemu-img create -q -f qcow2 -F raw -b "$(readlink -f "$img")" "$dir/disk.qcow2" "${HUSHBOX_QEMU_DISK:-4G}"
[ -f "$dir/vars.fd" ] || cp "$vars" "$dir/vars.fd"

echo "image:run: front panel http://localhost:$http/  MQTT localhost:$mqtt  (Ctrl-A X quits)" >&2
qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 2 -m "${HUSHBOX_QEMU_MEM:-1024}" \
	-nodefaults -display none -serial mon:stdio \
	-drive if=pflash,format=raw,unit=0,readonly=on,file="$code" \
	-drive if=pflash,format=raw,unit=1,file="$dir/vars.fd" \
	-drive if=virtio,format=qcow2,file="$dir/disk.qcow2" \
	-netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$http-:80,hostfwd=tcp:127.0.0.1:$mqtt-:1883" \
	-device virtio-net-pci,netdev=net0 \
	-audiodev none,id=snd0 -device intel-hda -device hda-duplex,audiodev=snd0 \
	-device i6300esb -action watchdog=reset
