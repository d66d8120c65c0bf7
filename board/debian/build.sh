#!/bin/sh
# Builds the x86-64 EFI image of the box from Debian trixie packages:
#
#   board/debian/build.sh [STEP...]        (npm run image)
#
# A pipeline of small steps, each cached by a hash of its inputs and re-run
# only when they change:
#   root        mmdebstrap: trixie, the PREEMPT_RT kernel, systemd, Node.js, RAUC,
#               Mosquitto, Avahi (cached OUTSIDE the clone: $HUSHBOX_IMAGE_CACHE,
#               default /var/cache/hushbox-image, so a fresh clone reuses it)
#   app         the supervisor: npm ci --omit=dev from the lock file, dist/ and the
#               native engine + addon built on this machine (no compilers in the image)
#   overlay     the root tree: root + app + rootfs/ + board/debian/overlay, units
#               enabled and masked, the version stamped
#   partitions  rootfs.ext4 (one slot), efi.vfat (GRUB, grub.cfg, grubenv), data.ext4
#   disk        the GPT disk image, compressed (zstd) with its sha256
#   bundle      the signed RAUC bundle of the same rootfs (development key unless
#               HUSHBOX_BUNDLE_CERT and HUSHBOX_BUNDLE_KEY name others)
# Outputs in build/image/ (or $HUSHBOX_IMAGE_OUT). Naming steps runs those
# steps only (their inputs must exist). HUSHBOX_VERSION overrides the version.
# Needs root (mmdebstrap --mode=root, file ownership in the images).
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
out="${HUSHBOX_IMAGE_OUT:-$repo/build/image}"
work="${HUSHBOX_IMAGE_WORK:-$repo/build/image-work}"
cache="${HUSHBOX_IMAGE_CACHE:-/var/cache/hushbox-image}"
mirror="${HUSHBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${HUSHBOX_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
suite=trixie
name=hushbox-x86_64
# Disk layout (MiB): the slots leave room for the root to grow; data is grown
# to the whole disk at the first boot.
disk_mib=2048
efi_mib=64
slot_mib=896

t0="$(date +%s)"
say() { printf '[image %4ss] %s\n' "$(($(date +%s) - t0))" "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap --mode=root and the image's file owners need it)"
for tool in mmdebstrap mkfs.ext4 mkfs.vfat mcopy sfdisk grub-mkimage grub-editenv zstd rauc mksquashfs; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found: node scripts/prepare.mjs --image installs what the image build needs"
done
[ -d /usr/lib/grub/x86_64-efi ] || die "GRUB's EFI modules are missing: apt-get install grub-efi-amd64-bin"

mkdir -p "$out" "$work" "$cache"

# A content hash of files and directories (paths relative to the repo, so that
# another clone gets the same hash) plus any extra words.
hash_of() {
	{
		for p in "$@"; do
			case "$p" in
			=*) echo "$p" ;;
			*)
				if [ -d "$p" ]; then
					find "$p" \( -type f -o -type l \) -print | LC_ALL=C sort | while read -r f; do
						if [ -L "$f" ]; then echo "link $f $(readlink "$f")"; else echo "$(sha256sum <"$f" | cut -c1-64) $f $(stat -c %a "$f")"; fi
					done
				elif [ -e "$p" ]; then
					echo "$(sha256sum <"$p" | cut -c1-64) $p"
				else
					echo "missing $p"
				fi
				;;
			esac
		done
	} | sha256sum | cut -c1-16
}

# Whether step $1 must run for inputs hash $2 (or because one of its outputs,
# the further arguments, is missing); prints why.
stale() {
	step="$1"
	key="$2"
	shift 2
	missing=""
	for f in "$@"; do [ -e "$f" ] || missing="$f"; done
	if [ -z "$missing" ] && [ -f "$work/$step.key" ] && [ "$(cat "$work/$step.key")" = "$key" ]; then
		say "$step: up to date ($key)"
		return 1
	fi
	say "$step: building ($key)"
	rm -f "$work/$step.key"
	return 0
}
built() { echo "$2" >"$work/$1.key"; }

