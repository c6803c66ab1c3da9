"""report.json (v2xsync report) against its schema and against the outputs it summarises.

Every number the report gives is recomputed here from the files sync wrote (clocks.json,
links.json, run.json, frames.jsonl, v2x_messages.jsonl) by an independent path: numpy over the
raw lines, the clock models evaluated from their pieces. Quantiles are the report's log
histogram's (1 % bins), so they are compared to the nearest-rank quantile within 1 %.
"""

import json
import math
import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO, make_drive, run, shared_dir

np = pytest.importorskip("numpy")
jsonschema = pytest.importorskip("jsonschema")

SCHEMA = json.loads((REPO / "export" / "report.schema.json").read_text())


class Synced:
    def __init__(self, drive, out):
        self.drive = drive
        self.out = out
        self.report = json.loads((out / "report.json").read_text())
        self.clocks = json.loads((out / "clocks.json").read_text())
        self.links = json.loads((out / "links.json").read_text())
        self.run = json.loads((out / "run.json").read_text())
        self.frames = [json.loads(x) for x in (out / "frames.jsonl").read_text().splitlines()]
        mp = out / "v2x_messages.jsonl"
        self.messages = [json.loads(x) for x in mp.read_text().splitlines()] if mp.exists() else []


@pytest.fixture(scope="session", params=["classic", "full"])
def synced(request, cli, tmp_path_factory):
    """A drive synced with --report (report.json and report.html written by sync)."""
    drive = make_drive(cli, tmp_path_factory, request.param)
    out = drive.parent / "out_report"
    run([cli, "sync", "-q", drive / "scenario.json", "-o", out, "--report"], ok=(0, 1))
    return Synced(drive, out)


def nearest_rank(values, q):
    v = sorted(values)
    if not v:
        return None
    k = max(1, math.ceil(q * len(v)))
    return v[k - 1]


def close(a, b, rel=0.011, abs_=2e-3):
    return a is not None and b is not None and abs(a - b) <= max(abs_, rel * abs(b))


def validate(doc):
    errs = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    assert not errs, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errs[:10])


def test_schema_is_valid_and_report_follows_it(synced):
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    validate(synced.report)
    assert synced.report["format"] == "v2xsync-report"
    assert (synced.out / "report.html").stat().st_size > 10000


def test_verdict_is_the_worst_check(synced):
    r = synced.report
    levels = [c["level"] for c in r["checks"]]
    assert [c["name"] for c in r["checks"]][:3] == ["clock_sd_ms", "clocks_unidentified",
                                                    "clock_jumps"]
    assert r["verdict"]["errors"] == levels.count("ERROR")
    assert r["verdict"]["warnings"] == levels.count("WARN")
    worst = "ERROR" if "ERROR" in levels else "WARN" if "WARN" in levels else "OK"
    assert r["verdict"]["level"] == worst
    for c in r["checks"]:
        v, w, e = c["value"], c["warn"], c["error"]
        want = "OK"
        if v is not None and w is not None and v > w:
            want = "WARN"
        if v is not None and e is not None and v > e:
            want = "ERROR"
        assert c["level"] == want, c


def test_drive_and_frames_equal_frames_jsonl(synced):
    r, fr = synced.report, synced.frames
    assert r["drive"]["frames"] == len(fr) == r["frames"]["count"]
    partial = sum(f["status"] == "partial" for f in fr)
    assert r["drive"]["partial_frames"] == partial == r["frames"]["partial"]
    assert r["drive"]["start_ns"] == fr[0]["t_ref_ns"] and r["drive"]["end_ns"] == fr[-1]["t_ref_ns"]
    assert sum(b["frames"] for b in r["frames"]["timeline"]) == len(fr)
    assert sum(b["partial"] for b in r["frames"]["timeline"]) == partial
    # each member reason: frames whose member of that stream has that status
    for reason in r["frames"]["reasons"]:
        assert sum(reason["bins"]) == reason["frames"]
        # the example is the full reason text of its first frame
        first = next(f for f in fr if f["frame"] == reason["first_frame"])
        assert reason["example"] in first["reasons"]
        assert reason["example"].startswith(reason["reason"].split(": ")[0])
        if reason["reason"].startswith("link "):
            continue
        stream, status = reason["reason"].split(": ")
        n = sum(1 for f in fr for m in f["members"]
                if f"{m['agent']}/{m['sensor']}" == stream and m["status"] == status)
        assert n == reason["frames"], reason["reason"]


