#!/usr/bin/env bash
# Makes the English voice notes in tests/fixtures/voice/ from sentences.tsv: each sentence spoken by
# espeak-ng (en-us, 16 kHz mono) and encoded as WhatsApp sends voice notes: Ogg/Opus, mono, 16 kbit/s.
# Needs Debian's espeak-ng and opus-tools (apt-get install -y espeak-ng opus-tools). The .ogg files are
# committed, so the tests and the benchmark need neither program; rerun this only to change the set.
set -euo pipefail
cd "$(dirname "$0")/../tests/fixtures/voice"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while IFS=$'\t' read -r name text; do
  [ -n "$name" ] || continue
  espeak-ng -v en-us -s 150 -w "$tmp/$name.wav" "$text"
  opusenc --quiet --bitrate 16 --downmix-mono --comment "source=espeak-ng en-us" "$tmp/$name.wav" "$name.ogg"
done < sentences.tsv
ls -l ./*.ogg | awk '{s+=$5} END {print NR " notes, " s " bytes"}'
