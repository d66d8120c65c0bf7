#!/bin/sh
# Makes another version of a built root filesystem, for update tests and
# benchmarks: a copy of the image's rootfs.ext4 with a new version stamped
# where the image keeps it (/etc/os-release, /usr/lib/os-release,
# /usr/lib/hushbox/package.json), edited in place with debugfs (no mounts,
# no root tree to unpack).
#
#   ota/restamp-rootfs.sh --rootfs ROOTFS.ext4 --version VERSION --out OUT.ext4 [--broken]
#
# --broken replaces the supervisor's entry point with one that exits at once,
# so hushbox.service never becomes ready: the bundle made from it must make
# the box fall back to its previous slot by itself.
set -eu

rootfs=""
version=""
out=""
broken=0

die() {
	echo "restamp-rootfs: $*" >&2
	exit 1
}

while [ "$#" -gt 0 ]; do
	case "$1" in
	--rootfs | --version | --out)
		[ "$#" -ge 2 ] || die "$1 needs a value"
		case "$1" in
		--rootfs) rootfs="$2" ;;
		--version) version="$2" ;;
		--out) out="$2" ;;
		esac
		shift 2
		;;
	--broken)
		broken=1
		shift
		;;
	-h | --help)
		sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
		exit 2
		;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

[ -n "$rootfs" ] || die "no root filesystem given (--rootfs build/image/rootfs.ext4)"
[ -f "$rootfs" ] || die "root filesystem '$rootfs' does not exist (build the image first: npm run image)"
[ -n "$version" ] || die "no version given (--version 1.2.3)"
printf '%s\n' "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$' ||
	die "bad version '$version': expected MAJOR.MINOR.PATCH with an optional -suffix"
[ -n "$out" ] || die "no output given (--out OUT.ext4)"
case "$out" in *.ext4) ;; *) die "output '$out' must end in .ext4 (RAUC picks how to write a slot from the name)" ;; esac
command -v debugfs >/dev/null 2>&1 || die "debugfs not found (apt-get install e2fsprogs)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp --sparse=always "$rootfs" "$out.tmp"

dump() { # path-in-image local-file
	debugfs -R "dump -p $1 $2" "$out.tmp" >/dev/null 2>&1 || die "cannot read $1 from $rootfs"
	[ -s "$2" ] || die "$1 is missing or empty in $rootfs"
}
dump /etc/os-release "$work/os-release"
dump /usr/lib/hushbox/package.json "$work/package.json"

old="$(sed -n 's/^VERSION_ID="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$work/os-release")"
[ -n "$old" ] || die "no VERSION_ID in the image's /etc/os-release"
# Every mention of the old version in os-release (VERSION, VERSION_ID, IMAGE_VERSION, PRETTY_NAME).
awk -v old="$old" -v new="$version" '{ n = index($0, old); while (n > 0) { $0 = substr($0, 1, n - 1) new substr($0, n + length(old)); n = index($0, old) } print }' \
	"$work/os-release" >"$work/os-release.new"
grep -q "VERSION_ID=\"\{0,1\}$version" "$work/os-release.new" || die "could not stamp $version into os-release"
node -e '
	const fs = require("fs"); const [f, v] = process.argv.slice(1);
	const p = JSON.parse(fs.readFileSync(f, "utf8")); p.version = v;
	fs.writeFileSync(f, JSON.stringify(p, null, 2) + "\n");' "$work/package.json" "$version"
chmod 644 "$work/os-release.new" "$work/package.json"

cmds="$work/cmds"
{
	echo "cd /etc"
	echo "rm os-release"
	echo "write $work/os-release.new os-release"
	echo "cd /usr/lib"
	echo "rm os-release"
	echo "write $work/os-release.new os-release"
	echo "cd /usr/lib/hushbox"
	echo "rm package.json"
	echo "write $work/package.json package.json"
} >"$cmds"
if [ "$broken" = 1 ]; then
	cat >"$work/hushbox.js" <<'JS'
#!/usr/bin/env node
// A deliberately broken supervisor (ota/restamp-rootfs.sh --broken): it never becomes ready.
process.stderr.write('hushbox: this build is broken on purpose (an update test)\n');
process.exit(1);
JS
	chmod 755 "$work/hushbox.js"
	{
		echo "cd /usr/lib/hushbox/bin"
		echo "rm hushbox.js"
		echo "write $work/hushbox.js hushbox.js"
	} >>"$cmds"
fi
debugfs -w -f "$cmds" "$out.tmp" >"$work/log" 2>&1 || {
	cat "$work/log" >&2
	die "debugfs could not edit the copy"
}
if grep -qi "error\|not found\|could not" "$work/log"; then
	cat "$work/log" >&2
	die "debugfs reported a problem while editing the copy"
fi
e2fsck -fn "$out.tmp" >"$work/fsck" 2>&1 || {
	cat "$work/fsck" >&2
	die "the edited copy does not pass e2fsck"
}
mv "$out.tmp" "$out"
echo "restamp-rootfs: $out ($old -> $version$([ "$broken" = 1 ] && echo ', broken supervisor'))" >&2
