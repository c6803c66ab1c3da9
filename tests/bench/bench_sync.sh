#!/bin/sh
# bench_sync.sh: whole-job time and peak memory of `v2xsync sync` on synthetic drives of several
# lengths, side by side with a reference tool reading the same files in the same run (capinfos
# over every capture: one libpcap pass, what any tool must at least pay), and the job's own split
# (index pass, clock estimation, frame planning) per 1,000 frames.
#
#   tests/bench/bench_sync.sh BUILD_DIR [MINUTES...]       (default: 1 10 60)
#   BASELINE=OLD_BUILD_DIR tests/bench/bench_sync.sh BUILD_DIR [MINUTES...]
#
# With BASELINE, each drive is also synced by that build, just before: a before/after comparison
# in the same run (the baseline's rows are marked). Each build's row is the best of two runs.
#
# Drives are written to $TMPDIR (a 60-minute drive is about 5.6 GB) and removed afterwards.
# Needs /usr/bin/time (GNU time) and capinfos (wireshark-common). Prints a Markdown table.
set -eu
build=${1:?usage: bench_sync.sh BUILD_DIR [MINUTES...]}
shift
[ $# -gt 0 ] || set -- 1 10 60
cli="$build/v2xsync"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/v2xsync-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "| drive | on disk | frames | capinfos (all captures) | sync wall | sync / capinfos | index / clocks / frames | per 1,000 frames: clocks, frames | sync peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|"
for min in "$@"; do
    d="$tmp/drive$min"
    "$cli" synth -q --seed 1 --duration $((min * 60)) -o "$d" >/dev/null
    size=$(du -sm "$d" | cut -f1)
    # reference: capinfos over every capture, warm cache like the job
    cat "$d"/*/*.pcap >/dev/null
    t0=$(date +%s.%N)
    capinfos "$d"/*/*.pcap >/dev/null
    t1=$(date +%s.%N)
    cap_s=$(echo "$t1 - $t0" | bc -l)
    run_sync() { # CLI LABEL: best of two runs (wall), as a table row
        best=""
        for rep in 1 2; do
            /usr/bin/time -v -o "$tmp/time.txt" "$1" sync -q --json --force "$d/scenario.json" \
                -o "$tmp/out$min" >"$tmp/sum.json"
            w=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt" |
                awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
            r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
            if [ -z "$best" ] || [ "$(echo "$w < $best" | bc -l)" = 1 ]; then
                best=$w
                cp "$tmp/sum.json" "$tmp/best.json"
                echo "$r" >"$tmp/best.rss"
            fi
        done
        python3 - "$tmp/best.json" "$min" "$size" "$cap_s" "$best" "$(cat "$tmp/best.rss")" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
m, size, cap, wall, rss = sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
label = sys.argv[7]
sec = s["seconds"]
k = s["frames"] / 1000.0
print(f"| {m} min{label} | {size / 1024:.2f} GB | {s['frames']} | {cap:.2f} s | {wall:.2f} s | "
      f"{wall / cap:.2f}x | {sec['index']:.2f} / {sec['clocks']:.3f} / {sec['frames']:.2f} s | "
      f"{sec['clocks'] / k * 1000:.1f} ms, {sec['frames'] / k:.3f} s | {rss / 1024:.1f} MB |")
EOF
    }
    if [ -n "${BASELINE:-}" ]; then run_sync "$BASELINE/v2xsync" " (baseline)"; fi
    run_sync "$cli" ""
    rm -rf "$d" "$tmp/out$min"
done