def test_member_dt_equal_frames_jsonl(synced):
    r, fr = synced.report, synced.frames
    streams = r["member_dt"]["streams"]
    for k, s in enumerate(streams):
        dts = [f["members"][k]["dt_ns"] / 1e6 for f in fr if f["members"][k]["status"] == "ok"]
        assert s["members"] == len(dts), s["name"]
        assert s["missing"] == len(fr) - len(dts)
        assert sum(s["hist_ms"]["counts"]) + s["hist_ms"]["below"] + s["hist_ms"]["above"] == len(dts)
        absd = [abs(x) for x in dts]
        if dts:
            assert close(s["abs_ms"]["p95"], nearest_rank(absd, 0.95)), s["name"]
            assert abs(s["abs_ms"]["max"] - max(absd)) < 1e-5
    for p in r["member_dt"]["pairs"]:
        ia = [s["name"] for s in streams].index(p["a"])
        ib = [s["name"] for s in streams].index(p["b"])
        d = [(f["members"][ia]["dt_ns"] - f["members"][ib]["dt_ns"]) / 1e6 for f in fr
             if f["members"][ia]["status"] == "ok" and f["members"][ib]["status"] == "ok"]
        assert p["frames"] == len(d)
        if d:
            assert close(p["abs_ms"]["p50"], nearest_rank([abs(x) for x in d], 0.5))


def test_streams_equal_run_json(synced):
    r = synced.report
    assert len(r["streams"]) == len(synced.run["sources"])
    for s, src in zip(r["streams"], synced.run["sources"]):
        assert s["name"] == f"{src['agent']}/{src['sensor']}"
        assert s["records"] == src["records"]
        assert s["damaged"] == src["damaged"]["count"]
        assert s["gaps"] == src["timing"]["gaps"]
        assert s["rate_hz"] == pytest.approx(src["timing"]["rate_hz"])
    assert r["drive"]["damaged_units"] == synced.run["totals"]["damaged_units"]


def test_clocks_equal_clocks_json(synced):
    r, c = synced.report["clocks"], synced.clocks
    assert r["epoch_ns"] == c["epoch_ns"]
    by = {d["name"]: d for d in c["domains"]}
    assert [d["name"] for d in r["domains"]] == [d["name"] for d in c["domains"]]
    for d in r["domains"]:
        o = by[d["name"]]
        assert d["offset_ms"] == pytest.approx(o["offset_ns"] / 1e6, abs=2e-6)
        assert d["offset_sd_ms"] == pytest.approx(o["offset_sd_ns"] / 1e6, abs=2e-6)
        assert d["drift_ppm"] == pytest.approx(o["drift_ppm"], abs=2e-6)
        assert d["identifiability"] == o["identifiability"]
        assert d["jumps"] == o["jumps"] == len(d["steps"])
        h = o.get("hint") or {}
        assert d["hint"] == h.get("kind") and d["hint_rejected"] == bool(h.get("rejected"))
        if h.get("residual_ns") is not None:
            assert d["hint_residual_ms"] == pytest.approx(h["residual_ns"] / 1e6, abs=2e-6)
    for rel, o in zip(r["relations"], c["relations"]):
        assert (rel["from"], rel["to"]) == (o["from"], o["to"])
        pts = o["envelope"]["points"]
        assert len(rel["envelope"]["t_s"]) == len(pts) > 0
        for t, m, row in zip(rel["envelope"]["t_s"], rel["envelope"]["model_resid_ms"], pts):
            assert t == pytest.approx((row[0] - c["epoch_ns"]) / 1e9, abs=2e-6)
            assert (m is None) == (row[3] is None)
            if m is not None:
                assert m == pytest.approx(row[3] / 1e6, abs=2e-6)


def model_offset_ns(dom, epoch, t):
    """local - reference of a clocks.json domain at reference time t, from its pieces."""
    use = dom["pieces"][0]
    for p in dom["pieces"][1:]:
        if p["from_ref_ns"] is not None and p["from_ref_ns"] <= t:
            use = p
    return use["offset_ns"] + use["drift_ppm"] * 1e-6 * (t - epoch)