# The version: the exact tag (v1.2.0 -> 1.2.0), else package.json's version as
# a development pre-release numbered by commit count, with the commit as build
# metadata: 0.1.0-dev.57+g1a2b3c4 (.dirty with uncommitted changes). Always a
# semantic version, as RAUC bundles and src/ota/version.ts want.
version_of() {
	if [ -n "${HUSHBOX_VERSION:-}" ]; then
		echo "$HUSHBOX_VERSION"
		return
	fi
	base="$(node -p "require('./package.json').version")"
	if ! git rev-parse --git-dir >/dev/null 2>&1; then
		echo "$base"
		return
	fi
	tag="$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null || true)"
	dirty=""
	git diff --quiet HEAD -- 2>/dev/null || dirty=".dirty"
	if [ -n "$tag" ] && [ -z "$dirty" ]; then
		echo "${tag#v}"
		return
	fi
	echo "$base-dev.$(git rev-list --count HEAD)+g$(git rev-parse --short=8 HEAD)$dirty"
}
version="$(version_of)"
printf '%s\n' "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$' ||
	die "version '$version' is not a semantic version (HUSHBOX_VERSION or package.json)"

steps="${*:-root app overlay partitions disk bundle}"
want() { case " $steps " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
say "hushbox image $version -> $out"

# --- root: mmdebstrap ------------------------------------------------------
root_key="$(hash_of board/debian/packages board/debian/dpkg-excludes board/debian/initramfs board/debian/root-hook.sh "=$suite" "=mmdebstrap-$(mmdebstrap --version | cut -d' ' -f2)")"
root_tar="$cache/root-$root_key.tar"
if want root; then
	if [ -s "$root_tar" ]; then
		say "root: up to date ($root_tar)"
	else
		say "root: mmdebstrap $suite ($root_key; about a minute with a warm apt cache)"
		mkdir -p "$cache/apt"
		rm -f "$root_tar.tmp"
		set --
		while read -r line; do
			case "$line" in '#'* | '') continue ;; esac
			set -- "$@" "--include=$line"
		done <board/debian/packages
		while read -r line; do
			set -- "$@" "--dpkgopt=$line"
		done <board/debian/dpkg-excludes
		# The downloaded .debs are kept in the cache and given to the next build.
		mmdebstrap --mode=root --variant=apt --format=tar \
			--components=main --aptopt='Apt::Install-Recommends "false"' "$@" \
			--skip=download/empty --skip=essential/unlink \
			--setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
			--setup-hook="sync-in '$cache/apt' /var/cache/apt/archives/" \
			--essential-hook='mkdir -p "$1"/etc/initramfs-tools' \
			--essential-hook="sync-in '$repo/board/debian/initramfs' /etc/initramfs-tools" \
			--customize-hook="'$repo/board/debian/root-hook.sh' \"\$1\"" \
			--customize-hook="sync-out /var/cache/apt/archives '$cache/apt'" \
			--customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
			"$suite" "$root_tar.tmp" \
			"deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security $suite-security main" \
			2>&1 | while read -r l; do printf '  %s\n' "$l" >&2; done
		[ -s "$root_tar.tmp" ] || die "mmdebstrap failed (output above)"
		mv "$root_tar.tmp" "$root_tar"
		# Keep the newest two roots.
		ls -t "$cache"/root-*.tar 2>/dev/null | tail -n +3 | xargs -r rm -f
		say "root: $(du -h "$root_tar" | cut -f1) in $root_tar"
	fi
fi

