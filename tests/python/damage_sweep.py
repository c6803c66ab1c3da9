#!/usr/bin/python3
"""Damage sweep: "one bad byte loses one unit, never a file" (issue 21), over the real recordings.

Every real capture and recording in ../shared/datasets (LiDAR and V2X pcaps, the Wyoming OBU logs,
the hex logs, the phone video; not the calibration, XML, JSON or PCD files), plus three files
derived from them in the temporary folder (a pcapng made by editcap from the WSMP pcap, a
"fast start" MP4 made by ffmpeg, an empty file), is copied with one mutation at a time into a
temporary folder (deleted at the end; nothing is ever written into the repository or the
datasets) and read by `v2xsync inspect --json` and `v2xsync dump --json` (LiDAR: `--sweeps`,
Ouster: `--meta` with its metadata) with a per-process timeout. Mutation classes:

  cut       truncation at a seeded spread over the whole file and inside the first records
            (file header, first record headers, first records; MP4: its first boxes)
  flip      one seeded bit flip anywhere;  recflip: in a record header;  fhflip: in the file header
  ow        8 seeded bytes overwritten at a seeded offset
  caplen, len (pcap record header), epb-btl, shb-btl, idb-btl, epb-caplen (pcapng),
  wylen (Wyoming payload length, bytes 24-25 of the 26-byte record header),
  box (MP4 box size): hostile values 0, 1, value+-1, snaplen+1, 7, 0x7fffffff, 0xffffffff, 0xffff
  mediacut  the fast-start MP4 (moov before mdat) cut inside its media
  nul       a NUL at byte 10 of v2x-hub/bsm_vectors.txt;  empty: an empty file

Checked per mutation (the contract of README "Bad units"; a failure names file, mutation,
offset, seed, exit codes and the messages):
  1 no signal, no sanitizer report on stderr, no timeout
  2 exit 0, 1 or 2 only; unchanged bytes exit as the original (0); an empty file exits 2 in
    both commands; a cut inside a record, a changed record/box length exits non-zero
  3 the kind is kept: when a command reads the file (exit 0/1) it reads it as the original's
    kind (inspect's "kind"; dump's output objects and the unit word of its messages: pcap
    "packet", Wyoming "record", hex "line"; never "no V2X messages" for a LiDAR/video file)
  4 every stderr line / inspect message names the file; one naming a unit (packet, record,
    line, frame N) gives its byte offset; a file-level one gives a reason (not a bare status)
  5 a cut keeps every unit that ended before the cut, unchanged (captures: `inspect --records`;
    V2X: dump's messages; LiDAR: sweeps whose packets and the one after ended before the cut;
    MP4 with moov first: frames whose bytes ended before the cut)
  6 a flip, overwrite or hostile length inside a unit loses (absent or changed) at most the
    units from the damaged one up to where the reader says "resynchronised at byte N"; without
    such a message, only the damaged unit. Hex logs: the damaged line, and the next one when
    the byte was the line's newline. Damage in a file header (pcap header, pcapng SHB/IDB,
    MP4 ftyp/moov/free box, mdat header) is file-level: only 1-4 apply.
Precise definitions chosen where the contract is loose on real data: a unit is "kept" when the
unmutated read has one at the same byte offset with the same content; compared are inspect's
record lines without locator.index/source, dump's V2X messages without "index", sweeps without
their number and device-time fields (those follow the capture's first $GPRMC, a later unit) and
`pps`, and a sweep may change when it holds (+-1 packet) a record that may be lost; video
frames by pts, pts_ns, key, size, width, height, offset (t_ns and duration_ns follow the clip's
end). inspect is held to the contract for every kind its unmutated read recognises (captures, videos,
and V2X logs once it reads them); for a kind it refuses unmutated (exit 2, kind unknown) it must
keep refusing it, while dump carries the contract. A unit message is one whose text after
"FILE: " starts with "packet|record|line|frame N"; any other line is file-level.

Modes (env V2XSYNC_SWEEP or --mode): `ci` (default: ~400 mutations, ~860 processes of ~0.12 s
CPU each: ~55 s on 2 idle cores), `asan` (chosen by itself when the binary links ASan/UBSan,
-DVXS_SANITIZE=ON: ~215 mutations, fewer cuts and flips, 3 caplen + 1 len value per pcap, 120 s
timeouts; ~0.3 s CPU per process: ~65 s on 2 idle cores, ~3.5 min at load 8, under the 240 s
budget), `long` (local: every byte of
the first 1300 bytes, i.e. the file header and first records, 60 flips, 30 overwrites, every
hostile value on 3 records, every box size; ~24,000 mutations, ~45 min on 2 cores; more --jobs
on a bigger machine). CI counts per input: pcap 3 spread + 4 head cuts (+2 fixed: inside the file
header and the first record header), 3 flips, 1 record-header flip, 1 file-header flip, 2
overwrites, 5 of the 7 caplen values + 1 len value (seeded, so the 10 pcaps cover all); Wyoming
the same with all wylen values; hex 3 + 2 cuts, 2 flips, 1 overwrite; MP4 3 + 4 cuts in the
first boxes, 3 flips, 2 moov flips, 2 overwrites, 8 box sizes; fast-start MP4 also 4 media cuts.
Jobs: --jobs or
V2XSYNC_SWEEP_JOBS (default 2). Seed: --seed or V2XSYNC_SWEEP_SEED (default 21 in ci/asan; long
picks and prints a fresh one). A mutation's name (INPUT::CLASS::LABEL, e.g.
`lidar/velodyne/nebula_vlp32c.pcap::flip::flip@1234.b5`) fully describes it, so a failure
replays without the seed:

  V2XSYNC=build/v2xsync python3 tests/python/damage_sweep.py \\
      --replay 'lidar/velodyne/nebula_vlp32c.pcap::flip::flip@1234.b5' --keep /tmp/replay -v

(--keep writes the mutated file there and prints both commands; the whole sweep of one mode:
`python3 tests/python/damage_sweep.py --mode long --seed 7`; under pytest:
tests/python/test_damage_sweep.py, ctest entry Python.DamageSweep.)
"""

