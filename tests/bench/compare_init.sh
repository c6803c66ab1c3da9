#!/bin/sh
# compare_init.sh: do two builds of v2xsync draft the same manifest with `init`? For refactors
# that must not change behaviour: run it with the build before and the build after.
#
#   tests/bench/compare_init.sh OLD_BUILD_DIR NEW_BUILD_DIR
#
# Each case runs `v2xsync init ARGS` with both builds from the same folder and compares stdout,
# stderr, the exit status and, with -o FILE, the file written and what is left in FILE's folder
# (a temporary file left behind shows up there). Cases: synthetic drives (profiles etsi, us and
# mixed, several seeds, 20 s) written by the OLD build, drafted to stdout, with --json, with -o
# beside the drive (relative paths), outside it (absolute paths), inside it (refused), onto an
# existing file (refused, then --force); a drive with junk files, odd agent folder names and a
# damaged sidecar; the refusals (no folder, a file, no agent folder, nothing recognised); and,
# when ../shared/datasets is present, folders of symlinks to the real recordings (as
# tests/cli/init_cli_test.cc builds one, and one with every recording and side file). Prints one
# line per case and exits 1 if anything differs byte for byte.
set -eu
old=${1:?usage: compare_init.sh OLD_BUILD_DIR NEW_BUILD_DIR}
new=${2:?usage: compare_init.sh OLD_BUILD_DIR NEW_BUILD_DIR}
old=$(cd "$old" && pwd)
new=$(cd "$new" && pwd)
here=$(cd "$(dirname "$0")/../.." && pwd)
shared="$here/../shared/datasets"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/v2xsync-compare-init.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
w="$tmp/w"     # the drives, and the working folder every run starts in
o="$tmp/out"   # an output folder outside the drives
r="$tmp/r"     # results
mkdir -p "$w" "$o" "$r"
fail=0
cases=0

# snapshot: every entry below the drives' folder with its type, size and modification time.
snapshot() {
    (cd "$w" && find . -mindepth 1 -printf '%p %y %s %T@\n' | LC_ALL=C sort | cksum)
}

# run_case NAME OUTFILE PRE ARGS...: OUTFILE is -o's file ("" without -o); PRE "exists" puts a
# file there before each run.
run_case() {
    name=$1
    outf=$2
    pre=$3
    shift 3
    for side in old new; do
        if [ "$side" = old ]; then b=$old; else b=$new; fi
        if [ -n "$outf" ]; then
            rm -f "$outf"
            if [ "$pre" = exists ]; then printf 'keep\n' >"$outf"; fi
        fi
        before=$(snapshot)
        rc=0
        (cd "$w" && "$b/v2xsync" init "$@") >"$r/$side.out" 2>"$r/$side.err" || rc=$?
        echo "$rc" >"$r/$side.rc"
        : >"$r/$side.file"
        : >"$r/$side.ls"
        if [ -n "$outf" ]; then
            if [ -d "$(dirname "$outf")" ]; then
                (cd "$(dirname "$outf")" && find . -maxdepth 1 ! -type d | LC_ALL=C sort) >"$r/$side.ls"
            fi
            if [ -f "$outf" ]; then cp "$outf" "$r/$side.file"; else echo "(no file)" >"$r/$side.file"; fi
            rm -f "$outf"
        fi
        # Nothing may be written into the drives (-o FILE beside them is removed by now).
        if [ "$before" != "$(snapshot)" ]; then
            echo "$name: the $side build changed the input folders"
            fail=1
        fi
    done
    diffs=""
    for part in rc out err file ls; do
        cmp -s "$r/old.$part" "$r/new.$part" || diffs="$diffs $part"
    done
    cases=$((cases + 1))
    if [ -z "$diffs" ]; then
        printf '%s: identical (exit %s, stdout %s B, stderr %s B, file %s B)\n' "$name" \
            "$(cat "$r/new.rc")" "$(wc -c <"$r/new.out")" "$(wc -c <"$r/new.err")" \
            "$(wc -c <"$r/new.file")"
    else
        echo "$name: DIFFERS in$diffs"
        for part in $diffs; do diff "$r/old.$part" "$r/new.$part" | head -10 || true; done
        fail=1
    fi
}

