#!/bin/sh
# bench_report.sh: `v2xsync report` and `v2xsync check` on the sync outputs of synthetic drives
# of several lengths: seconds, MB/s of input read, peak memory; and, in the same run, jq reading
# the same files (every line of frames.jsonl and v2x_messages.jsonl parsed, the JSON documents
# parsed): the cost of just parsing what the report reads, with a standard tool.
#
#   tests/bench/bench_report.sh BUILD_DIR [MINUTES...]      (default: 10 60)
#
# Drives and outputs go to $TMPDIR (a 60-minute drive and its sync output take about 9 GB) and
# are removed afterwards. Needs /usr/bin/time (GNU time) and jq. Prints a Markdown table.
set -eu
build=${1:?usage: bench_report.sh BUILD_DIR [MINUTES...]}
shift
[ $# -gt 0 ] || set -- 10 60
cli="$build/v2xsync"
command -v jq >/dev/null || { echo "bench_report.sh: needs jq" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/v2xsync-bench-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

wall_of() { # GNU time -v output: elapsed seconds
    sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1" |
        awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }'
}
rss_of() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

echo "| drive | frames | input read | report | MB/s | peak RSS | check | jq (parse only) | report / jq | report.html | report.json |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for min in "$@"; do
    d="$tmp/drive$min"
    o="$tmp/out$min"
    "$cli" synth -q --seed 1 --duration $((min * 60)) -o "$d" >/dev/null
    "$cli" sync -q "$d/scenario.json" -o "$o" >/dev/null
    rm -rf "$d"
    mb=$(du -cm "$o"/*.json "$o"/*.jsonl | tail -1 | cut -f1)
    cat "$o"/* >/dev/null # warm cache for every run alike
    /usr/bin/time -v -o "$tmp/t_report.txt" "$cli" report -q "$o"
    /usr/bin/time -v -o "$tmp/t_check.txt" "$cli" check -q "$o" >/dev/null || true
    /usr/bin/time -v -o "$tmp/t_jq.txt" sh -c \
        'for f in "$1"/*.jsonl "$1"/run.json "$1"/clocks.json "$1"/links.json; do
             jq -c empty "$f" || exit 1; done' _ "$o"
    frames=$(wc -l <"$o/frames.jsonl")
    html=$(du -k "$o/report.html" | cut -f1)
    rj=$(du -k "$o/report.json" | cut -f1)
    wr=$(wall_of "$tmp/t_report.txt")
    wc_=$(wall_of "$tmp/t_check.txt")
    wj=$(wall_of "$tmp/t_jq.txt")
    awk -v m="$min" -v f="$frames" -v mb="$mb" -v wr="$wr" -v wc="$wc_" -v wj="$wj" \
        -v rss="$(rss_of "$tmp/t_report.txt")" -v h="$html" -v j="$rj" 'BEGIN {
        printf "| %d min | %d | %d MB | %.1f s | %.0f | %.0f MB | %.1f s | %.1f s | %.2fx | %d kB | %d kB |\n",
            m, f, mb, wr, mb / wr, rss / 1024, wc, wj, wr / wj, h, j }'
    rm -rf "$o"
done