import argparse
import collections
import concurrent.futures
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: per mode: mutation counts (per input) and the per-process timeout in seconds.
MODES = {
    "ci": dict(cut_spread=3, cut_head=4, flip=3, recflip=1, fhflip=1, ow=2, lens=6, box=8,
               hex_cut=3, hex_flip=2, hex_ow=1, mediacut=4, every_head=False, timeout=30),
    "asan": dict(cut_spread=1, cut_head=1, flip=1, recflip=1, fhflip=1, ow=1, lens=4, box=4,
                 hex_cut=1, hex_flip=1, hex_ow=1, mediacut=2, every_head=False, timeout=120),
    "long": dict(cut_spread=40, cut_head=0, flip=60, recflip=24, fhflip=24, ow=30, lens=999,
                 box=999, hex_cut=0, hex_flip=40, hex_ow=10, mediacut=40, every_head=True,
                 timeout=60),
}
DEFAULT_SEED = 21

#: the real recordings the sweep reads (globs under datasets/), and their kind.
DATASET_GLOBS = [
    ("lidar/velodyne/*.pcap", "pcap-lidar"),
    ("lidar/ouster/*.pcap", "pcap-lidar"),
    ("v2x/etsi/*.pcap", "pcap-v2x"),
    ("v2x/us/*.pcap", "pcap-v2x"),
    ("v2x/us/jpo-ode/data/*.bin", "wydot"),
    ("v2x/us/v2x-hub/bsm_vectors.txt", "hex"),
    ("v2x/us/jpo-ode/udp/*.txt", "hex"),
    ("camera/phone_vfr_1080p.mp4", "mp4"),
]
SAN_RE = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|"
                    r"UndefinedBehaviorSanitizer|AddressSanitizer:DEADLYSIGNAL")
RESYNC_RE = re.compile(r"resynchroni[sz]ed at byte (\d+)")
UNIT_RE = re.compile(r"\b(packet|record|line|frame|block|box|message|unit|sample) (\d+)\b")
OFFSET_RE = re.compile(r"\boffset \d+")
GENERIC = {"success", "end of stream", "out of memory", "i/o error", "input truncated",
           "malformed input", "configured limit exceeded", "unsupported format",
           "invalid argument", "not found", "operation not valid in this state", "canceled", ""}


# ---- inputs ---------------------------------------------------------------------------------

class Input:
    """One file the sweep mutates: a real recording or one derived from one (name derived/...)."""

    def __init__(self, name, path, kind, dump_args=()):
        self.name, self.path, self.kind, self.dump_args = name, Path(path), kind, list(dump_args)
        self.data = b""
        self.units = []      # [(start, end)] of the units, in file order
        self.header_end = 0  # bytes before the first unit (file header)
        self.fields = {}     # per unit index: {field name: (offset, fmt, value)}
        self.snaplen = 0
        self.base = None     # baseline Outcome per command
        self.notes = []

    @property
    def capture(self):
        return self.kind in ("pcap-lidar", "pcap-v2x", "pcapng")

    @property
    def video(self):
        return self.kind in ("mp4", "mp4-faststart")

    def __repr__(self):
        return self.name


def shared_dir():
    for var in ("VXS_SHARED_DIR", "VXS_SHARED"):
        if os.environ.get(var):
            return Path(os.environ[var])
    return (REPO / ".." / "shared").resolve()


def dataset_inputs(datasets):
    out = []
    for pattern, kind in DATASET_GLOBS:
        for p in sorted(datasets.glob(pattern)):
            args = ["--sweeps"] if kind == "pcap-lidar" else []
            if "ouster" in pattern:
                metas = sorted(p.parent.glob(p.stem + ".*json"))
                for m in metas:
                    args += ["--meta", str(m)]
            out.append(Input(str(p.relative_to(datasets)), p, kind, args))
    return out


def derived_inputs(datasets, tmp):
    """The pcapng (editcap), the fast-start MP4 (ffmpeg) and the empty file, built in tmp."""
    out, notes = [], []
    wydot = datasets / "v2x/us/wydot_bsm_wsmp_rewrapped.pcap"
    dst = Path(tmp) / "derived_wydot.pcapng"
    if shutil.which("editcap") and wydot.exists():
        subprocess.run(["editcap", "-F", "pcapng", str(wydot), str(dst)], check=True,
                       capture_output=True)
        out.append(Input("derived/wydot_bsm_wsmp_rewrapped.pcapng", dst, "pcapng"))
    else:
        notes.append("no editcap: the pcapng input is skipped")
    mp4 = datasets / "camera/phone_vfr_1080p.mp4"
    dst = Path(tmp) / "derived_faststart.mp4"
    if shutil.which("ffmpeg") and mp4.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(mp4), "-c", "copy", "-map", "0",
                        "-movflags", "+faststart", str(dst)], check=True, capture_output=True)
        out.append(Input("derived/phone_vfr_1080p.faststart.mp4", dst, "mp4-faststart"))
    else:
        notes.append("no ffmpeg: the fast-start MP4 is skipped")
    dst = Path(tmp) / "derived_empty"
    dst.write_bytes(b"")
    out.append(Input("derived/empty", dst, "empty"))
    return out, notes


# ---- file layouts (independent of the readers) ----------------------------------------------