# ---- synthetic drives ------------------------------------------------------------------------
for spec in "1 mixed" "7 mixed" "3 etsi" "5 etsi" "4 us" "6 us"; do
    set -- $spec
    d="seed$1-$2"
    "$old/v2xsync" synth -q --seed "$1" --profile "$2" --duration 20 -o "$w/$d" >/dev/null
    run_case "$d stdout" "" "" "$d"
    run_case "$d json" "" "" --json "$d"
    run_case "$d -o outside" "$o/draft.json" "" "$d" -o "$o/draft.json"
done
for d in seed1-mixed seed4-us; do
    run_case "$d absolute DIR/" "" "" "$w/$d/"
    run_case "$d -q" "" "" -q "$d"
    run_case "$d -o beside" "$w/$d.json" "" "$d" -o "$d.json"
    run_case "$d -o beside absolute" "$w/$d.json" "" "$w/$d" -o "$w/$d.json"
    run_case "$d -o outside json" "$o/draft.json" "" --json "$w/$d" -o "$o/draft.json"
    run_case "$d -o outside json -q" "$o/draft.json" "" --json -q "$d" -o "$o/draft.json"
    run_case "$d -o inside" "$w/$d/ego/draft.json" "" --force "$d" -o "$d/ego/draft.json"
    run_case "$d -o DIR itself" "$w/$d/draft.json" "" "$d" -o "$d/draft.json"
    run_case "$d -o exists" "$o/draft.json" exists "$d" -o "$o/draft.json"
    run_case "$d -o exists --force" "$o/draft.json" exists --force "$d" -o "$o/draft.json"
    run_case "$d -o no folder" "" "" "$d" -o "$o/nowhere/draft.json"
done

# ---- a drive with junk, odd names and a damaged sidecar ---------------------------------------
j="$w/junk"
cp -r "$w/seed1-mixed" "$j"
printf 'hi\n' >"$j/ego/notes.txt"
: >"$j/ego/empty.bin"
printf 'x\n' >"$j/ego/.hidden"
mkdir -p "$j/ego/sub" "$j/.hiddenagent" "$j/Bike 1" "$j/a b" "$j/a_b" "$j/ped-2" "$j/empty-agent"
mkfifo "$j/ego/fifo"
cp "$j/phone/v2x.pcap" "$j/Bike 1/radio.bin"
cp "$j/phone/v2x.pcap" "$j/a b/v2x.pcap"
cp "$j/phone/v2x.pcap" "$j/a_b/v2x.pcap"
cp "$j/rsu/lidar.pcap" "$j/ped-2/lidar.pcap"
head -c 3000 "$j/vehicle2/lidar.pcap" >"$j/ped-2/cut.pcap"
printf 'not a drive\n' >"$j/README"
# A sidecar one line short (no longer one line per frame), and a second video without one.
sed '$d' "$j/ego/camera.timestamps" >"$j/ego/camera.timestamps.new"
mv "$j/ego/camera.timestamps.new" "$j/ego/camera.timestamps"
cp "$j/ego/camera.mp4" "$j/ego/rear.mp4"
if [ -d "$shared" ]; then
    ln -s "$shared/lidar/ouster/OS-1-64_1024x10_fw20.json" "$j/ego/os1.json"      # unused
    ln -s "$shared/lidar/calib/velodyne/VLS128.yaml" "$j/ego/vls128.yaml"          # unused
    ln -s "$shared/lidar/calib/velodyne/VLP32.yaml" "$j/ego/vlp32.yaml"            # fits VLP-32C
