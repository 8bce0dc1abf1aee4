#!/bin/sh
# Slices one apple: `sh scripts/slice.sh NAME APPLE SLICES`. The start and end lines in
# work/bakery.log let you (and the end-to-end test) check that the knife never cut two at once.
set -eu
echo "start knife $1" >> work/bakery.log
sleep 0.15
printf 'slices of %s, cut at %s\n' "$(cat "$2")" "$(date +%T)" > "$3"
echo "end knife $1" >> work/bakery.log