def test_agent_pairs_from_the_models(synced):
    c = synced.clocks
    by = {d["name"]: d for d in c["domains"]}
    pairs = synced.report["agent_pairs"]
    assert pairs, "four agents: six pairs of loggers"
    for p in pairs:
        a, b = by[f"{p['a']}/logger"], by[f"{p['b']}/logger"]
        for t_s, off in list(zip(p["t_s"], p["offset_ms"]))[::10]:
            t = c["epoch_ns"] + round(t_s * 1e9)
            want = (model_offset_ns(b, c["epoch_ns"], t) - model_offset_ns(a, c["epoch_ns"], t)) / 1e6
            assert off == pytest.approx(want, abs=1e-3)


def test_links_equal_links_json_and_messages(synced):
    r = synced.report
    assert len(r["links"]) == len(synced.links["links"])
    for l, o in zip(r["links"], synced.links["links"]):
        for k in ("receiver", "station", "message", "sent", "delivered", "lost", "longest_burst",
                  "duplicates", "reordered"):
            assert l[k] == o[k], k
        assert l["delivery_ratio"] == pytest.approx(o["delivery_ratio"])
        assert l["dropouts"]["count"] == o["dropouts"]["count"]
        # the quantiles are links.json's, to the nanosecond
        if o["latency_ms"] is not None:
            assert l["latency_ms"]["n"] == o["latency_ms"]["messages"]
            for q in ("min", "p50", "p95", "p99", "max"):
                assert l["latency_ms"][q] == pytest.approx(o["latency_ms"][q], abs=1e-6), q
        # the CDF covers every message of v2x_messages.jsonl, within its 1 % bins
        lat = [m["latency_ns"] / 1e6 for m in synced.messages
               if m["receiver"] == o["receiver"] and m["source"] == o["source"]
               and m["station"] == o["station"] and m["type"] == o["message"]
               and m.get("latency_ns") is not None]
        if lat:
            cdf = l["latency_cdf_ms"]
            assert len(cdf) == 101 and cdf == sorted(cdf)
            assert cdf[0] == pytest.approx(min(lat), abs=2e-6)
            assert cdf[100] == pytest.approx(max(lat), abs=2e-6)
            assert close(cdf[50], nearest_rank(lat, 0.5))
            assert close(cdf[95], nearest_rank(lat, 0.95))
        else:
            assert l["latency_cdf_ms"] == []
        # the silent end: the receiver's last capture minus the link's last message
        rs = next(x for x in synced.run["sources"]
                  if x["agent"] == o["receiver"] and x["sensor"] == o["source"])
        if o["message"] in ("CAM", "VAM", "CPM", "BSM", "PSM"):
            want = max(0, rs["timing"]["max_ns"] - o["last_capture_ns"]) / 1e9
            assert l["tail_s"] == pytest.approx(want, abs=2e-6)
        else:
            assert l["tail_s"] is None
    assert r["drive"]["v2x_messages"] == len(synced.messages)


def sender_label(link):
    """frames.jsonl names a sender no agent owns "unknown": the report tells them apart by station."""
    s = link.get("sender")
    return s if s not in (None, "unknown") else f"station {link.get('station')}"


def test_v2x_pairs_equal_frames_jsonl(synced):
    fr = synced.frames
    for p in synced.report["v2x_pairs"]:
        states = [(f["t_ref_ns"], l) for f in fr for v in f["v2x"] if v["agent"] == p["receiver"]
                  for l in v["links"] if sender_label(l) == p["sender"]]
        assert p["frames"] == len(states)
        assert p["silent_frames"] == sum(l["status"] == "silent" for _, l in states)
        aoi = [l["aoi_ns"] / 1e6 for _, l in states if l.get("aoi_ns") is not None]
        assert p["aoi_ms"]["n"] == len(aoi)
        if aoi:
            assert close(p["aoi_ms"]["p50"], nearest_rank(aoi, 0.5))
        # the longest run of silent frames, first to last silent frame time
        longest, start, last = 0.0, None, None
        for t, l in states:
            if l["status"] == "silent":
                start = t if start is None else start
                last = t
                longest = max(longest, (last - start) / 1e9)
            else:
                start = None
        assert p["longest_silence_s"] == pytest.approx(longest, abs=2e-6)


