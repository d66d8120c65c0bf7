#!/bin/sh
# Builds a signed RAUC bundle (format verity) for the box from a root
# filesystem image.
#
#   ota/build-bundle.sh --image ROOTFS --version VERSION --out BUNDLE.raucb
#       [--compatible hushbox-x86_64|hushbox-rpi4|hushbox-rpi5]
#       [--boot BOOT.vfat] [--cert PEM --key PEM] [--keyring PEM]
#
# ROOTFS is an .ext4 or .squashfs image of one rootfs slot. BOOT is the image
# of a boot partition that belongs to each rootfs slot (the Raspberry Pi 5's:
# kernel, DTBs and config beside the firmware's tryboot); hushbox-rpi5
# bundles need one, the others have none. Without --cert and
# --key it signs with the DEVELOPMENT key in ota/dev-keys and says so loudly;
# a production bundle names its release signing certificate (ota/KEYS.md).
# With --keyring, the signature is checked against it after signing.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
image=""
version=""
out=""
compatible="hushbox-x86_64"
cert=""
key=""
keyring=""
boot=""

die() {
	echo "build-bundle: $*" >&2
	exit 1
}
usage() {
	sed -n '4,7p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ "$#" -gt 0 ]; do
	case "$1" in
	--image | --version | --out | --compatible | --boot | --cert | --key | --keyring)
		[ "$#" -ge 2 ] || die "$1 needs a value"
		case "$1" in
		--image) image="$2" ;;
		--version) version="$2" ;;
		--out) out="$2" ;;
		--compatible) compatible="$2" ;;
		--boot) boot="$2" ;;
		--cert) cert="$2" ;;
		--key) key="$2" ;;
		--keyring) keyring="$2" ;;
		esac
		shift 2
		;;
	-h | --help) usage ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

[ -n "$image" ] || die "no rootfs image given (--image ROOTFS.ext4|ROOTFS.squashfs)"
[ -f "$image" ] || die "rootfs image '$image' does not exist or is not a file"
[ -s "$image" ] || die "rootfs image '$image' is empty"
case "$image" in
*.ext4) imgext=ext4 ;;
*.squashfs) imgext=squashfs ;;
*) die "rootfs image '$image' must end in .ext4 or .squashfs (RAUC picks how to write a slot from the name)" ;;
esac
[ -n "$version" ] || die "no version given (--version, e.g. 1.2.0 or \$(git describe --dirty))"
# Semantic version, optionally with a pre-release/build suffix (git describe gives 1.2.0-3-gabc1234-dirty).
if ! printf '%s\n' "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$'; then
	die "bad version '$version': expected MAJOR.MINOR.PATCH with an optional -suffix (e.g. 1.2.0, 1.2.0-rc.1)"
fi
case "$compatible" in
hushbox-x86_64 | hushbox-rpi4)
	[ -z "$boot" ] || die "a $compatible box has no boot slot to update: drop --boot"
	;;
hushbox-rpi5)
	[ -n "$boot" ] || die "a hushbox-rpi5 bundle needs --boot BOOT.vfat (its kernel lives on the boot partition)"
	;;
*) die "bad compatible '$compatible': expected hushbox-x86_64, hushbox-rpi4 or hushbox-rpi5" ;;
esac
if [ -n "$boot" ]; then
	[ -s "$boot" ] || die "boot image '$boot' does not exist or is empty"
	case "$boot" in
	*.vfat) ;;
	*) die "boot image '$boot' must end in .vfat" ;;
	esac
fi
[ -n "$out" ] || die "no output given (--out BUNDLE.raucb)"
[ ! -e "$out" ] || die "output '$out' already exists; not overwriting it"

if [ -z "$cert" ] && [ -z "$key" ]; then
	cert="$here/dev-keys/dev-signing.cert.pem"
	key="$here/dev-keys/dev-signing.key.pem"
	echo "build-bundle: WARNING: signing with the DEVELOPMENT key ($here/dev-keys); only development boxes trust it" >&2
fi
[ -n "$cert" ] || die "--key given without --cert"
[ -n "$key" ] || die "--cert given without --key"
[ -f "$cert" ] || die "signing certificate '$cert' does not exist"
[ -f "$key" ] || die "signing key '$key' does not exist"
[ -z "$keyring" ] || [ -f "$keyring" ] || die "keyring '$keyring' does not exist"
command -v rauc >/dev/null 2>&1 || die "rauc not found (apt-get install rauc squashfs-tools)"
command -v mksquashfs >/dev/null 2>&1 || die "mksquashfs not found (apt-get install squashfs-tools)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
content="$work/content"
mkdir "$content"
# A hard link when the image is on the same filesystem; a copy otherwise.
ln "$image" "$content/rootfs.$imgext" 2>/dev/null || cp "$image" "$content/rootfs.$imgext"
[ -z "$boot" ] || ln "$boot" "$content/boot.vfat" 2>/dev/null || cp "$boot" "$content/boot.vfat"
cp "$here/hooks/hook.sh" "$content/hook.sh"
chmod 755 "$content/hook.sh"

build="$(date -u +%Y%m%dT%H%M%SZ)"
cat >"$content/manifest.raucm" <<MANIFEST
[update]
compatible=$compatible
version=$version
description=hushbox $version
build=$build

[bundle]
format=verity

[hooks]
filename=hook.sh

[image.rootfs]
filename=rootfs.$imgext
hooks=post-install
MANIFEST
if [ -n "$boot" ]; then
	printf '\n[image.boot]\nfilename=boot.vfat\n' >>"$content/manifest.raucm"
fi

set -- --cert "$cert" --key "$key"
[ -z "$keyring" ] || set -- "$@" --keyring "$keyring"
if ! rauc "$@" bundle "$content" "$work/bundle.raucb" >"$work/log" 2>&1; then
	cat "$work/log" >&2
	die "rauc bundle failed (see above): check that --cert and --key belong together and the image is not tiny (RAUC needs a payload over 4 KiB)"
fi
mv "$work/bundle.raucb" "$out"
echo "build-bundle: $out ($compatible $version)" >&2
