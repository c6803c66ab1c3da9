#!/usr/bin/env bash
# clock_sweep.sh BUILD_DIR [N_DRIVES] [clock_sweep.py options...]: the clock engine's acceptance
# sweep (README "Clock sweep"): N_DRIVES (default 40) synthetic drives over the profiles, the
# realism options and seeds, each run through `v2xsync init` (unaided) and `v2xsync sync`, and
# compared with its truth.json by clock_sweep.py, which prints a Markdown table and writes a
# per-drive CSV. It measures: exit 0 whatever the engine does (2 on a usage error).
# Needs python3 with numpy (Debian: apt-get install python3-numpy).
set -euo pipefail
if [ $# -lt 1 ] || [ ! -x "$1/v2xsync" ]; then
  echo "usage: $0 BUILD_DIR [N_DRIVES] [--realism SPEC]... [--work DIR] [--keep] [--csv FILE]" >&2
  exit 2
fi
build=$1; shift
n=40
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then n=$1; shift; fi
py=
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" > /dev/null && "$cand" -c 'import numpy' 2> /dev/null; then
    py=$cand
    break
  fi
done
if [ -z "$py" ]; then
  echo "$0: needs python3 with numpy (Debian: apt-get install python3-numpy)" >&2
  exit 2
fi
exec "$py" "$(dirname "$0")/clock_sweep.py" --build "$build" --drives "$n" "$@"