def drop_sources(cli, drive, kinds, out):
    """A copy of the drive's manifest without sources of `kinds`, synced into out."""
    man = json.loads((drive / "scenario.json").read_text())
    for a in man["agents"]:
        a["sources"] = [s for s in a["sources"] if s["kind"] not in kinds]
    man["agents"] = [a for a in man["agents"] if a["sources"]]
    man.pop("reference", None)
    p = drive / f"no_{'_'.join(kinds)}.json"
    p.write_text(json.dumps(man))
    run([cli, "sync", "-q", p, "-o", out], ok=(0, 1))
    return run([cli, "report", "-q", out])


def absent_sections(doc):
    return {a["section"] for a in doc["absent"]}


def test_drive_without_v2x_or_camera(cli, classic_drive, tmp_path):
    drop_sources(cli, classic_drive, ["v2x"], tmp_path / "nov2x")
    doc = json.loads((tmp_path / "nov2x" / "report.json").read_text())
    validate(doc)
    assert {"v2x", "links", "v2x_pairs"} <= absent_sections(doc)
    assert doc["links"] is None and doc["v2x_pairs"] is None
    checks = {c["name"]: c for c in doc["checks"]}
    for name in ("link_loss", "link_silence_s", "latency_p95_ms"):
        assert checks[name]["value"] is None and checks[name]["level"] == "OK"
        assert checks[name]["message"] == "does not apply to this drive"
    drop_sources(cli, classic_drive, ["camera"], tmp_path / "nocam")
    doc = json.loads((tmp_path / "nocam" / "report.json").read_text())
    validate(doc)
    assert "camera" in absent_sections(doc) and doc["links"]


def test_real_captures_only(cli, tmp_path):
    pcap = shared_dir() / "datasets" / "lidar" / "velodyne" / "mrpt_vlp16_gps.pcap"
    v2x = shared_dir() / "datasets" / "v2x" / "etsi" / "msvan3t_cam_cpm.pcap"
    if not pcap.exists() or not v2x.exists():
        pytest.skip(f"../shared datasets not found ({pcap})")
    man = {"version": 1, "agents": [
        {"id": "car", "sources": [{"path": str(pcap), "kind": "lidar"}]},
        {"id": "obu", "sources": [{"path": str(v2x), "kind": "v2x"}]}]}
    (tmp_path / "s.json").write_text(json.dumps(man))
    run([cli, "sync", "-q", "--allow-output-in-input", tmp_path / "s.json", "-o", tmp_path / "o"],
        ok=(0, 1))
    run([cli, "report", "-q", tmp_path / "o"])
    doc = json.loads((tmp_path / "o" / "report.json").read_text())
    validate(doc)
    assert "camera" in absent_sections(doc)
    assert [s["name"] for s in doc["streams"]] == ["car/lidar", "obu/v2x"]
    assert doc["streams"][0]["records"] > 0


def test_report_refuses_what_is_not_a_sync_output(cli, tmp_path):
    r = run([cli, "report", tmp_path], ok=(2,))
    assert b"run.json" in r.stderr and str(tmp_path).encode() in r.stderr
    r = run([cli, "check", tmp_path / "missing"], ok=(2,))
    assert b"missing" in r.stderr


def test_v2x_only_drive_still_finds_a_dead_link(cli, tmp_path):
    """Without frames the silence comes from the links: a link that died stays silent to the
    end of the receiver's recording, which links.json's loss and dropouts do not count."""
    drive = tmp_path / "d"
    run([cli, "synth", "-q", "--clean", "--fault", "dead-link", "--duration", 30, "-o", drive])
    drop_sources(cli, drive, ["lidar", "camera"], tmp_path / "o")
    r = run([cli, "check", "--json", tmp_path / "o"], ok=(1,))
    doc = json.loads(r.stdout)
    validate(json.loads((tmp_path / "o" / "report.json").read_text()))
    c = {c["name"]: c for c in doc["checks"]}["link_silence_s"]
    assert c["level"] == "ERROR" and c["subject"].startswith("vehicle2 -> ego"), c
    assert c["value"] > 15  # dead from 12 s of 30
    rep = json.loads((tmp_path / "o" / "report.json").read_text())
    assert rep["frames"] is None and rep["drive"]["duration_s"] > 25  # span from the messages
    assert len(rep["agent_pairs"]) == 6