fi
run_case "junk stdout" "" "" junk
run_case "junk json" "" "" --json junk
run_case "junk -o outside json" "$o/draft.json" "" --json junk -o "$o/draft.json"
run_case "junk -o beside" "$w/junk.json" "" junk -o junk.json

# ---- refusals --------------------------------------------------------------------------------
mkdir -p "$w/flat" "$w/nothing/agent"
printf '\1\2\3' >"$w/flat/loose.pcap"
printf 'x\n' >"$w/nothing/agent/notes.txt"
run_case "missing DIR" "" "" nowhere
run_case "missing DIR -o" "$o/draft.json" "" nowhere -o "$o/draft.json"
run_case "DIR is a file" "" "" flat/loose.pcap
run_case "DIR is a file -o exists" "$o/draft.json" exists flat/loose.pcap -o "$o/draft.json"
run_case "no agent folder" "" "" flat
run_case "no agent folder json" "" "" --json flat
run_case "no recognised recording" "" "" nothing
run_case "no recognised recording json -o" "$o/draft.json" "" --json nothing -o "$o/draft.json"
run_case "no DIR" "" ""
run_case "two DIRs" "" "" flat nothing

# ---- real recordings -------------------------------------------------------------------------
if [ -d "$shared" ]; then
    # The folder of init_cli_test.cc's RealRecordingsAreRecognisedByContent.
    rec="$w/real-rec"
    mkdir -p "$rec/car" "$rec/RSU-north" "$rec/obu"
    ln -s "$shared/lidar/velodyne/mrpt_vlp16_gps.pcap" "$rec/car/capture.bin"
    ln -s "$shared/lidar/calib/velodyne/VLP16.yaml" "$rec/car/laser-table.yaml"
    ln -s "$shared/camera/phone_vfr_1080p.mp4" "$rec/car/front.mp4"
    ln -s "$shared/lidar/ouster/OS-1-64_1024x10_fw20.pcap" "$rec/RSU-north/scan.pcap"
    ln -s "$shared/lidar/ouster/OS-1-64_1024x10_fw20.json" "$rec/RSU-north/scan.json"
    ln -s "$shared/lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.pcap" "$rec/RSU-north/os2.pcap"
    ln -s "$shared/lidar/ouster/OS-2-128-U1_v2.3.0_1024x10.json" "$rec/RSU-north/sensor-meta.json"
    ln -s "$shared/v2x/us/jpo-ode/data/bsmLogDuringEvent.bin" "$rec/obu/drive.log"
    ln -s "$shared/v2x/us/wydot_bsm_wsmp_rewrapped.pcap" "$rec/obu/radio.cap"
    printf 'drive\n' >"$rec/car/README.txt"
    run_case "real-rec stdout" "" "" real-rec
    run_case "real-rec json -o outside" "$o/scenario.json" "" --json -o "$o/scenario.json" real-rec
    run_case "real-rec -o beside" "$w/real-rec.json" "" real-rec -o real-rec.json
    # Every recording and side file, one agent folder per dataset folder, under their names.
    all="$w/real-all"
    for sub in lidar/velodyne lidar/ouster lidar/calib/velodyne camera v2x/etsi v2x/us \
        v2x/us/jpo-ode/data v2x/us/jpo-ode/udp v2x/us/jpo-ode/asn1 v2x/us/v2x-hub; do
        a="$all/$(echo "$sub" | tr / -)"
        mkdir -p "$a"
        for f in "$shared/$sub"/*; do
            [ -f "$f" ] && ln -s "$f" "$a/$(basename "$f")"
        done
    done
    run_case "real-all stdout" "" "" real-all
    run_case "real-all json" "" "" --json "$all"
    run_case "real-all -o outside" "$o/all.json" "" real-all -o "$o/all.json"
else
    echo "note: $shared not found: real recordings not compared"
fi
echo "$cases cases compared"
exit $fail
