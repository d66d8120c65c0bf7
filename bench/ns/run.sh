#!/bin/sh
# Builds the noise-suppression comparison, generates its data set (once) and
# prints the table; the JSON goes to bench/out/ns-compare.json.
#
#   bench/ns/run.sh [--quick] [compare options...]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build/ns-bench"
out="$root/bench/out"

for pc in speexdsp webrtc-audio-processing; do
  pkg-config --exists "$pc" || { echo "run.sh: $pc is missing (apt-get install libspeexdsp-dev libwebrtc-audio-processing-dev)" >&2; exit 1; }
done
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" >/dev/null
data=$("$here/make-dataset.sh" "$out/ns-data")
mkdir -p "$out"
"$build/compare" "$data" --json "$out/ns-compare.json" "$@"