def test_a_logger_tied_to_nothing_has_no_agent_pair(cli, tmp_path):
    drive = tmp_path / "d"
    run([cli, "synth", "-q", "--clean", "--fault", "unpinned-clock", "--duration", 10,
         "-o", drive])
    run([cli, "sync", "-q", "--report", drive / "scenario.json", "-o", tmp_path / "o"])
    rep = json.loads((tmp_path / "o" / "report.json").read_text())
    validate(rep)
    assert rep["agent_pairs"] and all("vehicle2" not in (p["a"], p["b"])
                                      for p in rep["agent_pairs"])
    why = [a["why"] for a in rep["absent"] if a["section"] == "agent_pairs"]
    assert why and "vehicle2/logger" in why[0]


def edited(src, dst, name, edit):
    shutil.copytree(src, dst)
    doc = json.loads((dst / name).read_text())
    edit(doc)
    (dst / name).write_text(json.dumps(doc))
    return dst


@pytest.fixture(scope="module")
def small_out(cli, tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    run([cli, "synth", "-q", "--duration", 3, "-o", base / "d"])
    run([cli, "sync", "-q", base / "d" / "scenario.json", "-o", base / "o"])
    return base


@pytest.mark.parametrize("name,edit,want", [
    ("run.json", lambda d: d["frames"].__setitem__("count", -1), b"frames.count"),
    ("run.json", lambda d: d.pop("agents"), b"agents"),
    ("run.json", lambda d: d.__setitem__("sources", {"a": 1}), b"sources"),
    ("run.json", lambda d: d["streams"][0].__setitem__("tolerance_ms", 1e308), b"tolerance_ms"),
    ("clocks.json", lambda d: d.__setitem__("epoch_ns", "x"), b"epoch_ns"),
    ("links.json", lambda d: d.pop("links"), b"links"),
])
def test_hostile_documents_are_refused_with_file_and_key(cli, small_out, name, edit, want):
    """Refused (exit 2) with the file and the key named, never a crash or a wrong verdict."""
    d = edited(small_out / "o", small_out / f"o_{name}_{want.decode()}", name, edit)
    for cmd in ("report", "check"):
        r = run([cli, cmd, d], ok=(2,))
        assert want in r.stderr and name.encode() in r.stderr, r.stderr


def test_odd_values_do_not_lose_sections(cli, small_out):
    """A huge drift, a non-UTF-8 folder name: the report keeps every section and check."""
    def huge(d):
        d["domains"][1]["drift_ppm"] = 1e305
    d = edited(small_out / "o", small_out / "o_huge", "clocks.json", huge)
    run([cli, "report", "-q", d])
    rep = json.loads((d / "report.json").read_text())
    validate(rep)
    assert len(rep["clocks"]["domains"]) == len(json.loads((d / "clocks.json").read_text())["domains"])
    odd = Path(os.fsdecode(bytes(small_out) + b"/o_lat\xe9"))
    shutil.copytree(small_out / "o", odd)
    r = run([cli, "check", "--json", odd], ok=(0, 1))
    doc = json.loads(r.stdout)
    assert len(doc["checks"]) == 12 and doc["folder"].endswith("o_lat?")


def test_truncated_and_corrupt_lines_are_named(cli, small_out):
    """sync writes its outputs whole (renamed when complete), so a torn or corrupt line means the
    folder is not what sync wrote: refused (exit 2) naming the file, the line and its byte
    offset, never read as something else."""
    for name in ("frames.jsonl", "v2x_messages.jsonl"):
        src = small_out / "o" / name
        data = src.read_bytes()
        lines = data.split(b"\n")
        k = len(lines) // 2
        off = sum(len(x) + 1 for x in lines[:k])
        for how, bad in (("cut", data[:off + len(lines[k]) // 2]),
                         ("flip", data[:off + 5] + b"\x00" + data[off + 6:])):
            d = small_out / f"o_{how}_{name}"
            shutil.copytree(small_out / "o", d)
            (d / name).write_bytes(bad)
            for cmd in ("report", "check"):
                r = run([cli, cmd, d], ok=(2,))
                want = f"{name}: line {k + 1} (byte offset {off})".encode()
                assert want in r.stderr, r.stderr
            assert not (d / "report.json").exists() and not (d / "report.html").exists()