# --- app: the supervisor, installed as the repo lays it out -----------------
app_inputs="package.json package-lock.json bin dist src/web/public build/native/hushbox-engine build/native/Release/hushbox.node"
app_key="$(hash_of $app_inputs "=$version")"
app="$work/app"
if want app && stale app "$app_key" "$app"; then
	for f in dist/main.js build/native/hushbox-engine build/native/Release/hushbox.node; do
		[ -e "$f" ] || die "app: $f is missing: run npm run build first"
	done
	rm -rf "$app" "$app.tmp"
	lib="$app.tmp/usr/lib/hushbox"
	mkdir -p "$lib/build/native/Release" "$lib/src/web" "$app.tmp/usr/bin"
	cp package.json package-lock.json "$lib/"
	cp -r bin dist "$lib/"
	rm -f "$lib"/dist/*.map "$lib"/dist/*/*.map
	# The supervisor bundled by esbuild (dist/hushbox.mjs and its chunks, one
	# per command's needs: src/main.ts imports each command when it runs):
	# Node then reads and compiles a few modules instead of some 400 from dist/
	# and node_modules/, which is most of its start-up under emulation and on an
	# SD card (CPU to import the supervisor: 0.3-0.5 s instead of 1.0-1.5 s
	# here; bench/image.mjs gives the boot figures). bin/hushbox.js loads it
	# when it is there. Beside dist/*.js, so paths.ts finds the package root.
	# Kept outside: the native addon (loaded by path) and the swagger plugins
	# (they read files beside their own code).
	[ -x node_modules/.bin/esbuild ] || die "app: esbuild is missing: run npm ci"
	node_modules/.bin/esbuild dist/main.js --bundle --splitting --platform=node --format=esm --target=node20 \
		--outdir="$lib/dist" --entry-names=hushbox --chunk-names=chunk-[hash] --out-extension:.js=.mjs \
		--external:@fastify/swagger-ui --external:@fastify/swagger --log-level=warning \
		--banner:js="import { createRequire as __hushboxRequire } from 'node:module'; const require = __hushboxRequire(import.meta.url);" >&2
	cp -r src/web/public "$lib/src/web/public"
	cp build/native/hushbox-engine "$lib/build/native/"
	cp build/native/Release/hushbox.node "$lib/build/native/Release/"
	strip --strip-unneeded "$lib/build/native/hushbox-engine" "$lib/build/native/Release/hushbox.node" 2>/dev/null || true
	# The version the supervisor reports (packageVersion() reads package.json).
	node -e '
		const fs = require("fs"); const f = process.argv[1];
		const p = JSON.parse(fs.readFileSync(f, "utf8")); p.version = process.argv[2];
		fs.writeFileSync(f, JSON.stringify(p, null, 2) + "\n");' "$lib/package.json" "$version"
	say "app: npm ci --omit=dev"
	(cd "$lib" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
	# The API's validators and serializers as code (src/web/compiled-schemas.ts): fastify
	# compiling them at every start was the largest part of the supervisor's start
	# under emulation. Made by the app itself, from what was just installed.
	say "app: hushbox compile-schemas"
	(cd "$lib" && HUSHBOX_LOG_LEVEL=warn node bin/hushbox.js compile-schemas "$lib/build/web-schemas") >&2
	ln -s ../lib/hushbox/bin/hushbox.js "$app.tmp/usr/bin/hushbox"
	ln -s ../lib/hushbox/build/native/hushbox-engine "$app.tmp/usr/bin/hushbox-engine"
	mv "$app.tmp" "$app"
	say "app: $(du -sh "$app" | cut -f1)"
	built app "$app_key"
fi

# --- overlay: the root tree ---------------------------------------------------
overlay_key="$(hash_of "=$root_key" "=$app_key" rootfs board/debian/overlay board/debian/configure.sh ota/system-x86_64.conf ota/dev-keys/keyring.pem "=$version")"
tree="$work/tree"
if want overlay && stale overlay "$overlay_key" "$tree/usr"; then
	[ -s "$root_tar" ] || die "overlay: the root step's $root_tar is missing"
	[ -d "$app" ] || die "overlay: the app step's output is missing"
	rm -rf "$tree"
	mkdir -p "$tree"
	say "overlay: unpacking the root"
	tar -C "$tree" --numeric-owner -xpf "$root_tar"
	cp -a "$app/." "$tree/"
	cp -a rootfs/. "$tree/"
	cp -a board/debian/overlay/. "$tree/"
	install -D -m 0644 ota/system-x86_64.conf "$tree/etc/rauc/system.conf"
	install -D -m 0644 ota/dev-keys/keyring.pem "$tree/etc/rauc/keyring.pem"
	sh board/debian/configure.sh "$tree" "$version"
	built overlay "$overlay_key"
fi

# --- partitions -------------------------------------------------------------
parts_key="$(hash_of "=$overlay_key" board/debian/grub board/debian/build.sh "=$slot_mib" "=$efi_mib")"
parts="$work/parts"
if want partitions && stale partitions "$parts_key" "$parts/rootfs.ext4" "$parts/efi.vfat" "$parts/data.ext4"; then
	[ -d "$tree/usr" ] || die "partitions: the overlay step's tree is missing"
	rm -rf "$parts"
	mkdir -p "$parts"
	say "partitions: rootfs.ext4 (${slot_mib} MiB)"
	# Fixed UUID and hash seed: the same tree gives the same image. GRUB reads
	# the slot, so only features GRUB 2.06 knows.
	SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || date +%s)" \
		mkfs.ext4 -q -F -L hushbox-root -U 6b1e3f52-7d4c-4f0a-9a51-1d5c0b0a0001 \
		-E hash_seed=6b1e3f52-7d4c-4f0a-9a51-1d5c0b0a0002,root_owner=0:0 \
		-O ^orphan_file,^metadata_csum_seed -m 0 -d "$tree" "$parts/rootfs.ext4" "${slot_mib}M" >/dev/null
	say "partitions: data.ext4"
	mkdir -p "$parts/data/rauc" "$parts/data/etc" "$parts/data/log/journal"
	mkfs.ext4 -q -F -L hushbox-data -O ^orphan_file,^metadata_csum_seed -m 0 -d "$parts/data" "$parts/data.ext4" 128M >/dev/null
	rm -rf "$parts/data"
	say "partitions: efi.vfat (GRUB)"
	mkdir -p "$parts/efi"
	grub-mkimage -O x86_64-efi -p /EFI/BOOT -o "$parts/efi/BOOTX64.EFI" \
		part_gpt fat ext2 normal linux boot configfile loadenv regexp test echo probe \
		all_video efi_gop gzio zstd sleep reboot halt cat ls search search_label search_fs_uuid serial terminal
	grub-editenv "$parts/efi/grubenv" create
	grub-editenv "$parts/efi/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0
	rm -f "$parts/efi.vfat"
	mkfs.vfat -C -n HUSHBOX-EFI "$parts/efi.vfat" $((efi_mib * 1024)) >/dev/null
	mmd -i "$parts/efi.vfat" ::/EFI ::/EFI/BOOT
	mcopy -i "$parts/efi.vfat" "$parts/efi/BOOTX64.EFI" board/debian/grub/grub.cfg "$parts/efi/grubenv" ::/EFI/BOOT/
	rm -rf "$parts/efi"
	built partitions "$parts_key"
