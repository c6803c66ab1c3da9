#!/bin/sh
# compare_sync.sh: do two builds of v2xsync write the same clocks.json and frames.jsonl? For
# refactors that must not change behaviour: run it with the build before and the build after.
#
#   tests/bench/compare_sync.sh OLD_BUILD_DIR NEW_BUILD_DIR
#
# Cases: synthetic drives (three V2X profiles, several seeds, 60 s; the frame policies nearest,
# approximate, exact and a fixed rate; agents and sources listed in reverse; V2X only) written by
# the OLD build, and manifests over the real captures of ../shared/datasets when present (a
# Velodyne with GPS, an HDL-32E, a Wyoming OBU log, ETSI and US V2X captures). Prints one line
# per case and exits 1 if any output differs byte for byte.
set -eu
old=${1:?usage: compare_sync.sh OLD_BUILD_DIR NEW_BUILD_DIR}
new=${2:?usage: compare_sync.sh OLD_BUILD_DIR NEW_BUILD_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
shared="$here/../shared/datasets"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/v2xsync-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0

run_case() { # name manifest
    name=$1
    man=$2
    "$old/v2xsync" sync -q "$man" -o "$tmp/old-$name" >/dev/null 2>"$tmp/old-$name.err" || true
    "$new/v2xsync" sync -q "$man" -o "$tmp/new-$name" >/dev/null 2>"$tmp/new-$name.err" || true
    for f in clocks.json frames.jsonl; do
        if [ ! -f "$tmp/old-$name/$f" ] && [ ! -f "$tmp/new-$name/$f" ]; then
            echo "$name: $f written by neither build"
            continue
        fi
        if cmp -s "$tmp/old-$name/$f" "$tmp/new-$name/$f"; then
            printf '%s: %s identical (%s bytes)\n' "$name" "$f" "$(wc -c <"$tmp/new-$name/$f")"
        else
            echo "$name: $f DIFFERS"
            fail=1
        fi
    done
}

# edit_manifest IN OUT PYTHON: rewrite a manifest with a python expression on `m`
edit_manifest() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(m, open(sys.argv[2], "w"), indent=1)
PY
}

for spec in "1 mixed" "7 mixed" "3 etsi" "4 us"; do
    set -- $spec
    d="$tmp/drive-$1-$2"
    "$old/v2xsync" synth -q --seed "$1" --profile "$2" --duration 60 -o "$d" >/dev/null
    run_case "seed$1-$2" "$d/scenario.json"
done
d="$tmp/drive-7-mixed"
for pol in approximate exact; do
    edit_manifest "$d/scenario.json" "$d/$pol.json" "m.setdefault('frames', {})['match'] = '$pol'"
    run_case "seed7-$pol" "$d/$pol.json"
done
edit_manifest "$d/scenario.json" "$d/rate.json" \
    "m.setdefault('frames', {}).update({'policy': 'fixed_rate', 'rate_hz': 7})"
run_case "seed7-fixed-rate" "$d/rate.json"
edit_manifest "$d/scenario.json" "$d/reversed.json" \
    "m['agents'].reverse(); [a['sources'].reverse() for a in m['agents']]"
run_case "seed7-reversed" "$d/reversed.json"
edit_manifest "$d/scenario.json" "$d/v2xonly.json" \
    "[a.update(sources=[s for s in a['sources'] if s['kind'] == 'v2x']) for a in m['agents']]; m.pop('reference', None)"
run_case "seed7-v2x-only" "$d/v2xonly.json"

if [ -d "$shared" ]; then
    r="$tmp/real"
    mkdir -p "$r"
    cat >"$r/vlp16.json" <<J
{"version": 1, "agents": [{"id": "car", "sources": [
 {"path": "$shared/lidar/velodyne/mrpt_vlp16_gps.pcap", "kind": "lidar", "clock": {"gps_locked": true}}]}]}
J
    run_case real-vlp16-gps "$r/vlp16.json"
    cat >"$r/hdl32.json" <<J
{"version": 1, "agents": [{"id": "car", "sources": [
 {"path": "$shared/lidar/velodyne/mrpt_hdl32e.pcap", "kind": "lidar"}]}]}
J
    run_case real-hdl32e "$r/hdl32.json"
    for f in "$shared"/v2x/us/jpo-ode/data/*.bin "$shared"/v2x/us/v2x-hub/*.txt "$shared"/v2x/etsi/*.pcap \
        "$shared"/v2x/us/*.pcap; do
        [ -f "$f" ] || continue
        b=$(basename "$f" | tr -c 'A-Za-z0-9._\n-' _)
        cat >"$r/$b.json" <<J
{"version": 1, "agents": [{"id": "obu", "sources": [{"path": "$f", "kind": "v2x"}]}]}
J
        run_case "real-$b" "$r/$b.json"
    done
else
    echo "note: $shared not found: real captures not compared"
fi
exit $fail