def layout(inp):
    """Fill inp.units, header_end, fields from the bytes, with our own parsers."""
    d = inp.data
    if inp.kind in ("pcap-lidar", "pcap-v2x"):
        e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        inp.snaplen = struct.unpack_from(e + "I", d, 16)[0]
        inp.header_end, o = 24, 24
        while o + 16 <= len(d):
            cap, wire = struct.unpack_from(e + "II", d, o + 8)
            inp.fields[len(inp.units)] = {"caplen": (o + 8, e + "I", cap),
                                          "len": (o + 12, e + "I", wire)}
            inp.units.append((o, o + 16 + cap))
            o += 16 + cap
    elif inp.kind == "pcapng":
        o = 0
        while o + 12 <= len(d):
            btype, btl = struct.unpack_from("<II", d, o)
            f = {"btl": (o + 4, "<I", btl)}
            if btype == 1:
                inp.snaplen = struct.unpack_from("<I", d, o + 12)[0]
            if btype == 6:
                f["caplen"] = (o + 20, "<I", struct.unpack_from("<I", d, o + 20)[0])
                inp.fields[len(inp.units)] = f
                inp.units.append((o, o + btl))
            else:
                inp.fields[("block", btype, o)] = f
                if not inp.units:
                    inp.header_end = o + btl
            o += btl
    elif inp.kind == "wydot":
        o = 0
        while o + 26 <= len(d):
            n = struct.unpack_from("<H", d, o + 24)[0]
            inp.fields[len(inp.units)] = {"wylen": (o + 24, "<H", n)}
            inp.units.append((o, o + 26 + n))
            o += 26 + n
    elif inp.kind == "hex":
        o = 0
        for line in d.split(b"\n"):
            s = line.strip()
            if s and not s.startswith(b"#"):
                inp.units.append((o, o + len(line) + 1))
            o += len(line) + 1
    elif inp.video:
        inp.boxes = mp4_boxes(d)
        # units (frames) are filled from the baseline dump: (offset, offset+size)


def mp4_boxes(d, o=0, end=None, depth=0, out=None):
    """[(start, size, type, depth)] of the boxes down to the sample tables."""
    out = [] if out is None else out
    end = len(d) if end is None else end
    while o + 8 <= end:
        size, typ = struct.unpack_from(">I4s", d, o)
        hl = 8
        if size == 1:
            size, hl = struct.unpack_from(">Q", d, o + 8)[0], 16
        elif size == 0:
            size = end - o
        if size < hl:
            break
        out.append((o, size, typ.decode("latin-1"), depth))
        if typ in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
            mp4_boxes(d, o + hl, o + size, depth + 1, out)
        o += size
    return out


# ---- mutations ------------------------------------------------------------------------------

def apply_label(label, data):
    """The bytes of `data` after the mutation `label` (see the module doc)."""
    if label == "empty":
        return b""
    m = re.fullmatch(r"(\w+)@(\d+)(?:\.b(\d))?(?:=(\w+))?", label)
    if not m:
        raise ValueError(f"bad mutation label {label!r}")
    op, off, bit, val = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    b = bytearray(data)
    if op == "cut":
        return bytes(b[:off])
    if op == "flip":
        b[off] ^= 1 << int(bit)
    elif op == "nul":
        b[off] = 0
    elif op == "ow":
        v = bytes.fromhex(val)
        b[off:off + 8] = v[:max(0, min(8, len(b) - off))]
    elif op in ("u32le", "u32be", "u16le"):
        fmt = {"u32le": "<I", "u32be": ">I", "u16le": "<H"}[op]
        struct.pack_into(fmt, b, off, int(val, 0) & (0xFFFFFFFF if "32" in op else 0xFFFF))
    else:
        raise ValueError(f"bad mutation op {op!r}")
    return bytes(b)


def field_label(off, fmt, value):
    op = {"<I": "u32le", ">I": "u32be", "<H": "u16le"}[fmt]
    return f"{op}@{off}={value:#x}"


NONZERO_CLASSES = {"caplen", "epb-btl", "shb-btl", "idb-btl", "wylen", "mediacut"}


class Mutation:
    """One mutation of one input; `nonzero`: the damage is certain, exit 0 would hide it."""

    def __init__(self, inp, cls, label):
        self.inp, self.cls, self.label = inp, cls, label
        m = re.match(r"\w+@(\d+)", label)
        self.offset = int(m.group(1)) if m else 0
        self.nonzero = cls in NONZERO_CLASSES
        if label.startswith("cut@"):
            ends = {inp.header_end} | {e for _, e in inp.units} | {len(inp.data)}
            self.nonzero = inp.video or ((inp.capture or inp.kind == "wydot")
                                         and self.offset not in ends)

    @property
    def name(self):
        return f"{self.inp.name}::{self.cls}::{self.label}"


def _spread(rng, lo, hi, n):
    return sorted(rng.randrange(lo, hi) for _ in range(n)) if hi > lo else []


