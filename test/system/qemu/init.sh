#!/bin/busybox sh
# /init of the ALSA system test initramfs (build-initramfs.sh). Runs every
# scenario once against snd-aloop and prints each result on the console as
# "@@HB <name> <json>"; the test (test/system/alsa.test.ts) reads them back.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/local/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm

E=/usr/local/bin/hushbox-engine
# Large periods: snd-aloop moves data on 4 ms jiffies and software emulation is slow.
IO="--rate 48000 --frames 1024 --periods 3 --channels 2"
# Bypass the whole chain when the chain has a bypass; at 0 dB the skeleton chain is bit-exact anyway.
BYPASS="$($E params | awk '$1 == "master.bypass" { print "--set master.bypass=1" }')"
GUARD=""
[ -f /usr/local/lib-rt-guard.so ] && GUARD=/usr/local/lib-rt-guard.so

# A measurement that saw an xrun of its own (the emulator was descheduled) is repeated.
measure() { # out args...
  out="$1"
  shift
  for attempt in 1 2 3 4; do
    $E latency "$@" $IO --json >"$out" 2>&1
    grep -q '"xruns":0' "$out" && return 0
  done
}

report() { # name file
  if [ -s "$2" ]; then echo "@@HB $1 $(tr -d '\n' <"$2")"; else echo "@@HB $1 {\"error\":\"no output\"}"; fi
}

log() { # name file: the engine's stderr as one JSON string (quotes and backslashes become ')
  echo "@@HB $1 {\"text\":\"$(tr '"\\\n' "''|" <"$2")\"}"
}

echo "@@HB kernel {\"version\":\"$(uname -r)\",\"realtime\":\"$(cat /sys/kernel/realtime 2>/dev/null)\"}"

while read -r m; do
  [ "$m" = "snd-aloop.ko" ] || insmod "/mods/$m"
done </mods/order

# 1. The engine starts before its device exists, waits, and processes once it appears.
$E run --backend alsa --device hw:Loopback,0,0 $IO $BYPASS --duration 8 --stats /tmp/late.json 2>/tmp/late.err &
late=$!
sleep 3
insmod /mods/snd-aloop.ko
wait $late
report late /tmp/late.json
log late_log /tmp/late.err

# 2. The loopback's own round trip, no engine: the baseline.
measure /tmp/base.json --device hw:Loopback,0,1 --capture-device hw:Loopback,1,1
report baseline /tmp/base.json

# 3. The engine in the loop: played on Loopback,1,0 -> engine (Loopback,0,0) -> captured on Loopback,1,0.
if [ -n "$GUARD" ]; then
  RT_GUARD_OUT=/tmp/guard.json LD_PRELOAD="$GUARD" \
    $E run --backend alsa --device hw:Loopback,0,0 $IO $BYPASS --stats /tmp/run.json 2>/tmp/run.err &
else
  $E run --backend alsa --device hw:Loopback,0,0 $IO $BYPASS --stats /tmp/run.json 2>/tmp/run.err &
fi
eng=$!
sleep 3
measure /tmp/through.json --device hw:Loopback,1,0
report through /tmp/through.json
# 4. Stop the engine for 100 ms: ALSA overruns; the engine must count it and carry on.
echo "@@HB stop {\"at\":$(cut -d' ' -f1 /proc/uptime),\"comm\":\"$(cat /proc/$eng/comm)\"}"
kill -STOP $eng
usleep 100000
kill -CONT $eng
sleep 2
measure /tmp/after.json --device hw:Loopback,1,0
report after_xrun /tmp/after.json
kill -TERM $eng
wait $eng
report run /tmp/run.json
log run_log /tmp/run.err
[ -n "$GUARD" ] && report guard /tmp/guard.json

# 5. The device vanishes under the running engine (the driver unbound, as a USB
#    unplug disconnects the card) and comes back: the engine waits, then resumes.
$E run --backend alsa --device hw:Loopback,0,0 $IO $BYPASS --stats /tmp/unplug.json 2>/tmp/unplug.err &
eng=$!
sleep 2
dev="$(basename "$(readlink -f /sys/class/sound/card0/device)")"
echo "$dev" >/sys/bus/platform/drivers/snd_aloop/unbind
sleep 2
echo "@@HB unplugged {\"cards\":\"$(tr '\n' '|' </proc/asound/cards)\"}"
echo "$dev" >/sys/bus/platform/drivers/snd_aloop/bind
sleep 3
measure /tmp/replugged.json --device hw:Loopback,1,0
report replugged /tmp/replugged.json
kill -TERM $eng
wait $eng
report unplug /tmp/unplug.json
log unplug_log /tmp/unplug.err
echo "@@HB done {}"
poweroff -f
