#!/bin/sh
# Bakes one pie: `sh scripts/bake.sh PIE OUT SLICES...`. Logs start and end to work/bakery.log
# like slice.sh, so a run can be checked for "never more than two pies in the ovens".
set -eu
pie=$1
out=$2
shift 2
echo "start oven $pie" >> work/bakery.log
sleep 1
{
  echo "$pie pie, out of the oven at $(date +%T), made with:"
  cat "$@"
} > "$out"
echo "end oven $pie" >> work/bakery.log
