#!/bin/sh
# Generates the noise-suppression bench's material at 48 kHz, mono, 32-bit
# float: clean speech from espeak-ng (several voices, en/de/fr) and noises
# synthesized with sox and awk (steady: pink, brown, hiss, hum, fan, aircon;
# unsteady: slowly varying, keyboard, babble). compare.cpp mixes them at the
# SNRs it reports. Deterministic (sox -R, fixed awk seeds).
#
#   bench/ns/make-dataset.sh [OUT_DIR]     (default bench/out/ns-data)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../out/ns-data"}
mkdir -p "$out/speech" "$out/noise"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for tool in espeak-ng sox awk; do
  command -v "$tool" >/dev/null || { echo "make-dataset: $tool is missing (apt-get install espeak-ng sox)" >&2; exit 1; }
done

F="-R -r 48000 -c 1 -b 32 -e floating-point"
DUR=16

speak() { # name voice speed text
  espeak-ng -v "$2" -s "$3" -w "$tmp/$1.wav" "$4"
  # 48 kHz, no DC, -30 dBFS RMS
  sox -R "$tmp/$1.wav" $F "$tmp/$1-48k.wav" rate -v 48000 gain -6 highpass 60
  gain=$(sox "$tmp/$1-48k.wav" -n stats 2>&1 | awk '/RMS lev dB/ {print -30 - $4}')
  sox "$tmp/$1-48k.wav" $F "$out/speech/$1.wav" gain "$gain"
}

EN1="The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore, and the shells she sells are surely sea shells."
EN2="Please call Stella. Ask her to bring these things with her from the store: six spoons of fresh snow peas and a big toy frog."
DE1="Der schnelle braune Fuchs springt über den faulen Hund. Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich."
DE2="Falsches Üben von Xylophonmusik quält jeden größeren Zwerg, aber am Abend gehen wir gemeinsam spazieren."
FR1="Portez ce vieux whisky au juge blond qui fume. Le cœur déçu mais l'âme plutôt naïve, il rêva de partir en canoë."
FR2="Voix ambiguë d'un cœur qui, au zéphyr, préfère les jattes de kiwis. Nous irons au marché demain matin."

[ -f "$out/speech/en-m.wav" ] || speak en-m en-us+m3 150 "$EN1"
[ -f "$out/speech/en-f.wav" ] || speak en-f en+f2 165 "$EN2"
[ -f "$out/speech/de-m.wav" ] || speak de-m de+m1 150 "$DE1"
[ -f "$out/speech/de-f.wav" ] || speak de-f de+f3 160 "$DE2"
[ -f "$out/speech/fr-m.wav" ] || speak fr-m fr+m4 155 "$FR1"
[ -f "$out/speech/fr-f.wav" ] || speak fr-f fr+f1 160 "$FR2"

noise() { # name, then sox effects after the synth
  name=$1
  shift
  [ -f "$out/noise/$name.wav" ] || sox $F -n "$out/noise/$name.wav" "$@"
}

# Steady.
noise pink synth $DUR pinknoise gain -12
noise brown synth $DUR brownnoise gain -12 highpass 20
noise hiss synth $DUR whitenoise gain -12 highpass 1500
# Mains hum with odd and even harmonics and a little buzz.
[ -f "$out/noise/hum.wav" ] || { awk -v dur=$DUR 'BEGIN {
  r = 48000; pi = 3.141592653589793; srand(11);
  printf "; Sample Rate 48000\n; Channels 1\n";
  for (i = 0; i < dur * r; i++) {
    t = i / r;
    v = sin(2*pi*50*t) + 0.5*sin(2*pi*100*t+0.3) + 0.4*sin(2*pi*150*t+1) + 0.2*sin(2*pi*250*t+2) + 0.1*sin(2*pi*350*t) + 0.02*(rand()-0.5);
    printf "%.6f %.6f\n", t, 0.2*v;
  }
}' > "$tmp/hum.dat" && sox -R "$tmp/hum.dat" $F "$out/noise/hum.wav"; }
# Fan: broadband rumble plus a blade tone that wobbles slightly.
sox $F -n "$tmp/fan-rumble.wav" synth $DUR brownnoise gain -12 highpass 30 lowpass 3000
sox $F -n "$tmp/fan-air.wav" synth $DUR pinknoise gain -12 bandpass 800 2q gain -12
sox $F -n "$tmp/fan-blade.wav" synth $DUR sine 178 sine 356 remix - tremolo 3 10 gain -20
[ -f "$out/noise/fan.wav" ] || sox -m "$tmp/fan-rumble.wav" "$tmp/fan-air.wav" "$tmp/fan-blade.wav" $F "$out/noise/fan.wav"
# Air conditioning: low-passed pink noise with a compressor hum.
sox $F -n "$tmp/ac-air.wav" synth $DUR pinknoise gain -12 lowpass 2000 highpass 40
sox $F -n "$tmp/ac-hum.wav" synth $DUR sine 120 gain -24
[ -f "$out/noise/aircon.wav" ] || sox -m "$tmp/ac-air.wav" "$tmp/ac-hum.wav" $F "$out/noise/aircon.wav"

# Unsteady.
# Slowly varying: pink noise whose level swings by ~10 dB at 0.15 Hz and whose colour drifts.
sox $F -n "$tmp/slow-a.wav" synth $DUR pinknoise gain -12 tremolo 0.15 70
sox $F -n "$tmp/slow-b.wav" synth $DUR whitenoise gain -12 highpass 2000 tremolo 0.23 90 gain -6
[ -f "$out/noise/slowvar.wav" ] || sox -m "$tmp/slow-a.wav" "$tmp/slow-b.wav" $F "$out/noise/slowvar.wav"
# Keyboard: clicks (decaying resonant noise bursts) at irregular typing intervals.
[ -f "$out/noise/keyboard.wav" ] || { awk -v dur=$DUR 'BEGIN {
  r = 48000; srand(7); n = dur * r; next_at = 0.1 * r; env = 0; y1 = 0; y2 = 0;
  printf "; Sample Rate 48000\n; Channels 1\n";
  for (i = 0; i < n; i++) {
    if (i >= next_at) { env = 0.5 + rand(); f = 0.6 + 0.3 * rand(); next_at = i + (0.08 + 0.25 * rand()) * r; if (rand() < 0.1) next_at += 0.6 * r; }
    x = env * (rand() - 0.5); env *= 0.9985;
    y = x + 2 * 0.97 * f * y1 - 0.97 * 0.97 * y2; y2 = y1; y1 = y;
    printf "%.6f %.6f\n", i / r, 0.05 * y;
  }
}' > "$tmp/kb.dat" && sox -R "$tmp/kb.dat" $F "$out/noise/keyboard.wav"; }
# Babble: four other voices with other sentences, summed.
if [ ! -f "$out/noise/babble.wav" ]; then
  i=0
  for spec in "en+m7:$EN2 $EN1" "de+m2:$DE2 $DE1" "fr+m2:$FR2 $FR1" "en-us+f4:$EN1 $EN2" "de+f2:$DE1 $DE2"; do
    i=$((i + 1))
    voice=${spec%%:*}
    text=${spec#*:}
    espeak-ng -v "$voice" -s 170 -w "$tmp/b$i.wav" "$text $text"
    sox -R "$tmp/b$i.wav" $F "$tmp/b$i-48k.wav" rate -v 48000 trim 0.$i pad 0 $DUR trim 0 $DUR
  done
  sox -m "$tmp"/b[1-5]-48k.wav $F "$out/noise/babble.wav"
fi
echo "$out"
