#!/bin/sh
# The image's version: $HUSHBOX_RELEASE_VERSION when a release build sets it,
# otherwise `git describe --dirty` of this repository (a tag v1.2.3 gives
# 1.2.3, an untagged tree gives the package.json version with the commit:
# 0.1.0-gabc1234-dirty). Always MAJOR.MINOR.PATCH[-suffix], as RAUC
# bundles need (ota/build-bundle.sh).
set -eu

if [ -n "${HUSHBOX_RELEASE_VERSION:-}" ]; then
	echo "$HUSHBOX_RELEASE_VERSION"
	exit 0
fi
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
described="$(git -C "$repo" describe --dirty --tags --always 2>/dev/null || echo unknown)"
described="${described#v}"
if printf '%s\n' "$described" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$'; then
	echo "$described"
else
	base="$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$repo/package.json" | head -n 1)"
	echo "${base:-0.0.0}-g$described"
fi