def mutations(inp, mode, seed):
    """The mutations of one input in one mode: deterministic for (seed, input, mode)."""
    c = MODES[mode]
    d, size = inp.data, len(inp.data)
    out = []

    def rng(cls):
        return random.Random(f"{seed}:{inp.name}:{cls}")

    if inp.kind == "empty":
        return [Mutation(inp, "empty", "empty")]
    boundaries = {inp.header_end} | {e for _, e in inp.units} | {size}
    unit_kind = inp.capture or inp.kind == "wydot"

    # truncation: a spread over the file, and inside the file header and the first records
    r = rng("cut")
    cuts = set(_spread(r, 1, size, c["cut_spread"] if inp.kind != "hex" else c["hex_cut"]))
    if inp.video:
        head_end = max(o + s for o, s, t, dep in inp.boxes if t == "moov")
    else:
        head_end = inp.units[min(2, len(inp.units) - 1)][1] if inp.units else size
    head_end = min(head_end, size - 1)
    if c["every_head"]:  # every byte of the first 1300 (file header + first record), then 64 more
        cuts |= set(range(1, min(head_end, 1300) + 1))
        cuts |= set(range(1301, head_end + 1, max(1, (head_end - 1300) // 64)))
    else:
        special = [o for o in (inp.header_end - 1, inp.header_end + 5, inp.header_end + 16)
                   if 0 < o < size] if unit_kind else []
        nhead = min(2, c["cut_head"]) if inp.kind == "hex" else c["cut_head"]
        cuts |= set(special[:2]) | set(r.sample(range(1, head_end + 1), min(nhead, head_end)))
    for o in sorted(cuts):
        nz = inp.video or (unit_kind and o not in boundaries)
        out.append(Mutation(inp, "cut", f"cut@{o}"))

    # bit flips and overwrites
    nflip = c["hex_flip"] if inp.kind == "hex" else c["flip"]
    r = rng("flip")
    for _ in range(nflip):
        o = r.randrange(size)
        out.append(Mutation(inp, "flip", f"flip@{o}.b{r.randrange(8)}"))
    if unit_kind and inp.units:
        r = rng("recflip")
        hl = 16 if inp.kind in ("pcap-lidar", "pcap-v2x") else (28 if inp.kind == "pcapng" else 26)
        for _ in range(c["recflip"]):
            s, _e = inp.units[r.randrange(len(inp.units))]
            o = s + r.randrange(hl)
            out.append(Mutation(inp, "recflip", f"flip@{o}.b{r.randrange(8)}"))
        r = rng("fhflip")
        if inp.header_end:
            for _ in range(c["fhflip"]):
                o = r.randrange(inp.header_end)
                out.append(Mutation(inp, "fhflip", f"flip@{o}.b{r.randrange(8)}"))
    if inp.video:
        r = rng("moovflip")
        moov = [(o, s) for o, s, t, dep in inp.boxes if t == "moov"][0]
        for _ in range(c["fhflip"] + 1):
            o = r.randrange(moov[0], moov[0] + moov[1])
            out.append(Mutation(inp, "moovflip", f"flip@{o}.b{r.randrange(8)}"))
    r = rng("ow")
    for _ in range(c["hex_ow"] if inp.kind == "hex" else c["ow"]):
        o = r.randrange(max(1, size - 8))
        out.append(Mutation(inp, "ow", f"ow@{o}={r.randbytes(8).hex()}"))

    # hostile length fields
    r = rng("len")
    cand = []
    if inp.units and inp.kind in ("pcap-lidar", "pcap-v2x", "pcapng", "wydot"):
        nrec = 3 if mode == "long" else 1
        idxs = sorted({r.randrange(max(1, len(inp.units) * 2 // 3)) for _ in range(nrec)})
        for i in idxs:
            for fname, (off, fmt, v) in inp.fields[i].items():
                cls = {"pcapng": "epb-"}.get(inp.kind, "") + fname
                if fmt.endswith("H"):
                    vals = [0, 1, v - 1, v + 1, 0xFFFF]
                else:
                    vals = [0, 1, v - 1, v + 1, 0x7FFFFFFF, 0xFFFFFFFF]
                    if fname == "caplen":
                        vals.insert(4, inp.snaplen + 1)
                for x in vals:
                    if x != v:
                        cand.append(Mutation(inp, cls, field_label(off, fmt, x)))
        if inp.kind == "pcapng":
            for key, f in inp.fields.items():
                if isinstance(key, tuple):
                    off, fmt, v = f["btl"]
                    cls = {0x0A0D0D0A: "shb-btl", 1: "idb-btl"}.get(key[1], f"b{key[1]}-btl")
                    for x in (0, 1, v - 1, v + 1, 0x7FFFFFFF, 0xFFFFFFFF):
                        cand.append(Mutation(inp, cls, field_label(off, fmt, x)))
    if inp.video:
        for o, s, t, dep in inp.boxes:
            if t in ("ftyp", "moov", "free", "mdat", "trak", "stbl", "stsz", "stco", "stts"):
                for x in (0, 1, 7, s - 1, s + 1, 0xFFFFFFFF):
                    cand.append(Mutation(inp, "box", field_label(o, ">I", x) + ""))
        r.shuffle(cand)
        cand = cand[:c["box"]]
    elif len(cand) > c["lens"]:
        # keep every caplen / wylen / btl value (the layout-breaking ones), sample the rest
        must = [m for m in cand if m.nonzero]
        rest = [m for m in cand if not m.nonzero]
        r.shuffle(must)
        r.shuffle(rest)
        cand = (must[:c["lens"] - 1] + rest[:1] + must[c["lens"] - 1:] + rest[1:])[:c["lens"]]
    out += cand

    if inp.kind == "mp4-faststart":
        mdat = [(o, s) for o, s, t, dep in inp.boxes if t == "mdat"][0]
        r = rng("mediacut")
        for o in _spread(r, mdat[0] + 16, mdat[0] + mdat[1], c["mediacut"]):
            out.append(Mutation(inp, "mediacut", f"cut@{o}"))
    if inp.name.endswith("v2x-hub/bsm_vectors.txt"):
        out.append(Mutation(inp, "nul", "nul@10"))
    return out


# ---- running the commands -------------------------------------------------------------------

class Outcome:
    """One command's run: exit status (negative: signal), timeout, stdout, stderr, parsed."""

    def __init__(self, cmd, rc, timeout, out, err, seconds):
        self.cmd, self.rc, self.timeout, self.out, self.err = cmd, rc, timeout, out, err
        self.seconds = seconds
        self.json = None    # inspect: the document's file object
        self.lines = []     # dump: parsed JSON lines; inspect: --records lines
        self.bad_lines = 0


def run(cmd, timeout):
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return Outcome(cmd, p.returncode, False, p.stdout.decode("utf-8", "replace"),
                       p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
    except subprocess.TimeoutExpired as e:
        return Outcome(cmd, None, True, (e.stdout or b"").decode("utf-8", "replace"),
                       (e.stderr or b"").decode("utf-8", "replace"), time.monotonic() - t0)


def run_commands(cli, inp, path, workdir, timeout):
    """inspect --json (--records for captures) and dump --json on path: {'inspect': O, 'dump': O}."""
    rec = Path(workdir) / (Path(path).name + ".records.jsonl")
    icmd = [str(cli), "inspect", "--json", "-q", "--max-errors", "100000"]
    if inp.capture:
        icmd += ["--records", str(rec)]
    i = run(icmd + [str(path)], timeout)
    try:
        i.json = json.loads(i.out)["files"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        i.json = None
    if inp.capture and rec.exists():
        for ln in rec.read_text(errors="replace").splitlines():
            try:
                i.lines.append(json.loads(ln))
            except ValueError:
                i.bad_lines += 1
        rec.unlink()
    d = run([str(cli), "dump", "--json", "-q", *inp.dump_args, str(path)], timeout)
    for ln in d.out.splitlines():
        try:
            d.lines.append(json.loads(ln))
        except ValueError:
            d.bad_lines += 1
    return {"inspect": i, "dump": d}


# ---- unit views for comparison --------------------------------------------------------------

SWEEP_SKIP = {"sweep", "device_start_ns", "device_end_ns", "device_start", "device_end",
              "capture_minus_device_ns", "pps"}
FRAME_KEEP = ("pts", "pts_ns", "key", "size", "width", "height", "offset")


def records_view(o):
    """inspect --records: {offset: canonical line} (locator.index / source left out).

    The ports are left out too: for the last fragment of an IPv4 datagram they come from the
    reassembled datagram, so a damaged earlier fragment changes them in a record whose own
    bytes are intact. The datagram, not the record, is the unit there."""
    v = {}
    for r in o.lines:
        r = json.loads(json.dumps(r))
        loc = r.get("locator") or {}
        loc.pop("index", None)
        loc.pop("source", None)
        summ = r.get("summary") or {}
        summ.pop("src_port", None)
        summ.pop("dst_port", None)
        v.setdefault(loc.get("offset"), []).append(json.dumps(r, sort_keys=True))
    return {k: sorted(x) for k, x in v.items()}


def dump_view(inp, o):
    """dump --json: {offset: canonical units} for V2X messages, sweeps or frames."""
    v = {}
    for u in o.lines:
        if not isinstance(u, dict):
            continue
        if inp.kind == "pcap-lidar":
            key = (u.get("sensor"), (u.get("locator") or {}).get("offset"))
            c = {k: x for k, x in u.items() if k not in SWEEP_SKIP}
            c["locator"] = {k: x for k, x in (u.get("locator") or {}).items() if k != "index"}
        elif inp.video:
            key = u.get("offset")
            c = {k: u.get(k) for k in FRAME_KEEP}
        else:
            key = u.get("offset")
            c = {k: x for k, x in u.items() if k != "index"}
        v.setdefault(key, []).append(json.dumps(c, sort_keys=True))
    return {k: sorted(x) for k, x in v.items()}


def lost_keys(base, mut):
    return sorted((k for k, x in base.items() if mut.get(k) != x),
                  key=lambda k: (0, k) if isinstance(k, int) else
                  (1, k) if isinstance(k, tuple) and None not in k else (2, 0))


# ---- the checks -----------------------------------------------------------------------------

def dump_kind_signature(o):
    """What dump read the file as: object kinds on stdout, unit words on stderr."""
    kinds = set()
    for u in o.lines:
        if isinstance(u, dict):
            kinds.add("lidar" if "lidar" in u else "video" if "pts" in u else
                      "v2x" if "proto" in u else "other")
    words = set(m.group(1) for m in re.finditer(r"\b(packet|record|line) \d+ \(byte offset",
                                                o.err))
    return kinds, words, "no V2X messages found" in o.err


EXPECT = {  # kind -> (dump stdout kinds allowed, stderr unit words allowed)
    "pcap-lidar": ({"lidar"}, {"packet"}),
    "pcap-v2x": ({"v2x"}, {"packet"}),
    "pcapng": ({"v2x"}, {"packet"}),
    "wydot": ({"v2x"}, {"record"}),
    "hex": ({"v2x"}, {"line"}),
    "mp4": ({"video"}, {"packet"}),
    "mp4-faststart": ({"video"}, {"packet"}),
}


def message_lines(cmd, o):
    """(text, path-bearing?) of every diagnostic: stderr lines, inspect's JSON messages."""
    msgs = [ln for ln in o.err.splitlines() if ln.strip()]
    if cmd == "inspect" and o.json:
        if o.json.get("error"):
            msgs.append("json error: " + o.json["error"])
        for m in (o.json.get("errors") or {}).get("messages") or []:
            msgs.append("json message: " + str(m.get("message")))
    return msgs


def check_messages(cmd, o, path, fails):
    for ln in message_lines(cmd, o):
        if re.match(r"v2xsync \w+: \(further messages not shown", ln):
            continue
        if path not in ln:
            fails.append(f"{cmd}: message does not name the file: {ln!r}")
            continue
        rest = ln.split(path, 1)[1].lstrip(": ").strip()
        m = UNIT_RE.match(rest)  # unit messages read "FILE: packet N (byte offset O): why"
        if m and int(m.group(2)) > 0 and not OFFSET_RE.search(ln):
            fails.append(f"{cmd}: unit message without byte offset: {ln!r}")
        elif not m and rest.lower().rstrip(".") in GENERIC:
            fails.append(f"{cmd}: file-level message names no reason: {ln!r}")


def resync_points(outs):
    pts = []
    for cmd in ("inspect", "dump"):
        for ln in message_lines(cmd, outs[cmd]):
            pts += [int(x) for x in RESYNC_RE.findall(ln)]
    return pts


def inspect_reads(inp):
    """Whether inspect reads this kind of file (captures, videos; V2X logs if the unmutated
    file's inspect gives a kind): else it must keep refusing it (exit 2, kind unknown)."""
    j = inp.base["inspect"].json or {}
    return inp.capture or inp.video or j.get("kind") not in (None, "unknown", "unreadable")


def unit_index(inp, off):
    for i, (s, e) in enumerate(inp.units):
        if s <= off < e:
            return i
    return None


def allowed_units(inp, mut, resync):
    """Unit start offsets that the damage of mut may cost: the damaged unit up to the resync."""
    if inp.kind == "hex":  # the damaged line (a comment too), and the next if its newline is hit
        s0 = inp.data.rfind(b"\n", 0, mut.offset) + 1
        ok = {s0}
        if inp.data[mut.offset:mut.offset + 1] == b"\n":
            ok.add(mut.offset + 1)
        return ok | {s for s, e in inp.units if s0 <= s < max(resync, default=0)}
    k = unit_index(inp, mut.offset)
    if k is None:
        return None
    s0 = inp.units[k][0]
    ok = {s0}
    if mut.label.startswith("ow@"):  # 8 bytes may reach into the next unit(s)
        ok |= {s for s, e in inp.units if s < mut.offset + 8 and e > mut.offset}
    after = [n for n in resync if n > s0]
    if after:
        n = max(after)
        ok |= {s for s, e in inp.units if s0 <= s < n}
    return ok


def check(inp, mut, mdata, outs, stats):
    """Failures (strings) of one mutated read; updates stats."""
    fails = []
    path = str(outs["path"])
    cmds = ("inspect", "dump")
    inspect_scope = inspect_reads(inp)
    for cmd in cmds:
        o = outs[cmd]
        if o.timeout:
            fails.append(f"{cmd}: timeout")
            continue
        if o.rc is not None and o.rc < 0:
            fails.append(f"{cmd}: killed by signal {-o.rc}")
        if SAN_RE.search(o.err):
            fails.append(f"{cmd}: sanitizer report: " + SAN_RE.search(o.err).group(0))
        if o.rc not in (0, 1, 2):
            fails.append(f"{cmd}: exit status {o.rc} (not 0, 1 or 2)")
        if o.bad_lines:
            fails.append(f"{cmd}: {o.bad_lines} output line(s) are not JSON")
        if cmd == "inspect" and o.rc in (0, 1, 2) and o.json is None:
            fails.append("inspect: stdout is not one JSON document")
    if fails:
        return fails
    if mut.cls == "empty":
        for cmd in cmds:
            if outs[cmd].rc != 2:
                fails.append(f"{cmd}: empty file exits {outs[cmd].rc}, not 2")
    elif mdata == inp.data:
        for cmd in cmds:
            if outs[cmd].rc != inp.base[cmd].rc:
                fails.append(f"{cmd}: unchanged bytes exit {outs[cmd].rc}, the original "
                             f"{inp.base[cmd].rc}")
    elif mut.nonzero:
        for cmd in cmds:
            if cmd == "inspect" and not inspect_scope:
                continue
            if outs[cmd].rc == 0:
                fails.append(f"{cmd}: exit 0 although the damage is certain ({mut.cls})")
    for cmd in cmds:
        check_messages(cmd, outs[cmd], path, fails)
        o = outs[cmd]
        reported = re.search(r"\b(packet|record|line|frame) \d+ \(byte offset \d+\)", o.err) or \
            (cmd == "inspect" and ((o.json or {}).get("errors") or {}).get("count"))
        if reported and o.rc == 0:
            fails.append(f"{cmd}: reports damaged units but exits 0")
    if inp.kind == "empty":
        return fails

    # 3. the kind is kept
    i, d = outs["inspect"], outs["dump"]
    ikind = (i.json or {}).get("kind")
    if inspect_scope:
        if i.rc in (0, 1) and ikind != inp.base["inspect"].json.get("kind"):
            fails.append(f"inspect: read as {ikind!r}, not {inp.base['inspect'].json.get('kind')!r}")
    elif i.rc != 2 or ikind not in ("unknown", "unreadable"):
        fails.append(f"inspect: a {inp.kind} log (outside inspect's scope) now reads as "
                     f"{ikind!r} exit {i.rc}")
    kinds, words, nov2x = dump_kind_signature(d)
    ek, ew = EXPECT[inp.kind]
    if d.rc in (0, 1):
        bad = (kinds - ek) | (words - ew)
        if bad or (nov2x and "v2x" not in ek):
            fails.append(f"dump: read as another kind ({', '.join(sorted(bad)) or 'V2X log'}; "
                         f"expected {'/'.join(sorted(ek))} with {'/'.join(sorted(ew))} units)")

    # 5 and 6: units kept
    resync = resync_points(outs)
    st = stats
    views = []
    if inp.capture:
        views.append(("inspect records", records_view(inp.base["inspect"]), records_view(i),
                      lambda k: k))
    views.append(("dump " + ("sweeps" if inp.kind == "pcap-lidar" else
                             "frames" if inp.video else "messages"),
                  dump_view(inp, inp.base["dump"]), dump_view(inp, d),
                  (lambda k: k[1]) if inp.kind == "pcap-lidar" else (lambda k: k)))
    label_cut = mut.label.startswith("cut@")
    if label_cut:
        cut = mut.offset
        for what, base, mv, off_of in views:
            need = [k for k in base if unit_end(inp, what, k, base) is not None
                    and unit_end(inp, what, k, base) <= cut]
            lost = [k for k in need if mv.get(k) != base[k]]
            if lost:
                fails.append(f"cut at {cut}: {what}: {len(lost)} of {len(need)} units that ended "
                             f"before the cut are lost or changed, first at byte "
                             f"{off_of(lost[0])}")
        return fails
    if mdata == inp.data:
        return fails
    ok = allowed_units(inp, mut, resync)
    if ok is None:  # file-level region: header, SHB/IDB, ftyp/moov/free, audio
        st["header"] += 1
        return fails
    st["damages"] += 1
    st["resyncs"] += 1 if resync else 0
    for what, base, mv, off_of in views:
        lost = lost_keys(base, mv)
        if inp.kind == "pcap-lidar" and what.endswith("sweeps"):
            okk = [k for k in lost if sweep_hits(inp, base, k, ok)]
        else:
            okk = [k for k in lost if off_of(k) in ok]
        bad = [k for k in lost if k not in okk]
        st["lost"].append(len(lost))
        if bad:
            k = unit_index(inp, mut.offset)
            where = (f"{k + 1} (bytes {inp.units[k][0]}..{inp.units[k][1]})" if k is not None
                     else f"line at byte {min(ok)}")
            fails.append(f"{what}: {len(bad)} unit(s) lost beyond the damaged unit {where} "
                         f"and the resync "
                         f"({'at byte ' + str(max(resync)) if resync else 'none reported'}): "
                         f"first lost at byte {off_of(bad[0])}, last at byte {off_of(bad[-1])}")
    return fails


def unit_end(inp, what, key, base):
    """Byte where a baseline unit (and what its completeness needs) ends, for the cut rule."""
    if inp.kind == "pcap-lidar" and what.endswith("sweeps"):
        index, count = inp.sweep_loc[key]
        last = index + count  # one packet after the sweep
        return inp.units[last][1] if last < len(inp.units) else None
    if inp.video:
        u = json.loads(base[key][0])
        return u["offset"] + u["size"]
    k = unit_index(inp, key) if isinstance(key, int) else None
    return inp.units[k][1] if k is not None else None


def sweep_hits(inp, base, key, ok_starts):
    index, count = inp.sweep_loc[key]
    lo, hi = index - 1, index + count
    for i in range(max(0, lo), min(len(inp.units), hi + 1)):
        if inp.units[i][0] in ok_starts:
            return True
    return False


# ---- the sweep ------------------------------------------------------------------------------

def is_sanitized(cli):
    try:
        p = subprocess.run(["ldd", str(cli)], capture_output=True, text=True, timeout=30)
        if re.search(r"lib(asan|ubsan)", p.stdout):
            return True
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with open(cli, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def capinfos_count(path):
    if not shutil.which("capinfos"):
        return None
    p = subprocess.run(["capinfos", "-M", "-c", str(path)], capture_output=True, text=True)
    m = re.search(r"Number of packets:\s*(\d+)", p.stdout)
    return int(m.group(1)) if m else None


def prepare(cli, inp, tmp, timeout):
    """Read the input's bytes and layout, run the commands on it unchanged (the baseline)."""
    inp.data = inp.path.read_bytes()
    layout(inp)
    inp.base = run_commands(cli, inp, inp.path, tmp, timeout)
    inp.base["path"] = inp.path
    fails = []
    for cmd in ("inspect", "dump"):
        o = inp.base[cmd]
        if cmd == "inspect" and not inspect_reads(inp):
            if o.rc != 2:
                fails.append(f"baseline inspect of a {inp.kind} log exits {o.rc}")
            if inp.kind != "empty":
                inp.notes.append(f"inspect does not read {inp.kind} logs (exit 2)")
            continue
        if inp.kind != "empty" and o.rc != 0:
            fails.append(f"baseline: unchanged file: {cmd} exits {o.rc}, not 0: "
                         f"{o.err.strip()[:300]}")
    inp.sweep_loc = {(u.get("sensor"), (u.get("locator") or {}).get("offset")):
                     ((u.get("locator") or {}).get("index") or 0,
                      (u.get("locator") or {}).get("count") or 0)
                     for u in inp.base["dump"].lines if isinstance(u, dict)}
    if inp.video:
        inp.units = sorted((u["offset"], u["offset"] + u["size"]) for u in inp.base["dump"].lines)
        inp.header_end = min((s for s, e in inp.units), default=0)
    if inp.capture:
        n = len(inp.base["inspect"].lines)
        if n != len(inp.units):
            fails.append(f"baseline: inspect --records has {n} records, the file {len(inp.units)}")
        ref = capinfos_count(inp.path)
        if ref is not None and ref != n:
            fails.append(f"baseline: inspect --records has {n} records, capinfos {ref}")
        inp.notes.append(f"{n} records (capinfos {ref})")
    elif inp.kind != "empty":
        inp.notes.append(f"{len(inp.base['dump'].lines)} units")
    return fails


def run_one(cli, mut, tmp, timeout, keep=None):
    inp = mut.inp
    mdata = apply_label(mut.label, inp.data)
    ext = "".join(inp.path.suffixes[-1:])
    d = Path(keep) if keep else Path(tempfile.mkdtemp(dir=tmp))
    d.mkdir(parents=True, exist_ok=True)
    p = d / (re.sub(r"\W", "_", mut.label)[:40] + ext)
    p.write_bytes(mdata)
    try:
        outs = run_commands(cli, inp, p, d, timeout)
        outs["path"] = p
        stats = {"header": 0, "damages": 0, "resyncs": 0, "lost": []}
        fails = check(inp, mut, mdata, outs, stats)
    finally:
        if not keep:
            shutil.rmtree(d, ignore_errors=True)
    return mut, outs, fails, stats


class Report:
    def __init__(self, mode, seed, jobs):
        self.mode, self.seed, self.jobs = mode, seed, jobs
        self.inputs = []
        self.failures = []   # (input name, mutation name, text)
        self.rows = collections.OrderedDict()
        self.runs = 0
        self.seconds = 0.0
        self.notes = []

    def add(self, mut, outs, fails, stats):
        key = (mut.inp.name, mut.cls)
        r = self.rows.setdefault(key, dict(n=0, ri=collections.Counter(), rd=collections.Counter(),
                                           lost=[], damages=0, header=0, resyncs=0, fail=0))
        r["n"] += 1
        r["ri"][outs["inspect"].rc if not outs["inspect"].timeout else "T"] += 1
        r["rd"][outs["dump"].rc if not outs["dump"].timeout else "T"] += 1
        r["lost"] += stats["lost"]
        for k in ("damages", "header", "resyncs"):
            r[k] += stats[k]
        if fails:
            r["fail"] += 1
            detail = (f"exit inspect {outs['inspect'].rc} dump {outs['dump'].rc}; "
                      + "; ".join(fails))
            msgs = [ln for ln in (outs["dump"].err + outs["inspect"].err).splitlines()
                    if ln.strip()][:3]
            if msgs:
                detail += " | stderr: " + " / ".join(m[:220] for m in msgs)
            self.failures.append((mut.inp.name, mut.name, detail))

    def table(self):
        h = (f"{'input':<46} {'class':<10} {'runs':>4}  {'inspect exits':<15} {'dump exits':<15} "
             f"{'dmg':>4} {'lost max':>8} {'mean':>5} {'resync':>6} {'fail':>4}")
        lines = [h, "-" * len(h)]

        def hist(c):
            return " ".join(f"{k}:{v}" for k, v in sorted(c.items(), key=lambda kv: str(kv[0])))
        for (name, cls), r in self.rows.items():
            lost = r["lost"]
            mx = max(lost) if lost else "-"
            mean = f"{sum(lost) / len(lost):.1f}" if lost else "-"
            lines.append(f"{name[-46:]:<46} {cls:<10} {r['n']:>4}  {hist(r['ri']):<15} "
                         f"{hist(r['rd']):<15} {r['damages']:>4} {mx:>8} {mean:>5} "
                         f"{r['resyncs']:>6} {r['fail']:>4}")
        tot = sum(r["n"] for r in self.rows.values())
        lines.append(f"{tot} mutations, {self.runs} processes, {self.seconds:.1f} s wall, "
                     f"mode {self.mode}, seed {self.seed}, jobs {self.jobs}; "
                     f"{len(self.failures)} failing mutation(s)")
        lines.append("(exits: status:count, T = timeout; dmg: damages inside a unit; lost: units "
                     "lost or changed per such damage, over inspect records and dump units)")
        return "\n".join(lines)


def find_cli():
    p = Path(os.environ.get("V2XSYNC") or REPO / "build" / "v2xsync")
    return p.resolve() if p.is_file() and os.access(p, os.X_OK) else None


def pick_mode(cli, mode=None):
    mode = mode or os.environ.get("V2XSYNC_SWEEP") or ""
    if not mode:
        mode = "asan" if is_sanitized(cli) else "ci"
    if mode not in MODES:
        raise SystemExit(f"V2XSYNC_SWEEP={mode!r}: one of {', '.join(MODES)}")
    return mode


def sweep(cli, datasets, mode, seed, jobs=2, only=None, keep=None, log=print, select=None):
    """Run the whole sweep (or the mutations named in `only`); return the Report."""
    t0 = time.monotonic()
    rep = Report(mode, seed, jobs)
    timeout = MODES[mode]["timeout"]
    tmp = tempfile.mkdtemp(prefix="v2xsync-damage-sweep-")
    try:
        inputs = dataset_inputs(datasets)
        der, notes = derived_inputs(datasets, tmp)
        inputs += der
        rep.notes += notes
        if select:
            inputs = [i for i in inputs if re.search(select, i.name)]
        if only:
            names = {o.split("::")[0] for o in only}
            inputs = [i for i in inputs if i.name in names]
            if not inputs:
                raise SystemExit(f"no input named {sorted(names)}")
        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            for inp, fails in zip(inputs, ex.map(lambda i: prepare(cli, i, tmp, timeout), inputs)):
                rep.runs += 2
                for f in fails:
                    rep.failures.append((inp.name, f"{inp.name}::baseline::none", f))
        rep.inputs = inputs
        muts = []
        for inp in inputs:
            ms = mutations(inp, mode, seed)
            if only:
                ms = []
                for o in only:
                    n, cls, label = o.split("::")
                    if n == inp.name:
                        ms.append(Mutation(inp, cls, label))
            muts += ms
        log(f"damage sweep: mode {mode}, seed {seed}, {len(inputs)} inputs, {len(muts)} "
            f"mutations, {jobs} jobs, timeout {timeout} s, binary {cli}")
        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            futs = [ex.submit(run_one, cli, m, tmp, timeout, keep) for m in muts]
            for f in futs:
                mut, outs, fails, stats = f.result()
                rep.runs += 2
                rep.add(mut, outs, fails, stats)
                if keep:
                    log(f"kept {outs['path']}\n  {' '.join(outs['inspect'].cmd)}\n  "
                        f"{' '.join(outs['dump'].cmd)}")
                    for c in ("inspect", "dump"):
                        log(f"  {c}: exit {outs[c].rc}\n    " +
                            "\n    ".join(outs[c].err.splitlines()[:20]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.seconds = time.monotonic() - t0
    return rep


def replay_cmd(mutname, mode, seed):
    return (f"V2XSYNC=build/v2xsync python3 tests/python/damage_sweep.py --seed {seed} "
            f"--replay '{mutname}' --keep /tmp/v2xsync-replay -v")


def format_failures(rep):
    out = []
    for name, mutname, text in rep.failures:
        again = (replay_cmd(mutname, rep.mode, rep.seed) if "::baseline::" not in mutname else
                 f"build/v2xsync inspect --json ../shared/datasets/{name}; "
                 f"build/v2xsync dump --json ../shared/datasets/{name}")
        out.append(f"FAIL {mutname} (seed {rep.seed}): {text}\n     replay: {again}")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=sorted(MODES))
    ap.add_argument("--seed", type=int)
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("V2XSYNC_SWEEP_JOBS", 2)))
    ap.add_argument("--replay", action="append", help="INPUT::CLASS::LABEL (repeatable)")
    ap.add_argument("--keep", help="with --replay: write the mutated file(s) here")
    ap.add_argument("--inputs", help="only the inputs whose name matches this regex")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    cli = find_cli()
    if not cli:
        print("SKIPPED: the v2xsync binary is not built; set V2XSYNC")
        return 77
    datasets = shared_dir() / "datasets"
    if not datasets.is_dir():
        print(f"SKIPPED: {datasets} is absent (the real recordings; see SOURCES.md)")
        return 77
    mode = pick_mode(cli, a.mode)
    seed = a.seed if a.seed is not None else int(os.environ.get("V2XSYNC_SWEEP_SEED", 0) or 0) \
        or (DEFAULT_SEED if mode != "long" else int(time.time()) % 100000)
    rep = sweep(cli, datasets, mode, seed, a.jobs, a.replay, a.keep if a.replay else None,
                select=a.inputs)
    print(rep.table())
    for n in rep.notes:
        print("note:", n)
    if rep.failures:
        print(format_failures(rep))
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
