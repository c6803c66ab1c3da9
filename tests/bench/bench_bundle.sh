#!/bin/sh
# bench_bundle.sh: `v2xsync sync --bundle` on synthetic drives of several lengths, every frame
# exported: frames/s, MB/s, real-time factor, seconds per stage (decode, points, PNG, LZ4,
# labels, write), peak memory; and, on the first drive, in the same run, the standard tools doing
# the same encoding: ffmpeg writing the same number of camera frames as PNG (same row filter and
# zlib level) and the lz4 program compressing the same raw point records (two processes, as the
# bundle has two encoding threads).
#
#   tests/bench/bench_bundle.sh BUILD_DIR [MINUTES...]      (default: 10 60)
#
# Drives and bundles are written to $TMPDIR (a 60-minute drive and its bundle take about 30 GB)
# and removed afterwards. Needs /usr/bin/time (GNU time), ffmpeg and lz4. Prints Markdown tables.
#
# Fairness: ext4 makes creating a file slow for about 30 s after many files were deleted (its
# inode allocator skips recently deleted inodes: `recently_deleted`, 15 % of the bundle's CPU
# right after an `rm -rf` of the previous one). So no timed run follows a deletion by less than
# 35 s, and every side writes into a new folder.
set -eu
build=${1:?usage: bench_bundle.sh BUILD_DIR [MINUTES...]}
shift
[ $# -gt 0 ] || set -- 10 60
cli="$build/v2xsync"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/v2xsync-bench-bundle.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

wall_of() { # GNU time -v output: elapsed seconds
    sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1" |
        awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }'
}
rss_of() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

rows="$tmp/rows.md"
base="$tmp/base.md"
: >"$rows"
: >"$base"
first=1
for min in "$@"; do
    d="$tmp/drive$min"
    "$cli" synth -q --seed 1 --duration $((min * 60)) -o "$d" >/dev/null
    cat "$d"/*/* >/dev/null # warm cache for every run alike
    # the sync alone, then with the bundle: the difference is what the bundle costs
    /usr/bin/time -v -o "$tmp/t0.txt" "$cli" sync -q --json "$d/scenario.json" -o "$tmp/plain" \
        >/dev/null
    sleep 35
    /usr/bin/time -v -o "$tmp/t1.txt" "$cli" sync -q --json --bundle "$d/scenario.json" \
        -o "$tmp/out" >"$tmp/sum.json"
    python3 - "$tmp/sum.json" "$min" "$(wall_of "$tmp/t0.txt")" "$(wall_of "$tmp/t1.txt")" \
        "$(rss_of "$tmp/t0.txt")" "$(rss_of "$tmp/t1.txt")" >>"$rows" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
b = s["bundle"]
m = int(sys.argv[2])
plain, wall, rss0, rss = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
sec = b["seconds"]
print(f"| {m} min | {b['frames']} | {b['images']} / {b['clouds']} | {b['bytes'] / 1e6:.0f} MB "
      f"(raw {b['raw_bytes'] / 1e6:.0f}) | {plain:.1f} s | {wall:.1f} s | "
      f"{b['frames'] / wall:.0f} | {b['bytes'] / 1e6 / wall:.0f} | {m * 60 / wall:.1f}x | "
      f"{sec['decode']:.1f} / {sec['points']:.1f} / {sec['png']:.1f} / {sec['lz4']:.1f} / "
      f"{sec['labels']:.1f} / {sec['write']:.1f} | {rss0 / 1024:.0f} MB | {rss / 1024:.0f} MB |")
EOF
    if [ "$first" = 1 ]; then
        first=0
        # the tools baseline: the same encoding work
        imgs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bundle"]["images"])' "$tmp/sum.json")
        nframes=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries \
            stream=nb_read_frames -of csv=p=0 "$d/ego/camera.mp4")
        step=$(( (nframes + imgs / 2) / imgs ))
        mkdir "$tmp/ff" "$tmp/raw"
        /usr/bin/time -v -o "$tmp/t2.txt" ffmpeg -v error -nostdin -threads 2 \
            -i "$d/ego/camera.mp4" -vf "select=not(mod(n\,$step))" -fps_mode passthrough \
            -pix_fmt rgb24 -pred up -compression_level 1 "$tmp/ff/%08d.png"
        nff=$(ls "$tmp/ff" | wc -l)
        # the same raw point records, decompressed from the bundle into raw/ (not timed)
        (cd "$tmp/out/sensors" && find . -name '*.pts.lz4' | sed 's|^\./||') >"$tmp/list"
        nl=$(wc -l <"$tmp/list")
        (cd "$tmp/out/sensors" && xargs -P 2 -n 1 sh -c \
            'lz4 -d -q "$0" "'"$tmp"'/raw/$(echo "$0" | tr / _ | sed "s/\.lz4$//")"' <"$tmp/list")
        sync
        /usr/bin/time -v -o "$tmp/t3.txt" sh -c "cd '$tmp/raw' && ls | xargs -P 2 -n 500 lz4 -1 -q -m"
        ff=$(wall_of "$tmp/t2.txt")
        lz=$(wall_of "$tmp/t3.txt")
        plain=$(wall_of "$tmp/t0.txt")
        wall=$(wall_of "$tmp/t1.txt")
        python3 - "$min" "$nff" "$ff" "$nl" "$lz" "$plain" "$wall" "$tmp/sum.json" >>"$base" <<'EOF'
import json, sys
m, nff, ff, nl, lz, plain, wall = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
b = json.load(open(sys.argv[8]))["bundle"]
inc = wall - plain
tools = ff + lz
print(f"| {m} min | ffmpeg: {nff} PNGs in {ff:.1f} s | lz4: {nl} clouds in {lz:.1f} s | "
      f"tools {tools:.1f} s | bundle's increment over sync {inc:.1f} s ({b['images']} PNGs, "
      f"{b['clouds']} clouds, LiDAR decode and labels too) | {tools / inc:.2f}x |")
EOF
    fi
    rm -rf "$tmp/out" "$tmp/plain" "$tmp/ff" "$tmp/raw" "$d"
done
echo "| drive | frames | images / clouds | written | sync alone | sync --bundle | frames/s | MB/s | real time | CPU s: decode / points / png / lz4 / labels / write | peak RSS sync | peak RSS bundle |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$rows"
echo
echo "| drive | ffmpeg (same PNG settings) | lz4 -1 (2 processes) | tools total | v2xsync | tools / v2xsync |"
echo "|---|---|---|---|---|---|"
cat "$base"
