#!/bin/busybox sh
# /init of the drift system test (test/system/drift.test.ts): the engine
# captures from one snd-aloop card and plays to another, two clocks, one of
# them drifted with its "PCM Rate Shift 100000" control. Each scenario prints
# its stats as "@@HB <name> <json>" on the console.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/local/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm

E=/usr/local/bin/hushbox-engine
# The scenarios and their length come from the kernel command line
# (hbdrift=NAME:SHIFT:SECONDS[:raw|:guard],...): raw turns the correction off,
# guard runs the engine under the rt_guard interposer.
SCENARIOS="$(tr ' ' '\n' </proc/cmdline | sed -n 's/^hbdrift=//p' | tr ',' ' ')"
# Large periods (snd-aloop moves data on 4 ms jiffies and software emulation is slow), only two of
# them: the less a buffer holds, the sooner drift empties it.
IO="--rate 48000 --frames 1024 --periods 2 --channels 1"
BYPASS="$($E params | awk '$1 == "master.bypass" { print "--set master.bypass=1" }')"

report() { # name file
  if [ -s "$2" ]; then echo "@@HB $1 $(tr -d '\n' <"$2")"; else echo "@@HB $1 {\"error\":\"no output\"}"; fi
}
log() { # name file: the engine's stderr as one JSON string
  echo "@@HB $1 {\"text\":\"$(tr '"\\\n' "''|" <"$2")\"}"
}

echo "@@HB kernel {\"version\":\"$(uname -r)\",\"realtime\":\"$(cat /sys/kernel/realtime 2>/dev/null)\"}"
while read -r m; do
  [ "$m" = "snd-aloop.ko" ] || insmod "/mods/$m"
done </mods/order
# Two cards, two clocks (each card's cables run on their own timer).
insmod /mods/snd-aloop.ko index=0,1 enable=1,1 pcm_substreams=1,1
echo "@@HB cards {\"text\":\"$(tr '\n' '|' </proc/asound/cards)\"}"

for s in $SCENARIOS; do
  name="${s%%:*}"
  rest="${s#*:}"
  shift_value="${rest%%:*}"
  rest="${rest#*:}"
  seconds="${rest%%:*}"
  extra=""
  preload=""
  case "$s" in *:raw) extra="--no-drift-correction" ;; esac
  case "$s" in *:guard) preload=/usr/local/lib-rt-guard.so ;; esac
  # The shift sits on the capture side of card 0's cable (device 1): 100000 is the nominal rate,
  # 100100 makes that stream 100000/100100 as fast (-999.0 ppm against CLOCK_MONOTONIC).
  amixer -q -c 0 cset "iface=PCM,name=PCM Rate Shift 100000,device=1,subdevice=0" "$shift_value"
  got="$(amixer -c 0 cget "iface=PCM,name=PCM Rate Shift 100000,device=1,subdevice=0" | sed -n 's/.*: values=//p')"
  echo "@@HB ${name}_shift {\"asked\":$shift_value,\"set\":${got:-0}}"
  RT_GUARD_OUT="/tmp/$name-guard.json" LD_PRELOAD="$preload" \
    $E run --backend alsa --capture-device hw:0,1,0 --device hw:1,0,0 $IO $BYPASS $extra \
    --duration "$seconds" --stats "/tmp/$name.json" 2>"/tmp/$name.err"
  report "$name" "/tmp/$name.json"
  log "${name}_log" "/tmp/$name.err"
  [ -n "$preload" ] && report "${name}_guard" "/tmp/$name-guard.json"
done
echo "@@HB done {}"
sleep 2
poweroff -f
