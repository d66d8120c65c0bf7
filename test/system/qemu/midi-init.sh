#!/bin/busybox sh
# /init of the MIDI system test initramfs (build-initramfs.sh with
# HB_INIT=midi-init.sh). The engine runs on snd-aloop with its MIDI input on
# the ALSA sequencer; snd-virmidi is the controller (amidi writes its raw MIDI
# device, the kernel turns the bytes into sequencer events). Results go to the
# console as "@@HB <name> <json>" (test/system/midi.test.ts, bench/midi.mjs).
# "hb.mode=bench" on the kernel command line runs the latency figure instead.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/local/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm

E=/usr/local/bin/hushbox-engine
GUARD=""
[ -f /usr/local/lib-rt-guard.so ] && GUARD=/usr/local/lib-rt-guard.so
uptime_s() { cut -d' ' -f1 /proc/uptime; }
report() { # name file
  if [ -s "$2" ]; then echo "@@HB $1 $(tr -d '\n' <"$2")"; else echo "@@HB $1 {\"error\":\"no output\"}"; fi
}
log() { # name file: as one JSON string (quotes and backslashes become ')
  echo "@@HB $1 {\"text\":\"$(tr '"\\\n' "''|" <"$2")\"}"
}
ports() { # the sequencer's clients, as the kernel lists them
  echo "@@HB $1 {\"clients\":\"$(grep '^Client' /proc/asound/seq/clients | tr '"\n' "'|")\"}"
}

echo "@@HB kernel {\"version\":\"$(uname -r)\",\"realtime\":\"$(cat /sys/kernel/realtime 2>/dev/null)\"}"
# Everything but the virtual controller, which comes later (a device plugged in after start).
while read -r m; do
  [ "$m" = "snd-virmidi.ko" ] || insmod "/mods/$m"
done </mods/order

if grep -q 'hb.mode=bench' /proc/cmdline; then
  insmod /mods/snd-virmidi.ko
  sleep 1
  # Event -> applied: COUNT CCs INTERVAL us apart, at FRAMES-frame periods (48 kHz), ROUNDS times.
  # The sim backend is clocked like a device (snd-aloop's 4 ms timer cannot pace 1.3 ms periods).
  arg() { sed -n "s/.*hb\.$1=\([0-9]*\).*/\1/p" /proc/cmdline; }
  frames="$(arg frames)"; count="$(arg count)"; interval="$(arg interval)"; rounds="$(arg rounds)"
  # First the same run with no MIDI: the emulator's own missed deadlines, for comparison.
  $E run --backend sim --input silence --rate 48000 --frames "$frames" --channels 2 \
    --duration $((count * interval / 1000000 + 1)) --stats /tmp/base.json 2>/dev/null
  report bench_base /tmp/base.json
  round=1
  while [ "$round" -le "$rounds" ]; do
    $E run --backend sim --input silence --rate 48000 --frames "$frames" --channels 2 \
      --midi seq --midi-map cc:7=master.gain --stats /tmp/bench.json 2>/tmp/bench.err &
    eng=$!
    sleep 2
    $E midi-send hw:VirMIDI,0 --cc 7 --count "$count" --interval-us "$interval" >/tmp/sent.json
    sleep 1
    kill -TERM $eng
    wait $eng
    report "bench_$round" /tmp/bench.json
    report "sent_$round" /tmp/sent.json
    round=$((round + 1))
  done
  echo "@@HB done {}"
  poweroff -f
fi

IO="--rate 48000 --frames 1024 --periods 3 --channels 2"
MAP="--midi-map cc:7=master.gain --midi-map cc:16=mic.eq.peak1.freq,rel-twos --midi-map note:60=toggle:mic.ns.bypass
  --midi-map pc=preset --midi-map cc:20=mix.mic.pan"
if [ -n "$GUARD" ]; then
  RT_GUARD_OUT=/tmp/guard.json LD_PRELOAD="$GUARD" \
    $E run --backend alsa --device hw:Loopback,0,0 $IO --midi seq $MAP --stats /tmp/midi.json 2>/tmp/midi.err &
else
  $E run --backend alsa --device hw:Loopback,0,0 $IO --midi seq $MAP --stats /tmp/midi.json 2>/tmp/midi.err &
fi
eng=$!
# Until the engine's sequencer client is there (the emulator may be slow to start it).
i=0
while ! grep -q "'hushbox'" /proc/asound/seq/clients && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
sleep 1
ports before_plug
# 1. The controller appears after the engine started: the sequencer announces its port.
insmod /mods/snd-virmidi.ko
sleep 2
ports after_plug
send() { amidi -p hw:VirMIDI,0 -S "$1"; }
send 'B0 07 7F'                 # master.gain to the top (12 dB)
send 'B0 10 05'                 # a relative encoder: 5 steps up, twice
send 'B0 10 05'
send '90 3C 40'                 # note on 60: toggles the noise suppressor's bypass
send '80 3C 00'                 # its note off changes nothing
send 'C0 03'                    # program change 3
# 2. Bad input: a long SysEx, clock, an unknown system message, a stray data byte, running status.
i=0
hex='F0'
while [ $i -lt 600 ]; do hex="$hex 01 02 03 04 05 06 07"; i=$((i + 1)); done
send "$hex F7 F8 F4 33 B0 07 40 07 20 FE"
sleep 1
# A quiet stretch as long as the flood, to compare the xruns of both.
quiet_start=$(uptime_s)
sleep 5
quiet_end=$(uptime_s)
echo "@@HB quiet {\"start\":$quiet_start,\"end\":$quiet_end}"
# 3. A flood: 10 000 CCs as fast as the virtual device takes them.
flood_start=$(uptime_s)
$E midi-send hw:VirMIDI,0 --cc 20 --count 10000 --interval-us 0 >/tmp/flood.json
flood_end=$(uptime_s)
echo "@@HB flood {\"start\":$flood_start,\"end\":$flood_end,\"sent\":$(tr -d '\n' </tmp/flood.json)}"
# Time for the engine to drain what the kernel queued: unbinding the device
# below drops what is still queued uncounted (2 s was short under a loaded TCG).
sleep 10
# 4. Unplugged mid-message (the driver unbound while a CC is half sent, as a USB unplug), then back.
send 'B0 07'
dev="$(basename "$(readlink -f /sys/class/sound/card1/device)")"
echo "$dev" >/sys/bus/platform/drivers/snd_virmidi/unbind
sleep 2
ports unplugged
echo "$dev" >/sys/bus/platform/drivers/snd_virmidi/bind
sleep 2
send 'B0 07 00'                 # master.gain to the bottom (-60 dB) through the device that came back
sleep 1
kill -TERM $eng
wait $eng
report midi /tmp/midi.json
log midi_log /tmp/midi.err
[ -n "$GUARD" ] && report guard /tmp/guard.json
echo "@@HB done {}"
poweroff -f
