"""The bundle that `v2xsync sync --bundle` writes, checked against tools written by others,
and the Python loader (python/v2xsync_bundle.py) that reads it.

References: every PNG against ffmpeg's decode of the source video; every point file against
`v2xsync dump --points` (the readers' own CSV, an independent path from the writer); every
checksum against xxhsum; every labels/<F>.json against the ASAM OpenLABEL 1.0.0 JSON schema.
A module or tool that is missing skips the tests needing it, with the reason.
"""

import importlib
import io
import json
import math
import os
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import run, shared_dir

np = pytest.importorskip("numpy", reason="numpy is not installed (Debian python3-numpy)")
vb = pytest.importorskip("v2xsync_bundle", reason="python/v2xsync_bundle.py is not importable")

HEX16 = re.compile(r"^[0-9a-f]{16}$")


def need_module(name, deb):
    return pytest.importorskip(name, reason=f"Python module {name} is not installed "
                                            f"(Debian {deb})")


def need_tool(*names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    pytest.skip(f"{' / '.join(names)} is not installed (needed as the reference)")


def frames_jsonl_records(out):
    with open(out / "frames.jsonl", "rb") as f:
        return {r["frame"]: r for r in map(json.loads, f)}


def stream(m):
    return f"{m['agent']}/{m['sensor']}"


def sync_member(rec, agent, sensor):
    for m in rec["members"]:
        if m["agent"] == agent and m["sensor"] == sensor:
            return m
    raise KeyError(f"frames.jsonl frame {rec['frame']}: no member {agent}/{sensor}")


def iso_ns(t_ns):
    """ns since 1970 as 'YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ'."""
    import datetime
    s, ns = divmod(t_ns, 1_000_000_000)
    d = datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns:09d}Z"


# ---- layout -------------------------------------------------------------------------------------

SYNC_OUTPUTS = {"bundle.json", "files.xxh64", "clocks.json", "frames.jsonl",
                "v2x_messages.jsonl", "links.json", "run.json"}


def bundle_files(out):
    """Every file of the bundle's frames (under frames/, labels/, sensors/), relative to out."""
    return sorted(str(p.relative_to(out)) for d in ("frames", "labels", "sensors")
                  for p in (out / d).rglob("*") if p.is_file())


def member_file(name, m):
    """bundle_spec.md "Layout": sensors/<agent>/<sensor>/<F>.png | <F>.pts.lz4."""
    ext = {"camera": "png", "lidar": "pts.lz4"}[m["kind"]]
    return f"sensors/{m['agent']}/{m['sensor']}/{name}.{ext}"


def test_layout_follows_sync_frames(case):
    """bundle.json exists; OUT holds sync's outputs, frames/<F>.json and labels/<F>.json for
    the same 8-digit frame numbers and sensors/<agent>/<sensor>/<F>.png|.pts.lz4, nothing
    else (no per-frame folder, no temporary file, no in-progress marker); each frames/<F>.json
    names its labels and members by those paths, relative to OUT, and agrees with its
    frames.jsonl line (time, partial, reasons, members in the same order and status, item =
    sweep/frame index, t_ref_ns and dt_ns; a missing member's nearest_dt_ns / set_dt_ns)."""
    out = case.out
    assert (out / "bundle.json").is_file()
    json.loads((out / "bundle.json").read_text())
    top = {p.name for p in out.iterdir()}
    assert top == SYNC_OUTPUTS | {"frames", "labels", "sensors"}, sorted(top)
    names = sorted(p.name[:-5] for p in (out / "frames").iterdir())
    assert names, "no frame exported"
    assert all((out / "frames" / f"{n}.json").is_file() for n in names)
    assert all(re.fullmatch(r"[0-9]{8}", n) for n in names), names[:5]
    assert sorted(p.name for p in (out / "labels").iterdir()) == [f"{n}.json" for n in names]
    files = set()
    recs = frames_jsonl_records(out)
    info = json.loads((out / "bundle.json").read_text())
    summary = info["frames"]
    partial = 0
    assert info["format"] == "v2xsync-bundle" and info["format_version"] == 1
    assert summary["total"] == len(recs) and summary["exported"] == len(names)
    assert (summary["first"], summary["last"]) == (int(names[0]), int(names[-1]))
    for name in names:
        fj = json.loads((out / "frames" / f"{name}.json").read_text())
        assert fj["labels"] == f"labels/{name}.json", (name, fj["labels"])
        assert fj["frame"] == int(name)
        rec = recs[fj["frame"]]
        assert fj["t_ns"] == rec["t_ref_ns"] and fj["t"] == rec["t_ref"], name
        assert fj["t"] == iso_ns(fj["t_ns"]), (fj["t"], fj["t_ns"])
        partial += fj["partial"]
        assert fj["partial"] == (rec["status"] == "partial"), name
        assert fj["reasons"] == rec.get("reasons", []), name
        exported = [m for m in fj["members"]]
        order = [stream(m) for m in rec["members"]]
        got = [m["stream"] for m in exported]
        assert got == [s for s in order if s in got], f"{name}: members not in frames.jsonl order"
        for m in exported:
            sm = sync_member(rec, m["agent"], m["sensor"])
            assert m["stream"] == stream(m) and m["kind"] == sm["kind"]
            assert m["status"] == sm["status"], f"{name} {m['stream']}"
            if m["file"] is not None:
                assert m["status"] == "ok"
                assert m["file"] == member_file(name, m), (name, m["file"])
                assert (out / m["file"]).is_file(), f"{out / m['file']}"
                files.add(m["file"])
                assert m["item"] == sm.get("sweep", sm.get("frame", sm.get("index"))), \
                    f"{name} {m['stream']}: item {m['item']}, frames.jsonl {sm}"
                assert m["t_ref_ns"] == sm["t_ref_ns"] and m["dt_ns"] == sm["dt_ns"]
                assert "nearest_dt_ns" not in m and "set_dt_ns" not in m, (name, m)
            else:
                # bundle_spec.md: a missing member has frames.jsonl's nearest_dt_ns (or
                # set_dt_ns) under that name, and no dt_ns
                assert "dt_ns" not in m, f"{name} {m['stream']}: a missing member with dt_ns: {m}"
                for k in ("nearest_dt_ns", "set_dt_ns"):
                    assert m.get(k) == sm.get(k), f"{name} {m['stream']} {k}: {m}, sync {sm}"
    assert summary["partial_exported"] == partial
    sensors = {str(p.relative_to(out)) for p in (out / "sensors").rglob("*") if p.is_file()}
    assert sensors == files, f"files under sensors/ no frame names: {sorted(sensors - files)[:5]}"


# ---- 1. images against ffmpeg ------------------------------------------------------------------