fi

# --- disk -------------------------------------------------------------------
disk_key="$(hash_of "=$parts_key" "=$disk_mib")"
img="$out/$name.img"
if want disk && stale disk "$disk_key" "$img" "$img.zst" "$out/rootfs.ext4"; then
	[ -s "$parts/rootfs.ext4" ] || die "disk: the partitions step's output is missing"
	rm -f "$img" "$img.zst" "$img.zst.sha256"
	truncate -s "${disk_mib}M" "$img.tmp"
	# GPT, partitions by label (ota/system-x86_64.conf); fixed partition UUIDs.
	data_mib=$((disk_mib - 1 - efi_mib - 2 * slot_mib - 1))
	sfdisk --quiet --label gpt "$img.tmp" <<-EOF
		label-id: 6B1E3F52-7D4C-4F0A-9A51-1D5C0B0A0100
		start=1MiB, size=${efi_mib}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=efi, uuid=6B1E3F52-7D4C-4F0A-9A51-1D5C0B0A0101
		size=${slot_mib}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=rootfs-a, uuid=6B1E3F52-7D4C-4F0A-9A51-1D5C0B0A0102
		size=${slot_mib}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=rootfs-b, uuid=6B1E3F52-7D4C-4F0A-9A51-1D5C0B0A0103
		size=${data_mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=data, uuid=6B1E3F52-7D4C-4F0A-9A51-1D5C0B0A0104
	EOF
	place() { # file partition-number
		start="$(sfdisk --json "$img.tmp" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).partitiontable.partitions[Number(process.argv[1])-1];process.stdout.write(String(p.start))})' "$2")"
		dd if="$1" of="$img.tmp" bs=512 seek="$start" conv=notrunc,sparse status=none
	}
	say "disk: placing partitions"
	place "$parts/efi.vfat" 1
	place "$parts/rootfs.ext4" 2
	place "$parts/data.ext4" 4
	mv "$img.tmp" "$img"
	say "disk: compressing (zstd)"
	zstd -q -T0 -6 --sparse -f "$img" -o "$img.zst.tmp"
	mv "$img.zst.tmp" "$img.zst"
	(cd "$out" && sha256sum "$name.img.zst" >"$name.img.zst.sha256")
	cp "$parts/rootfs.ext4" "$out/rootfs.ext4"
	built disk "$disk_key"
fi

# --- bundle -----------------------------------------------------------------
bundle_key="$(hash_of "=$parts_key" ota/build-bundle.sh ota/hooks "=${HUSHBOX_BUNDLE_CERT:-dev}")"
bundle="$out/$name-$version.raucb"
if want bundle && stale bundle "$bundle_key" "$bundle"; then
	[ -s "$parts/rootfs.ext4" ] || die "bundle: the partitions step's output is missing"
	rm -f "$out"/*.raucb
	set -- --image "$parts/rootfs.ext4" --version "$version" --compatible hushbox-x86_64 --out "$bundle" --keyring ota/dev-keys/keyring.pem
	if [ -n "${HUSHBOX_BUNDLE_CERT:-}" ]; then
		set -- --image "$parts/rootfs.ext4" --version "$version" --compatible hushbox-x86_64 --out "$bundle" \
			--cert "$HUSHBOX_BUNDLE_CERT" --key "${HUSHBOX_BUNDLE_KEY:?HUSHBOX_BUNDLE_KEY not set}"
	fi
	sh ota/build-bundle.sh "$@"
	built bundle "$bundle_key"
fi

echo "$version" >"$out/VERSION"
say "done: $version"
ls -lhs "$out" >&2