def ffmpeg_all_frames(ffmpeg, video, w, h):
    """Every frame of the video, decoded by ffmpeg to rgb24, in presentation order."""
    r = run([ffmpeg, "-v", "error", "-i", video, "-fps_mode", "passthrough",
             "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
    size = w * h * 3
    assert len(r.stdout) % size == 0, f"{video}: ffmpeg gave {len(r.stdout)} bytes for {w}x{h}"
    return np.frombuffer(r.stdout, np.uint8).reshape(-1, h, w, 3)


def ffmpeg_frame(ffmpeg, video, k, w, h):
    """Frame k exactly as `ffmpeg -vf select=eq(n\\,k)` decodes it."""
    r = run([ffmpeg, "-v", "error", "-i", video, "-vf", f"select=eq(n\\,{k})", "-vframes", "1",
             "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
    assert len(r.stdout) == w * h * 3, f"{video}: frame {k}: {len(r.stdout)} bytes"
    return np.frombuffer(r.stdout, np.uint8).reshape(h, w, 3)


def test_png_equals_ffmpeg_decode(case):
    """Every exported PNG is 8-bit RGB and equals, pixel for pixel, what ffmpeg decodes at
    index `item` of the member's source video."""
    need_module("PIL", "python3-pil")
    from PIL import Image
    ffmpeg = need_tool("ffmpeg")
    b = vb.open_bundle(case.out)
    by_stream = {}
    for fr in b:
        for m in fr.members:
            if m["kind"] == "camera" and m["file"] is not None:
                by_stream.setdefault(m["stream"], []).append((fr, m))
    if not by_stream:
        assert not any(s.get("kind") == "camera" for a in case.manifest["agents"]
                       for s in a["sources"]), f"{case}: the drive has a camera, none exported"
        pytest.skip(f"{case}: the drive has no camera")
    for st, items in by_stream.items():
        agent, sensor = st.split("/", 1)
        video = case.source(agent, sensor)["abspath"]
        w, h = items[0][1]["width"], items[0][1]["height"]
        ref = ffmpeg_all_frames(ffmpeg, video, w, h)
        for k in sorted({items[0][1]["item"], items[len(items) // 2][1]["item"]}):
            assert np.array_equal(ref[k], ffmpeg_frame(ffmpeg, video, k, w, h)), \
                f"{video}: the one-pass decode differs from select=eq(n,{k})"
        for fr, m in items:
            png = fr.file_path(st)
            head = png.read_bytes()[:33]
            assert head[:8] == b"\x89PNG\r\n\x1a\n", png
            iw, ih, depth, ctype = struct.unpack(">IIBB", head[16:26])
            assert (iw, ih, depth, ctype) == (w, h, 8, 2), \
                f"{png}: {iw}x{ih} depth {depth} colour type {ctype}, want {w}x{h} 8-bit RGB (2)"
            with Image.open(png) as im:
                got = np.asarray(im)
            k = m["item"]
            assert 0 <= k < len(ref), f"{png}: item {k}, the video has {len(ref)} frames"
            diff = np.abs(got.astype(np.int16) - ref[k])
            assert not diff.any(), (
                f"{png} != ffmpeg frame {k} of {video}: {np.count_nonzero(diff.any(axis=2))} "
                f"pixels differ, max {diff.max()}")


# ---- 2. points against dump --------------------------------------------------------------------

CSV_DTYPE = np.dtype([("x", "f8"), ("y", "f8"), ("z", "f8"), ("intensity", "f8"),
                      ("laser", "i4"), ("return", "i4"), ("t_ns", "i8")])


def parse_points_csv(text):
    head, _, body = text.partition("\n")
    assert head == "x,y,z,intensity,laser,return,t_ns", head
    if not body.strip():
        return np.zeros(0, CSV_DTYPE)
    return np.atleast_1d(np.loadtxt(io.StringIO(body), delimiter=",", dtype=CSV_DTYPE))


def dump_args(src):
    args = [src["abspath"]]
    if src.get("model"):
        args[:0] = ["--model", src["model"]]
    return args


def dump_all_sweeps(cli, src):
    """`dump --points` over the whole file, split into sweeps by `dump --sweeps --json`."""
    listing = run([cli, "dump", "--sweeps", "--json", *dump_args(src)], ok=(0, 1)).stdout
    sweeps = [json.loads(line) for line in listing.splitlines() if line.strip()]
    first = sweeps[0]["sensor"]
    counts = {s["sweep"]: s["points"] for s in sweeps if s["sensor"] == first}
    csv = parse_points_csv(run([cli, "dump", "--points", *dump_args(src)],
                               ok=(0, 1)).stdout.decode())
    total = sum(counts.values())
    assert len(csv) == total, \
        f"{src['abspath']}: dump --points printed {len(csv)} rows, --sweeps counts {total}"
    out, off = {}, 0
    for k in sorted(counts):
        out[k] = csv[off:off + counts[k]]
        off += counts[k]
    return out


def clock_domain(clocks, name):
    for d in clocks["domains"]:
        if d["name"] == name:
            return d
    raise KeyError(f"clocks.json: no domain {name}")


def test_points_equal_dump(case, cli):
    """Every point file holds the rows `dump --points --sweep K` prints for the member's sweep
    K, in order: same count; x, y, z within dump's 4 decimals (plus float32 rounding),
    intensity within its 6 significant digits, ring == laser, return equal; and t_ns is the
    same firing time mapped to the reference timeline: bundle t_ns - (t_ref - T) equals
    dump t_ns - the sweep's device time up to the clock's estimated drift over that span
    (+-2 ns of rounding: within one piece of clocks.json's clock model the mapping is
    linear, so a free-running LiDAR's 314 ppm shows as ~10 us across a 33 ms sweep)."""
    need_module("lz4.frame", "python3-lz4")
    b = vb.open_bundle(case.out)
    clocks = json.loads((case.out / "clocks.json").read_text())
    by_stream = {}
    for fr in b:
        for m in fr.members:
            if m["kind"] == "lidar" and m["file"] is not None:
                by_stream.setdefault(m["stream"], []).append((fr, m))
    assert by_stream, "no LiDAR member exported"
    checked = 0
    for st, items in by_stream.items():
        agent, sensor = st.split("/", 1)
        src = case.source(agent, sensor)
        sweeps = dump_all_sweeps(cli, src)
        # The split by --sweeps counts is what --sweep K prints: check one sweep directly.
        k0 = items[len(items) // 2][1]["item"]
        one = parse_points_csv(run([cli, "dump", "--points", "--sweep", k0, *dump_args(src)],
                                   ok=(0, 1)).stdout.decode())
        assert np.array_equal(one, sweeps[k0]), f"{src['abspath']}: --sweep {k0} differs"
        for fr, m in items:
            k = m["item"]
            ref = sweeps[k]
            pts = fr.points(st)
            name = f"{fr.file_path(st)} (sweep {k} of {src['abspath']})"
            assert pts.dtype == vb.POINT_DTYPE
            assert len(pts) == len(ref) == m["points"], \
                f"{name}: {len(pts)} points, dump {len(ref)}, frames/<F>.json {m['points']}"
            if not len(pts):
                continue
            s = slice(None, None, 97)
            for c in ("x", "y", "z"):
                d = np.abs(pts[c][s].astype(np.float64) - ref[c][s])
                tol = 0.5e-4 + 1e-9 + np.abs(ref[c][s]) * 2.0 ** -24
                assert (d <= tol).all(), f"{name}: {c} differs by up to {d.max():.3g} m"
            d = np.abs(pts["intensity"][s].astype(np.float64) - ref["intensity"][s])
            assert (d <= np.abs(ref["intensity"][s]) * 5e-6 + 1e-9).all(), f"{name}: intensity"
            assert np.array_equal(pts["ring"], ref["laser"]), f"{name}: ring != laser"
            assert np.array_equal(pts["return"], ref["return"]), f"{name}: return"
            assert (pts["azimuth"] < 36000).all(), f"{name}: azimuth >= 360 degrees"
            pad = pts.view(np.uint8).reshape(-1, 32)[:, 29:]
            assert not pad.any(), f"{name}: pad bytes not zero"
            # Time: the member's device time maps to its t_ref; a point dt later on the device
            # clock is dt / (1 + drift) later on the reference timeline (clocks.json: local =
            # ref + offset + drift (ref - epoch), per piece). Exact to rounding within one piece.
            sm = sync_member(fr.v2x, agent, sensor)
            dom = clock_domain(clocks, sm["clock"])
            pieces = dom.get("pieces") or [{"from_ref_ns": None, "drift_ppm": dom["drift_ppm"],
                                           "step_ns": 0.0}]
            dev = ref["t_ns"] - sm["time_ns"]
            rel = pts["t_ns"] - (m["t_ref_ns"] - fr.t_ns)
            t_lo, t_hi = fr.t_ns + int(pts["t_ns"].min()), fr.t_ns + int(pts["t_ns"].max())
            starts = [p["from_ref_ns"] if p["from_ref_ns"] is not None else -math.inf
                      for p in pieces]
            inside = [i for i, s0 in enumerate(starts) if s0 <= m["t_ref_ns"]]
            piece = pieces[inside[-1]] if inside else pieces[0]
            crosses = any(t_lo < s0 <= t_hi for s0 in starts)
            if crosses:  # a change of rate or a step inside the sweep: bound it
                d_max = max(abs(p["drift_ppm"]) for p in pieces) * 1e-6
                tol = d_max * np.abs(dev) + sum(abs(p.get("step_ns") or 0) for p in pieces) + 2
                err = np.abs(rel - dev)
            else:
                tol = 2
                err = np.abs(rel - dev / (1 + piece["drift_ppm"] * 1e-6))
            spread = int((pts["t_ns"] - ref["t_ns"]).max() - (pts["t_ns"] - ref["t_ns"]).min())
            assert (err <= tol).all(), (
                f"{name}: t_ns off by up to {err.max():.0f} ns from dump's device time mapped "
                f"through {sm['clock']} (drift {piece['drift_ppm']:.3f} ppm; allowed {tol}); "
                f"bundle t_ns - dump t_ns spreads over {spread} ns in the sweep")
            checked += 1
    assert checked


def test_point_files_are_checked_lz4_frames(case):
    """Every .pts.lz4 is one LZ4 frame with its content size (points x 32) and content
    checksum (bundle.json "settings": "points"), and the lz4 tool's test (-t) passes on it."""
    lz4f = need_module("lz4.frame", "python3-lz4")
    files = []
    for fr in vb.open_bundle(case.out):
        for m in fr.members:
            if m["kind"] == "lidar" and m["file"] is not None:
                p = fr.file_path(m["stream"])
                data = p.read_bytes()
                info = lz4f.get_frame_info(data)
                assert info["content_size"] == m["points"] * 32 and info["content_checksum"], \
                    f"{p}: {info}"
                assert len(lz4f.decompress(data, return_bytes_read=True)[0]) == info["content_size"]
                files.append(p)
    assert files
    lz4 = need_tool("lz4")
    for i in range(0, len(files), 200):
        r = run([lz4, "-t", "-m", *files[i:i + 200]], ok=None)
        assert r.returncode == 0, r.stderr.decode()[-2000:]


# ---- 3. checksums against xxhsum ---------------------------------------------------------------

def test_files_xxh64_lists_every_frame_file_and_xxhsum_verifies(case):
    """files.xxh64 has one `<16 hex>  <path relative to OUT>` line per file under frames/,
    labels/ and sensors/: frame by frame, each frame's members (in frames/<F>.json's order),
    then labels/<F>.json, then frames/<F>.json; `xxhsum -c` (run in OUT) verifies every line."""
    xxhsum = need_tool("xxhsum", "xxh64sum")
    out = case.out
    sums = vb.read_checksums(out / "files.xxh64")
    assert sorted(sums) == bundle_files(out)
    want = []
    for fr in vb.open_bundle(out):
        name = f"{fr.number:08d}"
        want += [m["file"] for m in fr.members if m["file"] is not None]
        want += [f"labels/{name}.json", f"frames/{name}.json"]
    assert list(sums) == want, "files.xxh64 is not in the order bundle_spec.md gives"
    for line in (out / "files.xxh64").read_text().splitlines():
        assert re.fullmatch(r"[0-9a-f]{16}  (frames/[0-9]{8}\.json|labels/[0-9]{8}\.json|"
                            r"sensors/[^/\s]+/[^/\s]+/[0-9]{8}\.(png|pts\.lz4))", line), line
    r = run([xxhsum, "-c", "files.xxh64"], cwd=out, ok=None)
    assert r.returncode == 0, r.stdout.decode()[-2000:] + r.stderr.decode()[-2000:]
    lines = r.stdout.decode().splitlines()
    assert len([ln for ln in lines if ln.endswith(": OK")]) == len(sums), lines[:5]


def xxh64_of(xxhsum, path):
    r = run([xxhsum, "-H64", path])
    return r.stdout.decode().split()[0].lower()


def test_bundle_json_checksums_verify_with_xxhsum(case):
    """bundle.json's "files" gives size and XXH64 of files.xxh64 and of sync's other outputs
    (paths relative to the bundle); `xxhsum -H64 FILE` agrees with each, and with the
    checksums it gives of the scenario manifest and of every input recording."""
    xxhsum = need_tool("xxhsum", "xxh64sum")
    info = json.loads((case.out / "bundle.json").read_text())
    files = info["files"]
    assert {f["path"] for f in files} >= {"files.xxh64", "clocks.json", "frames.jsonl",
                                         "v2x_messages.jsonl", "links.json", "run.json"}, files
    for f in files:
        p = case.out / f["path"]
        assert p.is_file(), f"bundle.json lists {f['path']}: no such file in {case.out}"
        assert HEX16.match(f["xxh64"]), f
        assert p.stat().st_size == f["size"], f"{f['path']}: size {p.stat().st_size}, {f}"
        assert xxh64_of(xxhsum, p) == f["xxh64"], f"{f['path']}: bundle.json says {f['xxh64']}"
    # Inputs: absolute paths (bundle_spec.md), so they resolve from anywhere; the subset test
    # checks the same of a run given a relative manifest path.
    man = info["scenario"]["manifest"]
    assert Path(man["path"]).is_absolute(), man
    assert Path(man["path"]).resolve() == case.manifest_path.resolve()
    assert xxh64_of(xxhsum, man["path"]) == man["xxh64"], man
    srcs = {case.source(a["id"], s["sensor"])["abspath"]
            for a in case.manifest["agents"] for s in a["sources"]}
    listed = {Path(i["path"]).resolve() for i in info["inputs"] if i.get("role") == "recording"}
    assert listed == srcs
    for i in info["inputs"]:
        assert Path(i["path"]).is_absolute(), i
        assert os.path.getsize(i["path"]) == i["size"], i
        assert xxh64_of(xxhsum, i["path"]) == i["xxh64"], i


def test_frame_json_checksums_match_files_xxh64(case):
    """Each frames/<F>.json member's xxh64 and labels_xxh64 equal their lines in files.xxh64
    (both paths relative to OUT); a missing member has no xxh64."""
    b = vb.open_bundle(case.out)
    sums = b.checksums()
    n = 0
    for fr in b:
        assert f"frames/{fr.path.name}" in sums, fr.path
        assert sums[fr.meta["labels"]] == fr.meta["labels_xxh64"], fr.meta["labels"]
        for m in fr.members:
            if m["file"] is None:
                assert m.get("xxh64") is None, f"{fr.path} {m['stream']}: xxh64 without a file"
                continue
            assert HEX16.match(m["xxh64"]), m["xxh64"]
            assert sums[m["file"]] == m["xxh64"], f"{fr.path}: {m['file']}"
            n += 1
    assert n


# ---- 4. labels against the OpenLABEL schema ----------------------------------------------------

def test_labels_validate_against_openlabel_schema(case):
    """Every labels/<F>.json validates against ASAM OpenLABEL 1.0.0's JSON schema, and names
    this frame, its time and its streams."""
    jsonschema = need_module("jsonschema", "python3-jsonschema")
    schema_path = shared_dir() / "specs" / "openlabel_json_schema-v1.0.0.json"
    if not schema_path.is_file():
        pytest.skip(f"{schema_path} is absent (the shared folder; set VXS_SHARED_DIR)")
    schema = json.loads(schema_path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    b = vb.open_bundle(case.out)
    for fr in b:
        errs = sorted(validator.iter_errors(fr.labels), key=lambda e: list(e.path))
        assert not errs, f"{fr.labels_path}: " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in errs[:5])
        ol = fr.labels["openlabel"]
        assert ol["metadata"]["schema_version"] == "1.0.0"
        assert list(ol["frames"]) == [str(fr.number)]
        props = ol["frames"][str(fr.number)]["frame_properties"]
        assert props["t_ns"] == fr.t_ns and props["timestamp"] == fr.t
        fstreams = props.get("streams") or {}
        for m in fr.members:
            if m["file"] is not None:
                sync = fstreams[m["stream"]]["stream_properties"]["sync"]
                assert sync["frame_stream"] == m["item"], (fr.number, m["stream"])
                # the per-frame uri is the member's file, relative to OUT, and it exists
                uri = fstreams[m["stream"]].get("uri")
                assert uri == m["file"], f"{fr.labels_path}: {m['stream']} uri {uri!r}, " \
                                         f"frames/<F>.json file {m['file']!r}"
                assert (case.out / uri).is_file(), f"{fr.labels_path}: {uri}: no such file"
            elif m["stream"] in fstreams:
                assert "uri" not in fstreams[m["stream"]], (fr.number, fstreams[m["stream"]])
        cs = ol["coordinate_systems"]
        for name, c in cs.items():
            if c["parent"]:
                assert name in cs[c["parent"]]["children"], name


def test_labels_root_streams_name_their_folders(case):
    """bundle_spec.md "labels.json": each root stream gives type, uri (the stream's folder,
    "sensors/<agent>/<sensor>/", relative to OUT: it exists and holds the member's file) and a
    description."""
    b = vb.open_bundle(case.out)
    for fr in b:
        streams = fr.labels["openlabel"]["streams"]
        assert set(streams) == set(fr.streams), (fr.number, sorted(streams))
        for m in fr.members:
            st = streams[m["stream"]]
            assert st["type"] == m["kind"] and st.get("description"), (fr.number, st)
            want = f"sensors/{m['agent']}/{m['sensor']}/"
            assert st.get("uri") == want, \
                f"{fr.labels_path}: streams/{m['stream']} = {st}: uri is not {want!r}"
            assert (case.out / want).is_dir(), want
            if m["file"] is not None:
                assert m["file"].startswith(want) and "/" not in m["file"][len(want):], m["file"]


# ---- 5. the loader -----------------------------------------------------------------------------

def is_rigid(T):
    R = T[:3, :3]
    return (T.shape == (4, 4) and T.dtype == np.float64 and np.allclose(R @ R.T, np.eye(3),
            atol=1e-9) and abs(np.linalg.det(R) - 1) < 1e-9 and
            np.array_equal(T[3], [0, 0, 0, 1]) and np.isfinite(T).all())


def test_loader_reads_every_frame(case):
    """Iterating the bundle: frames in order, images of the size frames/<F>.json gives, points of
    POINT_DTYPE, rigid transforms, the frames.jsonl line of the same frame, finite cuboids."""
    need_module("lz4.frame", "python3-lz4")
    need_module("PIL", "python3-pil")
    b = vb.open_bundle(case.out)
    assert b.info == json.loads((case.out / "bundle.json").read_text())
    nums = b.frame_numbers
    assert len(b) == len(nums) > 0 and nums == sorted(nums)
    assert b[0].number == nums[0] and b[-1].number == nums[-1]
    assert b.frame(nums[-1]).number == nums[-1]
    with pytest.raises(KeyError):
        b.frame(max(nums) + 1000)
    seen_img = seen_pts = seen_cub = seen_pose = 0
    for fr, n in zip(b, nums):
        assert fr.number == n and isinstance(fr.t_ns, int)
        assert fr.v2x is not None and fr.v2x["frame"] == n
        for m in fr.members:
            st = m["stream"]
            if m["kind"] == "camera":
                img = fr.image(st)
                if m["file"] is None:
                    assert img is None
                    continue
                assert img.dtype == np.uint8 and img.shape == (m["height"], m["width"], 3)
                seen_img += 1
            elif m["kind"] == "lidar":
                pts = fr.points(st)
                if m["file"] is None:
                    assert pts is None
                    continue
                assert pts.dtype == vb.POINT_DTYPE and len(pts) == m["points"]
                assert np.isfinite(pts["x"]).all() and np.isfinite(pts["y"]).all()
                seen_pts += 1
            T = fr.sensor_to_body(st)
            assert T is not None and is_rigid(T), (fr.number, st)
        for agent, a in fr.agents.items():
            T = fr.body_to_enu(agent)
            if a.get("pose") is None:
                assert T is None and a.get("pose_reason"), (fr.number, agent)
            else:
                assert is_rigid(T), (fr.number, agent)
                assert math.isclose(math.atan2(T[1, 0], T[0, 0]),
                                    math.remainder(a["pose"]["yaw"], 2 * math.pi), abs_tol=1e-9)
                seen_pose += 1
        for c in fr.cuboids():
            for k in ("x", "y", "z", "yaw", "length", "width", "height"):
                assert math.isfinite(c[k]), (fr.number, c)
            assert c["length"] > 0 and c["width"] > 0 and c["height"] > 0, c
            assert c["receiver"] in fr.agents, c
            assert isinstance(c["uid"], int) and c["name"] and c["type"], c
            assert isinstance(c["attributes"], dict)
            seen_cub += 1
    assert seen_pts and seen_pose and seen_cub
    if any(s.get("kind") == "camera" for a in case.manifest["agents"] for s in a["sources"]):
        assert seen_img


def test_partial_frames_name_missing_members(case):
    """A partial frame has reasons; each member it could not fill has file null, a reason,
    no dt_ns but frames.jsonl's nearest_dt_ns (or set_dt_ns), and the loader gives None for
    its image / points; one such member exists in these drives (the camera starts late)."""
    b = vb.open_bundle(case.out)
    missing = with_dt = 0
    for fr in b:
        if fr.partial:
            assert fr.reasons and all(isinstance(r, str) and r for r in fr.reasons)
        for m in fr.members:
            if m["status"] != "ok":
                assert fr.partial, f"frame {fr.number}: {m['stream']} {m['status']}, not partial"
                assert m["file"] is None and fr.file_path(m["stream"]) is None, (fr.number, m)
                assert isinstance(m["reason"], str) and m["reason"], (fr.number, m)
                assert "dt_ns" not in m, (fr.number, m)
                sm = sync_member(fr.v2x, m["agent"], m["sensor"])
                key = "set_dt_ns" if "set_dt_ns" in sm else "nearest_dt_ns"
                assert m.get(key) == sm.get(key), (fr.number, m, sm)
                with_dt += key in m
                get = fr.image if m["kind"] == "camera" else fr.points
                assert get(m["stream"]) is None, (fr.number, m["stream"])
                with pytest.raises(KeyError):
                    fr.member(m["stream"] + "-nonexistent")
                missing += 1
            else:
                assert m["file"] is not None and m["reason"] is None, (fr.number, m)
                assert "nearest_dt_ns" not in m and isinstance(m["dt_ns"], int), (fr.number, m)
    assert missing and with_dt, "no frame with a missing member: the test sees nothing"


def quat_xyzw_of(T):
    """OpenLABEL's [qx, qy, qz, qw] of T's rotation (qw >= 0)."""
    R = T[:3, :3]
    w = math.sqrt(max(0.0, 1 + R[0, 0] + R[1, 1] + R[2, 2])) / 2
    x = math.copysign(math.sqrt(max(0.0, 1 + R[0, 0] - R[1, 1] - R[2, 2])) / 2, R[2, 1] - R[1, 2])
    y = math.copysign(math.sqrt(max(0.0, 1 - R[0, 0] + R[1, 1] - R[2, 2])) / 2, R[0, 2] - R[2, 0])
    z = math.copysign(math.sqrt(max(0.0, 1 - R[0, 0] - R[1, 1] + R[2, 2])) / 2, R[1, 0] - R[0, 1])
    return np.array([x, y, z, w])


def same_pose(pose, T, tol=1e-6):
    q = np.asarray(pose["quaternion"], float)
    q = q / np.linalg.norm(q)
    q2 = quat_xyzw_of(T)
    return (min(np.abs(q - q2).max(), np.abs(q + q2).max()) < tol and
            np.allclose(pose["translation"], T[:3, 3], atol=tol))


def test_labels_agree_with_frame_json_and_frames_jsonl(case):
    """labels/<F>.json's coordinate systems carry the same poses as frames/<F>.json (the
    agents' body in ENU where known, each sensor in its body), and every cuboid is the
    body-frame position sync gave a message of that sender in that receiver's frames.jsonl
    line."""
    b = vb.open_bundle(case.out)
    n = 0
    for fr in b:
        cs = fr.labels["openlabel"]["coordinate_systems"]
        for agent in fr.agents:
            T = fr.body_to_enu(agent)
            c = cs[agent]
            assert c["parent"] == "enu" and c["type"] == "local_cs", (fr.number, agent)
            if T is None:
                assert "pose_wrt_parent" not in c, (fr.number, agent)
            else:
                assert same_pose(c["pose_wrt_parent"], T), (fr.number, agent, c, T)
        for m in fr.members:
            c = cs[m["stream"]]
            assert c["parent"] == m["agent"] and c["type"] == "sensor_cs"
            assert same_pose(c["pose_wrt_parent"], fr.sensor_to_body(m["stream"])), \
                (fr.number, m["stream"], c)
        rx = {e["agent"]: e for e in fr.v2x["v2x"]}
        for c in fr.cuboids():
            assert c["coordinate_system"] == c["receiver"]
            bodies = [msg["body"] for msg in rx[c["receiver"]]["messages"]
                      if msg.get("station") == c["uid"] and msg.get("body")]
            assert any(abs(bd["x"] - c["x"]) < 2e-3 and abs(bd["y"] - c["y"]) < 2e-3 and
                       abs(math.remainder(bd["yaw_rad"] - c["yaw"], 2 * math.pi)) < 2e-6
                       for bd in bodies), (fr.number, c, bodies[-3:])
            n += 1
    assert n


#: The attributes bundle_spec.md ("labels.json") gives every cuboid.
SPEC_NUM = {"latency_ms", "age_ms", "position_sd_m", "moved_m", "range_m"}
SPEC_TEXT = {"lidar_status", "link", "message_type", "message", "prediction_model",
             "class_source", "size_source"}
#: ... and those it gives only when the receiver's LiDAR checked the cuboid.
SPEC_CHECKED = {"lidar_points", "lidar_stream"}


def test_cuboid_attributes_follow_the_spec(case):
    """Every cuboid has at least the attributes bundle_spec.md lists (num and text, with
    class_source and size_source), in the right list; lidar_points and lidar_stream exactly
    when lidar_status is seen / not_seen."""
    b = vb.open_bundle(case.out)
    n = 0
    for fr in b:
        ol = fr.labels["openlabel"]
        for uid, obj in ol["frames"][str(fr.number)]["objects"].items():
            for cub in obj["object_data"].get("cuboid", []):
                kinds = {k: {a["name"] for a in v} for k, v in cub["attributes"].items()}
                where = f"{fr.labels_path} object {uid} -> {cub['name']}"
                lacks = sorted((SPEC_NUM - kinds.get("num", set())) |
                               (SPEC_TEXT - kinds.get("text", set())))
                assert not lacks, f"{where}: lacks {lacks}; has {kinds}"
        for c in fr.cuboids():
            a = c["attributes"]
            where = f"{fr.labels_path} object {c['uid']} -> {c['receiver']}"
            assert a["lidar_status"] in ("seen", "not_seen", "out_of_range", "no_lidar"), where
            assert a["class_source"] and a["size_source"], (where, a)
            checked = a["lidar_status"] in ("seen", "not_seen")
            assert (SPEC_CHECKED <= set(a)) == checked and \
                (SPEC_CHECKED & set(a) == set()) == (not checked), \
                f"{where}: lidar_status {a['lidar_status']}, has {sorted(SPEC_CHECKED & set(a))}"
            n += 1
    assert n


def test_cuboid_lidar_check_recounts(case):
    """lidar_status is no_lidar exactly when the
    receiver has no LiDAR file in the frame, out_of_range beyond the sensor's range_m
    (bundle.json), else lidar_points is recounted from the exported sweep in the receiver's
    body frame (the documented box: the cuboid grown by 2.4477 position sigmas, from 0.3 m
    above the ground to 0.5 m over its top) and "seen" means at least 3 points."""
    b = vb.open_bundle(case.out)
    ranges = {s["stream"]: s.get("range_m") for s in b.info["sensors"]}
    counted = 0
    for fr in b:
        body_pts = {}
        lidar_of = {m["agent"]: m["stream"] for m in fr.members
                    if m["kind"] == "lidar" and m["file"] is not None}
        for c in fr.cuboids():
            a = c["attributes"]
            st = lidar_of.get(c["receiver"])
            status = a["lidar_status"]
            if st is None:
                assert status == "no_lidar", (fr.number, c)
                continue
            if a["range_m"] > ranges[st]:
                assert status == "out_of_range", (fr.number, c)
                continue
            assert a.get("lidar_stream") == st and status in ("seen", "not_seen"), (fr.number, c)
            assert (status == "seen") == (a["lidar_points"] >= 3), (fr.number, c)
            if st not in body_pts:
                need_module("lz4.frame", "python3-lz4")
                p = fr.points(st)
                T = fr.sensor_to_body(st)
                xyz = np.stack([p["x"], p["y"], p["z"]], 1).astype(np.float64)
                body_pts[st] = xyz @ T[:3, :3].T + T[:3, 3]
            xyz = body_pts[st]
            g = 2.4477 * a["position_sd_m"]
            dx, dy = xyz[:, 0] - c["x"], xyz[:, 1] - c["y"]
            u = dx * math.cos(c["yaw"]) + dy * math.sin(c["yaw"])
            v = -dx * math.sin(c["yaw"]) + dy * math.cos(c["yaw"])
            k = int(np.count_nonzero((np.abs(u) <= c["length"] / 2 + g) &
                                     (np.abs(v) <= c["width"] / 2 + g) &
                                     (xyz[:, 2] >= 0.3) & (xyz[:, 2] <= c["height"] + 0.5)))
            # labels round x, y, sd to 1 mm: a point on the box's edge may fall either way
            assert abs(k - a["lidar_points"]) <= 2 + 0.01 * k, \
                f"frame {fr.number} {st} object {c['uid']}: {a['lidar_points']} points, recount {k}"
            counted += 1
    assert counted


# ---- 6. damaged inputs still give a bundle -----------------------------------------------------

def test_damaged_inputs_still_give_a_bundle(cli, classic_drive, tmp_path):
    """64 bytes of 0xFF in the middle of a LiDAR capture and a truncated V2X capture: sync
    --bundle exits 1 (damaged units found), and still writes a complete bundle that says so."""
    drive = tmp_path / "drive"
    shutil.copytree(classic_drive, drive)
    lidar = drive / "vehicle2" / "lidar.pcap"
    with open(lidar, "r+b") as f:
        f.seek(int(lidar.stat().st_size * 0.4))
        f.write(b"\xff" * 64)
    v2x = drive / "phone" / "v2x.pcap"
    with open(v2x, "r+b") as f:
        f.truncate(int(v2x.stat().st_size * 0.6) + 5)
    out = tmp_path / "out"
    r = run([cli, "sync", "-q", drive / "scenario.json", "-o", out, "--bundle"], ok=None)
    assert r.returncode == 1, f"exit status {r.returncode}: {r.stderr.decode()[-2000:]}"
    info_path = out / "bundle.json"
    assert info_path.is_file()
    info = json.loads(info_path.read_text())
    err = r.stderr.decode()
    assert info["damaged_units"] >= 2, f"bundle.json: damaged_units {info['damaged_units']}"
    assert str(lidar) in err and str(v2x) in err, err[-2000:]
    b = vb.open_bundle(out)
    assert len(b) > 0 and info["frames"]["exported"] == info["frames"]["total"] == len(b)
    # The damaged capture's sweeps hold what dump reads of them (dump skips the same packets).
    need_module("lz4.frame", "python3-lz4")
    sweeps = dump_all_sweeps(cli, {"abspath": lidar})
    n = 0
    for fr in b:
        m = fr.member("vehicle2/lidar")
        if m["file"] is not None:
            assert len(fr.points("vehicle2/lidar")) == len(sweeps[m["item"]]), fr.number
            n += 1
    assert n
    if shutil.which("xxhsum"):
        assert run(["xxhsum", "-c", "--quiet", "files.xxh64"], cwd=out, ok=None).returncode == 0


# ---- the loader on hand-made bundles (no writer needed) ----------------------------------------

def make_bundle(root, *, with_info=True, npts=5, raw_tail=b""):
    """A two-frame bundle written by the spec, in Python: frame 3 full, frame 7 partial."""
    lz4f = need_module("lz4.frame", "python3-lz4")
    need_module("PIL", "python3-pil")
    from PIL import Image
    root.mkdir(parents=True, exist_ok=True)
    for d in ("frames", "labels", "sensors/ego/lidar", "sensors/ego/camera"):
        (root / d).mkdir(parents=True, exist_ok=True)
    jsonl = []
    for n, partial in ((3, False), (7, True)):
        name = f"{n:08d}"
        pts = np.zeros(npts, vb.POINT_DTYPE)
        pts["x"] = np.arange(npts)
        pts["t_ns"] = -np.arange(npts) * 1000
        pts["ring"] = 7
        lidar_rel = f"sensors/ego/lidar/{name}.pts.lz4"
        (root / lidar_rel).write_bytes(lz4f.compress(pts.tobytes() + raw_tail))
        img = np.zeros((4, 6, 3), np.uint8)
        img[..., 0] = n
        members = [{"stream": "ego/lidar", "agent": "ego", "sensor": "lidar", "kind": "lidar",
                    "status": "ok", "reason": None, "item": n, "t_ref_ns": 10, "dt_ns": 0,
                    "file": lidar_rel, "points": npts, "xxh64": "0" * 16,
                    "sensor_to_body": {"translation": [0.2, 0, 1.95],
                                       "rotation": [0.0, 0.0, 0.0, 1.0]}}]
        if partial:
            members.append({"stream": "ego/camera", "agent": "ego", "sensor": "camera",
                            "kind": "camera", "status": "before_start",
                            "reason": "ego/camera: before_start", "file": None,
                            "nearest_dt_ns": 28_000_000,
                            "sensor_to_body": {"translation": [1, 0, 1],
                                               "rotation": [1, 0, 0, 0]}})
        else:
            Image.fromarray(img).save(root / "sensors" / "ego" / "camera" / f"{name}.png")
            members.append({"stream": "ego/camera", "agent": "ego", "sensor": "camera",
                            "kind": "camera", "status": "ok", "reason": None, "item": 2 * n,
                            "file": f"sensors/ego/camera/{name}.png", "width": 6, "height": 4,
                            "sensor_to_body": {"translation": [1, 0, 1],
                                               "rotation": [1, 0, 0, 0]}})
        labels = {"openlabel": {
            "metadata": {"schema_version": "1.0.0"},
            "objects": {"1002": {"name": "vehicle2", "type": "car"}},
            "frames": {str(n): {"objects": {"1002": {"object_data": {"cuboid": [{
                "name": "ego", "coordinate_system": "ego",
                "val": [1, 2, 0, 0, 0, 0.5, 4.5, 1.8, 1.5],
                "attributes": {"num": [{"name": "latency_ms", "val": 3.5}],
                               "text": [{"name": "lidar_status", "val": "seen"}]}}]}}}}}}}
        (root / "labels" / f"{name}.json").write_text(json.dumps(labels))
        fj = {"frame": n, "t_ns": 1_700_000_000_000_000_000 + n, "t": "x", "partial": partial,
              "reasons": ["ego/camera: before_start"] if partial else [], "members": members,
              "agents": {"ego": {"pose": {"x": 3.0, "y": 4.0, "z": float("nan"),
                                          "yaw": math.pi / 2}, "pose_reason": None},
                         "rsu": {"pose": None, "pose_reason": "no heading"}},
              "labels": f"labels/{name}.json", "labels_xxh64": "0" * 16}
        (root / "frames" / f"{name}.json").write_text(json.dumps(fj))
        jsonl.append({"frame": n - 1, "v2x": [], "members": []})
        jsonl.append({"frame": n, "v2x": [{"agent": "ego", "n": n}], "members": []})
    (root / "frames.jsonl").write_text("".join(json.dumps(r) + "\n" for r in jsonl))
    if with_info:
        (root / "bundle.json").write_text(json.dumps({"frames": 2}))
    return root


def test_handmade_bundle_reads_as_written(tmp_path):
    b = vb.open_bundle(make_bundle(tmp_path / "b"))
    assert len(b) == 2 and b.frame_numbers == [3, 7] and b.info == {"frames": 2}
    assert [f.number for f in b] == [3, 7] and b[1].number == 7 and 7 in b and 4 not in b
    fr = b.frame(3)
    pts = fr.points("ego/lidar")
    assert pts.dtype == vb.POINT_DTYPE and pts.dtype.itemsize == 32
    assert list(pts["x"]) == [0, 1, 2, 3, 4]
    assert list(pts["t_ns"]) == [0, -1000, -2000, -3000, -4000]
    pts["x"][0] = 9  # writeable
    img = fr.image("ego/camera")
    assert img.shape == (4, 6, 3) and img.dtype == np.uint8 and (img[..., 0] == 3).all()
    assert b.frame(7).image("ego/camera") is None
    with pytest.raises(KeyError):
        fr.image("ego/nothing")
    assert fr.v2x == {"frame": 3, "v2x": [{"agent": "ego", "n": 3}], "members": []}
    assert b.frame(7).v2x["v2x"][0]["n"] == 7
    T = fr.sensor_to_body("ego/lidar")
    assert np.allclose(T[:3, :3], np.diag([-1, -1, 1])) and np.allclose(T[:3, 3], [0.2, 0, 1.95])
    E = fr.body_to_enu("ego")
    assert np.allclose(E[:3, :3], [[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    assert np.allclose(E[:3, 3], [3, 4, 0]), "z NaN is 0"
    assert fr.body_to_enu("rsu") is None
    with pytest.raises(KeyError):
        fr.body_to_enu("nobody")
    assert np.allclose(fr.sensor_to_enu("ego/lidar"), E @ T)
    (c,) = fr.cuboids()
    assert c == {"uid": 1002, "name": "vehicle2", "type": "car", "receiver": "ego",
                 "coordinate_system": "ego", "x": 1, "y": 2, "z": 0, "yaw": 0.5, "length": 4.5,
                 "width": 1.8, "height": 1.5,
                 "attributes": {"latency_ms": 3.5, "lidar_status": "seen"}}
    assert b.frame(7).partial and b.frame(7).member("ego/camera")["file"] is None
    root = tmp_path / "b"
    assert fr.path == root / "frames" / "00000003.json"
    assert fr.file_path("ego/lidar") == root / "sensors" / "ego" / "lidar" / "00000003.pts.lz4"
    assert fr.file_path("ego/camera") == root / "sensors" / "ego" / "camera" / "00000003.png"
    assert b.frame(7).file_path("ego/camera") is None
    assert fr.labels_path == root / "labels" / "00000003.json"
    assert fr.labels["openlabel"]["metadata"]["schema_version"] == "1.0.0"
    with pytest.raises(KeyError):
        b.frame(4)


def test_handmade_bundle_without_bundle_json_is_incomplete(tmp_path):
    """No bundle.json: refused (BundleIncompleteError, a FileNotFoundError); with
    allow_incomplete the frames whose frames/<F>.json exists are listed, not a frame whose
    members and labels are written but whose index is not (nor a temporary file)."""
    root = make_bundle(tmp_path / "b", with_info=False)
    with pytest.raises(vb.BundleIncompleteError, match="incomplete"):
        vb.open_bundle(root)
    with pytest.raises(FileNotFoundError):
        vb.open_bundle(root)
    part = vb.open_bundle(root, allow_incomplete=True)
    assert len(part) == 2 and part.info == {} and not part.complete
    (root / "frames" / "00000007.json").rename(root / "frames" / "00000007.json.tmp.1a2b")
    part = vb.open_bundle(root, allow_incomplete=True)
    assert part.frame_numbers == [3] and 7 not in part
    assert part.frame(3).points("ego/lidar") is not None
    with pytest.raises(FileNotFoundError):
        vb.open_bundle(tmp_path / "nothing-here")


def test_handmade_bundle_of_the_old_layout_is_refused(tmp_path):
    """A bundle with per-frame folders (frames/<F>/frame.json, the first layout) is refused
    with a BundleError that says so, rather than read as a bundle of no frames."""
    root = tmp_path / "old"
    (root / "frames" / "00000003").mkdir(parents=True)
    (root / "frames" / "00000003" / "frame.json").write_text('{"frame": 3, "t_ns": 0}')
    (root / "bundle.json").write_text("{}")
    with pytest.raises(vb.BundleError, match=r"frames/<F>/frame\.json"):
        vb.open_bundle(root)


def test_handmade_damaged_points_raise_naming_the_file(tmp_path):
    fr = vb.open_bundle(make_bundle(tmp_path / "a", raw_tail=b"\0" * 5)).frame(3)
    with pytest.raises(ValueError, match=r"lidar/00000003\.pts\.lz4.*multiple of"):
        fr.points("ego/lidar")
    fr = vb.open_bundle(make_bundle(tmp_path / "b", raw_tail=b"\0" * 32)).frame(3)
    with pytest.raises(ValueError, match=r"lidar/00000003\.pts\.lz4: 6 points.*says 5"):
        fr.points("ego/lidar")
    p = fr.file_path("ego/lidar")
    p.write_bytes(p.read_bytes()[:-9])
    with pytest.raises(ValueError, match=r"lidar/00000003\.pts\.lz4"):
        fr.points("ego/lidar")


def test_torch_dataset(tmp_path):
    """TorchDataset exists only with torch; it yields dicts of arrays and labels."""
    try:
        importlib.import_module("torch")
    except ImportError:
        assert not hasattr(vb, "TorchDataset")
        pytest.skip("torch is not installed: TorchDataset is not defined (as documented)")
    ds = vb.TorchDataset(vb.open_bundle(make_bundle(tmp_path / "b")))
    s = ds[0]
    assert len(ds) == 2 and s["frame"] == 3 and s["points"]["ego/lidar"].dtype == vb.POINT_DTYPE
    assert s["images"]["ego/camera"].shape == (4, 6, 3) and ds[1]["images"] == {}


# ---- subsets, and a killed run resumed -----------------------------------------------------------

def test_subset_bundle_has_only_the_frames_and_streams_asked_for(cli, classic_drive, tmp_path):
    """--every 7 --from 1 --to 4 --sensors ego/lidar,ego/camera: every 7th frame of those sync
    cut in the range (frames.jsonl), with those two members only (and only their folders
    under sensors/); checksums still verify. The run is given the manifest by a relative
    path from another working folder: bundle.json still records absolute input paths."""
    out = tmp_path / "out"
    run([cli, "sync", "-q", Path(classic_drive.name) / "scenario.json", "-o", out, "--bundle",
         "--every", 7, "--from", 1, "--to", 4, "--sensors", "ego/lidar,ego/camera"],
        cwd=classic_drive.parent)
    b = vb.open_bundle(out)
    cut = sorted(frames_jsonl_records(out))
    assert cut and b.frame_numbers == cut[::7]
    assert b.info["frames"]["exported"] == len(b)
    for fr in b:
        assert fr.streams == ["ego/lidar", "ego/camera"], fr.streams
        assert fr.v2x["frame"] == fr.number
    assert sorted(str(p.relative_to(out)) for p in (out / "sensors").glob("*/*")) == \
        ["sensors/ego/camera", "sensors/ego/lidar"]
    assert sorted(vb.read_checksums(out / "files.xxh64")) == bundle_files(out)
    man = b.info["scenario"]["manifest"]["path"]
    assert man == str((classic_drive / "scenario.json").resolve()), man
    for i in b.info["inputs"]:
        assert Path(i["path"]).is_absolute() and Path(i["path"]).is_file(), i
        assert Path(i["path"]).resolve().is_relative_to(classic_drive.resolve()), i
    if shutil.which("xxhsum"):
        assert run(["xxhsum", "-c", "--quiet", "files.xxh64"], cwd=out, ok=None).returncode == 0


def test_killed_run_is_incomplete_and_resume_completes_it(cli, classic_drive, tmp_path):
    """SIGKILL sync --bundle once a frame is written: the loader refuses the folder (no
    bundle.json) but reads the finished frames (those whose frames/<F>.json exists) with
    allow_incomplete; --resume then completes it, byte for byte the bundle an uninterrupted
    run writes (files.xxh64, which `xxhsum -c` verifies, and every frames/<F>.json)."""
    manifest = classic_drive / "scenario.json"
    whole = tmp_path / "whole"
    run([cli, "sync", "-q", manifest, "-o", whole, "--bundle", "--threads", 1])
    out = tmp_path / "out"
    p = subprocess.Popen([str(cli), "sync", "-q", str(manifest), "-o", str(out), "--bundle",
                          "--threads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # A run writes into its staging folder beside OUT (README, "How outputs appear"); OUT
    # appears only complete.
    try:
        deadline = time.monotonic() + 120
        while p.poll() is None and not list(tmp_path.glob(".out.v2xsync-*/frames/*.json"))[:1]:
            assert time.monotonic() < deadline, "sync --bundle wrote no frame in 120 s"
            time.sleep(0.002)
        p.kill()
    finally:
        p.wait()
    if (out / "bundle.json").exists():
        pytest.skip("sync finished before it could be killed")
    assert not out.exists(), "a killed run's outputs appeared in OUT"
    staging = list(tmp_path.glob(".out.v2xsync-*"))
    staging = [d for d in staging if d.is_dir()]
    assert len(staging) == 1, staging
    part_dir = staging[0]
    assert (part_dir / ".v2xsync-bundle").is_file(), "no in-progress marker in the staging folder"
    with pytest.raises(vb.BundleIncompleteError, match="incomplete"):
        vb.open_bundle(part_dir)
    part = vb.open_bundle(part_dir, allow_incomplete=True)
    done = sorted(int(f.name[:8]) for f in (part_dir / "frames").iterdir()
                  if re.fullmatch(r"[0-9]{8}\.json", f.name))
    assert part.frame_numbers == done
    assert 0 < len(part) < len(vb.open_bundle(whole))
    for fr in part:
        for m in fr.members:
            if m["kind"] == "lidar" and m["file"] is not None:
                need_module("lz4.frame", "python3-lz4")
                assert len(fr.points(m["stream"])) == m["points"]
    r = run([cli, "sync", "-q", manifest, "-o", out, "--bundle", "--threads", 1, "--resume"])
    assert (out / "files.xxh64").read_bytes() == (whole / "files.xxh64").read_bytes()
    assert bundle_files(out) == bundle_files(whole)
    assert not (out / ".v2xsync-bundle").exists()
    for fr in vb.open_bundle(whole):
        rel = fr.path.relative_to(whole)
        assert (out / rel).read_bytes() == fr.path.read_bytes(), rel
    if shutil.which("xxhsum"):
        assert run(["xxhsum", "-c", "--quiet", "files.xxh64"], cwd=out, ok=None).returncode == 0
    assert vb.open_bundle(out).info["frames"] == vb.open_bundle(whole).info["frames"]
    assert r.returncode == 0


def test_torch_dataset_with_a_stub_torch(tmp_path, monkeypatch):
    """TorchDataset's samples, with a stand-in torch.utils.data.Dataset (torch need not be
    installed): images, points, transforms and labels of each frame; members without a file
    left out; collate keeps the list."""
    import sys
    import types
    torch = types.ModuleType("torch")
    torch.utils = types.ModuleType("torch.utils")
    torch.utils.data = types.ModuleType("torch.utils.data")
    torch.utils.data.Dataset = type("Dataset", (), {})
    for name, mod in (("torch", torch), ("torch.utils", torch.utils),
                      ("torch.utils.data", torch.utils.data)):
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setattr(vb, "_torch_dataset_cls", None)
    ds = vb.TorchDataset(make_bundle(tmp_path / "b"))  # a path works too
    assert isinstance(ds, torch.utils.data.Dataset) and len(ds) == 2
    s0, s1 = ds[0], ds[1]
    assert s0["frame"] == 3 and s1["frame"] == 7 and s1["partial"]
    assert s0["points"]["ego/lidar"].dtype == vb.POINT_DTYPE
    assert s0["images"]["ego/camera"].shape == (4, 6, 3) and s1["images"] == {}
    assert set(s0["sensor_to_body"]) == {"ego/lidar", "ego/camera"}
    assert set(s0["body_to_enu"]) == {"ego"} and s0["cuboids"][0]["uid"] == 1002
    assert s0["labels"]["openlabel"]["metadata"]["schema_version"] == "1.0.0"
    assert vb.TorchDataset.collate([s0, s1]) == [s0, s1]
    only = vb.TorchDataset(vb.open_bundle(tmp_path / "b"), streams=["ego/camera"],
                           transform=lambda s: s["frame"])
    assert only[0] == 3 and vb.TorchDataset(tmp_path / "b", streams=[])[0]["points"] == {}
    monkeypatch.setattr(vb, "_torch_dataset_cls", None)
