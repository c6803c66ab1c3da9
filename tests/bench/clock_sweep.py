#!/usr/bin/env python3
"""clock_sweep.py: the acceptance sweep of the clock engine (issue 16) on synthetic drives.

For each drive of the sweep (profiles etsi, us, mixed; realism options; seeds; 20-60 s) it runs

    v2xsync synth --seed S --profile P --duration D --realism R -o DRIVE
    v2xsync init DRIVE -o init.json          (unaided: the generated scenario.json is not used)
    v2xsync sync init.json -o out

and compares out/clocks.json and out/frames.jsonl, and init's manifest, with DRIVE/truth.json
(formats: README "truth.json", "clocks.json", "frames.jsonl"). It measures; it does not judge:
the exit status is 0 whatever it finds (2 only for a usage error).

Per clock (every logger, every LiDAR device clock), at true instants every 1 s over the drive:
  error = the engine's offset - the truth's, where the engine's model is clocks.json's
          local = ref + piece.offset_ns + drift_ppm * 1e-6 * (ref - epoch_ns), the piece being the
          last whose from_ref_ns <= ref (null: the first), ref = true time when the reference is
          anchored, else the truth's reading of the reference clock; and the truth's is
          local = true + offset + drift (true - epoch) + slews + jump + steps (README truth.json)
  drift error = drift_ppm - the truth's mean rate over the drive (drift + slews, minus the
          reference clock's when the reference is a clock)
  coverage = share of (clock, instant) pairs with |error| <= 3 offset_sd_ns; a clock clocks.json
          does not have (or has as "unknown") is a miss: its instants count as not covered.
  Instants within 200 ms of one of the clock's true steps are not judged: where a step happened
  is known only to within the samples around it.
Clock classes: "gnss anchor" (a GPS/PPS-locked LiDAR's device clock), "pinned by GNSS/PPS" (the
logger of an agent with such a LiDAR), "pinned by a LiDAR" (a free-running LiDAR on such a
logger), "V2X only" (every other logger, and free-running LiDARs on them).

Per message received (frames.jsonl v2x[].messages[], once per receiver and capture stamp):
latency_ns - the truth's latency of that copy (rx[].capture_ns -> arrival - gen_ns), by the
receiver's class; messages with latency_ns < 0 ("impossible"; the truth has none).
One mapping: every frames.jsonl time (member t_ref_ns from time_ns, message rx_ref_ns from
capture_ns) against clocks.json's model of its clock (either side of a backward step), 1 us.
Members: LiDAR members against the truth's nearest sweep to the frame time at the manifest's
sweep_time (ties within 0.5 ms excepted), camera members against the nearest written frame by the
camera's own stamps (stamp_true_ns, else true_ns); camera member time - the frame's exposure.
Jumps: clocks.json pieces of logger clocks against the truth's steps (same within 1 s and
max(1 ms, 20 %)). impossible_messages.count against 0. init: every sidecar found under the
truth's name; no agent given another's station id or MAC (own_station_id left out is counted).

Usage: clock_sweep.py --build BUILD_DIR [--drives N] [--work DIR] [--realism SPEC]...
       [--seed0 S] [--csv FILE] [--by-realism] [--keep]
Prints the tables of the whole sweep, one row per realism spec, and with --by-realism the
whole tables of each spec.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

PROFILES = ["etsi", "us", "mixed"]
# 11 entries against 3 profiles: every option meets every profile in 33 drives
DEFAULT_REALISM = ["classic", "full", "link-floors", "tx-log", "rx-only", "full",
                   "camera-latency", "logger-steps", "slew", "lidar-behind", "sidecar-names"]
CLASSES = ["gnss anchor", "pinned by GNSS/PPS", "pinned by a LiDAR", "V2X only"]
SEC = 1_000_000_000
STEP_GUARD = 200 * 1000 * 1000  # ns: a step's instant is judged only outside this
MS = 1_000_000


# ---- the truth's clocks ----------------------------------------------------------------------

class TruthClock:
    """A clock of truth.json's "clocks" (README truth.json), evaluated relative to `base`."""

    def __init__(self, c, base):
        self.base = base
        self.offset = float(c.get("offset_ns", 0))
        self.drift = float(c.get("drift_ppm", 0.0))
        self.epoch = int(c.get("epoch_ns", base))
        self.steps = []
        if "jump_at_true_ns" in c:
            self.steps.append((int(c["jump_at_true_ns"]), int(c["jump_ns"])))
        for s in c.get("steps", []):
            self.steps.append((int(s["at_true_ns"]), int(s["step_ns"])))
        self.steps.sort()
        self.slews = [(int(s["start_true_ns"]),
                       None if s.get("end_true_ns") is None else int(s["end_true_ns"]),
                       float(s["rate_ppm"])) for s in c.get("slews", [])]

    def offset_at(self, t):
        """local - true (ns, float) at true times t (int64 array, ns since 1970)."""
        rel = (t - self.epoch).astype(np.float64)
        off = self.offset + self.drift * 1e-6 * rel
        for start, end, rate in self.slews:
            until = t if end is None else np.minimum(t, end)
            off = off + rate * 1e-6 * np.maximum(until - start, 0).astype(np.float64)
        for at, step in self.steps:
            off = off + np.where(t >= at, float(step), 0.0)
        return off

    def mean_rate_ppm(self, t0, t1):
        """The smooth part's mean rate over [t0, t1) (drift plus the slews' share), ppm."""
        r = self.drift
        for start, end, rate in self.slews:
            lo, hi = max(start, t0), min(t1 if end is None else end, t1)
            if hi > lo:
                r += rate * (hi - lo) / (t1 - t0)
        return r


# ---- the engine's clocks ---------------------------------------------------------------------

class EstClock:
    """A domain of clocks.json: local = ref + piece offset + piece drift (ref - epoch); a piece
    begins with a step of the reading (step_ns) or a change of rate alone (step_ns 0)."""

    def __init__(self, d, epoch):
        self.name = d.get("name")
        self.method = d.get("method")
        self.epoch = int(epoch)
        self.drift = float(d.get("drift_ppm") or 0.0)
        self.sd = float(d.get("offset_sd_ns") or 0.0)
        pieces = d.get("pieces") or [{"from_ref_ns": None, "offset_ns": d.get("offset_ns", 0.0)}]
        # (from_ref, offset, drift ppm, step ns, from_span ns)
        self.pieces = [(None if p.get("from_ref_ns") is None else int(p["from_ref_ns"]),
                        float(p.get("offset_ns") or 0.0),
                        float(p["drift_ppm"]) if p.get("drift_ppm") is not None else self.drift,
                        float(p.get("step_ns") or 0.0), int(p.get("from_span_ns") or 0))
                       for p in pieces]

    def offset_at(self, ref):
        """local - ref at reference times ref (int64 array)."""
        u = (ref - self.epoch).astype(np.float64)
        off = self.pieces[0][1] + self.pieces[0][2] * 1e-6 * u
        for start, o, dr, _, _ in self.pieces[1:]:
            off = np.where(ref >= start, o + dr * 1e-6 * u, off)
        return off

    def steps(self):
        """(reference time, size) of the pieces that begin with a step of the reading."""
        return [(p[0], p[3]) for p in self.pieces[1:] if p[4] > 0 or abs(p[3]) >= 1.0]

    def mean_rate_ppm(self, t0, t1):
        """The model's mean rate over [t0, t1), ppm (its pieces' rates by their share)."""
        r = 0.0
        for k, p in enumerate(self.pieces):
            lo = t0 if k == 0 else max(t0, p[0])
            hi = t1 if k + 1 == len(self.pieces) else min(t1, self.pieces[k + 1][0])
            if hi > lo:
                r += p[2] * (hi - lo) / (t1 - t0)
        return r

    def piece_to_ref(self, local, k):
        """The reference time piece k of the model reads `local` (int ns) at, ns since 1970."""
        p = self.pieces[k]
        x = (float(int(local) - self.epoch) - p[1]) / (1.0 + p[2] * 1e-6)
        return self.epoch + int(round(x))


def pct(values, q):
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else None


def fmt(v, scale=1.0, digits=3):
    return "-" if v is None else f"{v / scale:.{digits}f}"


def triple(values, scale, digits=3):
    a = np.abs(np.asarray(values, dtype=np.float64))
    if not len(a):
        return "-"
    return " / ".join(fmt(x, scale, digits) for x in (pct(a, 50), pct(a, 95), float(a.max())))


# ---- one drive -------------------------------------------------------------------------------

def run(cmd, log):
    t = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log.write("$ " + " ".join(cmd) + f"\n{p.stdout}(exit {p.returncode}, "
              f"{time.monotonic() - t:.1f} s)\n")
    return p.returncode


def load_manifest_sources(path):
    """init's manifest -> {agent: [source dicts]} (paths relative to the manifest's folder)."""
    with open(path) as f:
        m = json.load(f)
    return {a["id"]: a.get("sources", []) for a in m.get("agents", [])}, m


def analyse(drive, work, spec, prof, seed, dur, rc_sync, acc):
    """Compares one drive's outputs with its truth; adds to `acc`; returns the CSV row."""
    row = {"drive": os.path.basename(work), "profile": prof, "realism": spec, "seed": seed,
           "duration_s": dur, "sync_exit": rc_sync}
    with open(os.path.join(drive, "truth.json")) as f:
        truth = json.load(f)
    start, dur_ns = int(truth["start_ns"]), int(truth["duration_ns"])
    agents = {a["id"]: a for a in truth["agents"]}
    locked = {a["id"]: any(s.get("sensor") == "lidar" and s.get("gps_locked")
                           for s in a.get("sensors", [])) for a in truth["agents"]}
    tclocks = {c["domain"]: TruthClock(c, start) for c in truth["clocks"]}
    kinds = {c["domain"]: c.get("kind") for c in truth["clocks"]}
    man_sources, man = load_manifest_sources(os.path.join(work, "init.json"))

    # ---- init's findings
    cam = next((s for s in agents["ego"]["sensors"] if s.get("sensor") == "camera"), None)
    want_video = cam.get("path", "camera.mp4") if cam else None
    want_times = cam.get("timestamps", "camera.timestamps") if cam else None
    found_sidecar = 0
    for s in man_sources.get("ego", []):
        if s.get("kind") == "camera" and os.path.basename(s.get("path", "")) == want_video:
            found_sidecar = int(os.path.basename(s.get("timestamps") or "") == want_times)
    wrong_ids = left_out = wrong_macs = wrong_locked = 0
    macs = {a["mac"].lower(): a["id"] for a in truth["agents"]}
    for aid, srcs in man_sources.items():
        for s in srcs:
            if s.get("kind") == "v2x":
                if "own_station_id" not in s:
                    left_out += 1
                elif aid in agents and int(s["own_station_id"]) != int(agents[aid]["station_id"]):
                    wrong_ids += 1
                for mac in s.get("own_macs", []):
                    wrong_macs += int(macs.get(mac.lower(), aid) != aid)
            if s.get("kind") == "lidar" and aid in locked:
                wrong_locked += int(bool((s.get("clock") or {}).get("gps_locked")) != locked[aid])
    acc["sidecars"] += [found_sidecar]
    acc["wrong_ids"] += wrong_ids
    acc["left_out"] += left_out
    acc["wrong_macs"] += wrong_macs
    row.update(init_sidecar_found=found_sidecar, init_wrong_station_ids=wrong_ids,
               init_station_ids_left_out=left_out, init_wrong_macs=wrong_macs,
               init_wrong_gps_locked=wrong_locked)

    clocks_path = os.path.join(work, "out", "clocks.json")
    if rc_sync not in (0, 1) or not os.path.exists(clocks_path):
        acc["sync_failed"] += 1
        row["error"] = f"sync exit {rc_sync}"
        n_t = dur_ns // SEC + 1
        for dom in tclocks:  # every clock is a miss
            if dom.endswith("/v2x"):
                continue
            a = acc["clocks"][clock_class(dom, locked, kinds)]
            a["n"] += 1
            a["missed"] += 1
            a["pairs"] += n_t
            a["uncovered"] += n_t
        return row
    with open(clocks_path) as f:
        cj = json.load(f)
    epoch = int(cj.get("epoch_ns", start))
    est = {d["name"]: EstClock(d, epoch) for d in cj.get("domains", [])}
    ref = cj.get("reference") or {}
    ref_truth = None
    if ref.get("kind") == "clock":  # offsets are relative to a clock's readings
        ref_truth = tclocks.get(ref.get("domain"))
    lidar_sensor = {aid: next((s.get("sensor", "lidar") for s in srcs if s.get("kind") == "lidar"),
                              "lidar") for aid, srcs in man_sources.items()}

    def est_name(dom):
        agent, what = dom.split("/", 1)
        return f"{agent}/{lidar_sensor.get(agent, 'lidar')}" if what == "lidar" else dom

    # ---- clocks at every second
    t = start + np.arange(0, dur_ns + 1, SEC, dtype=np.int64)
    ref_off = ref_truth.offset_at(t) if ref_truth else np.zeros(t.shape)
    ref_t = t + np.round(ref_off).astype(np.int64)
    ref_rate = ref_truth.mean_rate_ppm(start, start + dur_ns) if ref_truth else 0.0
    worst = {}
    for dom, tc in tclocks.items():
        if dom.endswith("/v2x"):
            continue
        cls = clock_class(dom, locked, kinds)
        a = acc["clocks"][cls]
        a["n"] += 1
        e = est.get(est_name(dom))
        if e is None or e.method == "unknown":
            a["missed"] += 1
            a["uncovered"] += len(t)
            a["pairs"] += len(t)
            row[f"missed {dom}"] = 1
            continue
        err = (e.offset_at(ref_t) + ref_off) - tc.offset_at(t)
        # where a clock stepped is known only to within the samples around the step: instants
        # within STEP_GUARD of a true step are not judged
        keep = np.ones(t.shape, dtype=bool)
        for at, _ in tc.steps:
            keep &= np.abs(t - at) > STEP_GUARD
        err = err[keep]
        derr = e.mean_rate_ppm(start, start + dur_ns) - (tc.mean_rate_ppm(start, start + dur_ns) -
                                                        ref_rate)
        a["err"] += list(err)
        a["drift"].append(derr)
        a["sd"].append(e.sd)
        ok = np.abs(err) <= max(3.0 * e.sd, 1.0)
        a["pairs"] += len(err)
        a["uncovered"] += int((~ok).sum())
        worst[cls] = max(worst.get(cls, 0.0), float(np.abs(err).max()))
        row[f"max_err_ms {dom}"] = round(float(np.abs(err).max()) / MS, 4)
        row[f"drift_err_ppm {dom}"] = round(derr, 4)
        # jumps of logger clocks against the truth's steps
        if dom.endswith("/logger"):
            found = e.steps()
            true_steps = list(tc.steps)
            matched = 0
            for at, size in found:
                hit = next((s for s in true_steps if abs(s[0] - at) <= SEC and
                            abs(s[1] - size) <= max(MS, 0.2 * abs(s[1]))), None)
                if hit:
                    matched += 1
                    true_steps.remove(hit)
            acc["jumps_true"] += len(tc.steps)
            acc["jumps_found"] += len(found)
            acc["jumps_matched"] += matched
            acc["jumps_false"] += len(found) - matched
            row[f"jumps {dom}"] = f"{len(found)} found / {len(tc.steps)} true / {matched} matched"
    for cls in CLASSES:
        if cls in worst:
            row[f"max_err_ms {cls}"] = round(worst[cls] / MS, 4)
    imp = int((cj.get("impossible_messages") or {}).get("count", 0))
    acc["impossible_clocks"] += imp
    row["impossible_clocks_json"] = imp

    # ---- frames
    cap_truth = {}  # (receiver, capture_ns) -> true latency
    for m in truth.get("messages", []):
        for rx in m.get("rx", []):
            if not rx.get("delivered"):
                continue
            caps = rx.get("capture_ns", [])
            arrivals = [rx["arrival_ns"], rx.get("dup_arrival_ns")]
            for i, cap in enumerate(caps):
                cap_truth[(rx["agent"], int(cap))] = int(arrivals[i]) - int(m["gen_ns"])
    sweeps = {}
    for s in truth.get("sweeps", []):
        sweeps.setdefault(s["agent"], []).append(s)
    conv = {}
    for aid, srcs in man_sources.items():
        for s in srcs:
            if s.get("kind") == "lidar":
                conv[aid] = s.get("sweep_time", "start")
    sweep_t = {}
    for aid, ss in sweeps.items():
        ss.sort(key=lambda s: s["index"])
        c = conv.get(aid, "start")
        st = np.array([int(s["start_true_ns"]) for s in ss], dtype=np.int64)
        en = np.array([int(s["end_true_ns"]) for s in ss], dtype=np.int64)
        sweep_t[aid] = (st if c == "start" else en if c == "end" else st + (en - st) // 2,
                        np.array([s["index"] for s in ss]))
    cam_frames = [f for f in truth.get("camera_frames", []) if not f.get("dropped")]
    cam_frames.sort(key=lambda f: f["frame"])
    cam_stamp = np.array([int(f.get("stamp_true_ns", f["true_ns"])) for f in cam_frames],
                         dtype=np.int64)
    cam_exposure = np.array([int(f["true_ns"]) for f in cam_frames], dtype=np.int64)

    def nearest(times, x):
        """index of the nearest, or None on a tie within 0.5 ms."""
        if not len(times):
            return None
        i = int(np.searchsorted(times, x))
        cands = sorted((abs(int(times[j]) - x), j) for j in (i - 1, i) if 0 <= j < len(times))
        if len(cands) > 1 and cands[1][0] - cands[0][0] < MS // 2:
            return None
        return cands[0][1]

    def ref_to_true(x):
        return x - int(round(float(ref_truth.offset_at(np.array([x]))[0]))) if ref_truth else x

    def maps(clock, local, reported, piece):
        """whether `reported` is clocks.json's model of `clock` applied to `local` on the piece
        frames.jsonl names (0 when it names none), to within 1 us"""
        e = est.get(clock)
        if e is None:
            return True
        return piece < len(e.pieces) and abs(e.piece_to_ref(local, piece) - int(reported)) <= 1000

    seen = set()
    lat_err = {cls: [] for cls in CLASSES}
    lidar_ok = lidar_n = cam_ok = cam_n = neg = unmatched = disagree = 0
    cam_vs_exp = []
    frames_path = os.path.join(work, "out", "frames.jsonl")
    with open(frames_path) as f:
        for line in f:
            fr = json.loads(line)
            T = ref_to_true(int(fr["t_ref_ns"]))
            for mb in fr.get("members", []):
                if mb.get("status") != "ok":
                    continue
                if not maps(mb.get("clock"), mb["time_ns"], mb["t_ref_ns"], mb.get("piece", 0)):
                    disagree += 1
                if mb.get("kind") == "lidar" and mb["agent"] in sweep_t:
                    times, idx = sweep_t[mb["agent"]]
                    j = nearest(times, T)
                    if j is not None:
                        lidar_n += 1
                        lidar_ok += int(idx[j] == mb.get("sweep"))
                elif mb.get("kind") == "camera" and mb["agent"] == "ego" and len(cam_stamp):
                    j = nearest(cam_stamp, T)
                    if j is not None:
                        cam_n += 1
                        cam_ok += int(cam_frames[j]["frame"] == mb.get("frame"))
                    k = mb.get("frame")
                    if k is not None and 0 <= k < len(cam_exposure):
                        cam_vs_exp.append(ref_to_true(int(mb["t_ref_ns"])) - int(cam_exposure[k]))
            for blk in fr.get("v2x", []):
                rcv = blk.get("agent")
                for msg in blk.get("messages", []):
                    key = (rcv, int(msg["capture_ns"]))
                    if key in seen:
                        continue
                    seen.add(key)
                    if not maps(f"{rcv}/logger", msg["capture_ns"], msg["rx_ref_ns"],
                                msg.get("rx_piece", 0)):
                        disagree += 1
                    if msg.get("latency_ns") is None:
                        continue
                    neg += int(msg["latency_ns"] < 0)
                    true_lat = cap_truth.get(key)
                    if true_lat is None:
                        unmatched += 1
                        continue
                    lat_err[clock_class(f"{rcv}/logger", locked, kinds)].append(
                        int(msg["latency_ns"]) - true_lat)
    for cls in CLASSES:
        acc["latency"][cls] += lat_err[cls]
    acc["lidar_ok"] += lidar_ok
    acc["lidar_n"] += lidar_n
    acc["cam_ok"] += cam_ok
    acc["cam_n"] += cam_n
    acc["cam_vs_exposure"] += cam_vs_exp
    acc["impossible_frames"] += neg
    acc["unmatched"] += unmatched
    acc["disagree"] += disagree
    pinned = lat_err["pinned by GNSS/PPS"]
    row.update(latency_err_p95_ms_pinned=fmt(pct(np.abs(pinned), 95), MS),
               latency_err_p95_ms_all=fmt(pct(np.abs(sum(lat_err.values(), [])), 95), MS),
               latency_err_max_ms=fmt(pct(np.abs(sum(lat_err.values(), [])), 100), MS),
               lidar_members_right=f"{lidar_ok}/{lidar_n}",
               camera_members_right=f"{cam_ok}/{cam_n}",
               camera_minus_exposure_p50_ms=fmt(pct(cam_vs_exp, 50), MS),
               impossible_in_frames=neg, messages_unmatched=unmatched,
               frames_clocks_disagree=disagree)
    return row


def clock_class(dom, locked, kinds):
    """The class of truth clock `dom`: kinds[dom] is its truth "kind" (logger, gnss,
    free-running); locked[agent] says the agent records a GPS/PPS-locked LiDAR."""
    agent = dom.split("/", 1)[0]
    if kinds.get(dom) == "gnss":
        return "gnss anchor"
    if kinds.get(dom) == "free-running":
        return "pinned by a LiDAR" if locked.get(agent) else "V2X only"
    return "pinned by GNSS/PPS" if locked.get(agent) else "V2X only"


# ---- the sweep -------------------------------------------------------------------------------

def new_acc():
    return {"clocks": {c: {"n": 0, "missed": 0, "err": [], "drift": [], "sd": [], "pairs": 0,
                           "uncovered": 0} for c in CLASSES},
            "latency": {c: [] for c in CLASSES}, "lidar_ok": 0, "lidar_n": 0, "cam_ok": 0,
            "cam_n": 0, "cam_vs_exposure": [], "impossible_clocks": 0, "impossible_frames": 0,
            "unmatched": 0, "disagree": 0, "jumps_true": 0, "jumps_found": 0,
            "jumps_matched": 0, "jumps_false": 0, "sidecars": [], "wrong_ids": 0,
            "left_out": 0, "wrong_macs": 0, "sync_failed": 0, "drives": 0}


def percent(ok, n):
    return f"{100.0 * ok / n:.1f} %" if n else "-"


def share(ok, n):
    return "-" if not n else f"{ok}/{n} ({100.0 * ok / n:.1f} %)"


def report(title, acc, out):
    out.write(f"\n### {title}: {acc['drives']} drives\n\n")
    out.write("| clock class | clocks | missed | offset error p50 / p95 / max (ms) | "
              "drift error p50 / p95 / max (ppm) | stated sigma p50 (ms) | "
              "coverage (abs error <= 3 sigma) |\n|---|---|---|---|---|---|---|\n")
    for cls in CLASSES:
        a = acc["clocks"][cls]
        if not a["n"]:
            continue
        out.write(f"| {cls} | {a['n']} | {a['missed']} | {triple(a['err'], MS)} | "
                  f"{triple(a['drift'], 1.0)} | {fmt(pct(a['sd'], 50), MS)} | "
                  f"{share(a['pairs'] - a['uncovered'], a['pairs'])} |\n")
    allp = sum(a["pairs"] for a in acc["clocks"].values())
    allu = sum(a["uncovered"] for a in acc["clocks"].values())
    out.write(f"| every clock | {sum(a['n'] for a in acc['clocks'].values())} | "
              f"{sum(a['missed'] for a in acc['clocks'].values())} | "
              f"{triple(sum((a['err'] for a in acc['clocks'].values()), []), MS)} | "
              f"{triple(sum((a['drift'] for a in acc['clocks'].values()), []), 1.0)} | | "
              f"{share(allp - allu, allp)} |\n\n")
    out.write("| measure | result |\n|---|---|\n")
    for cls in CLASSES:
        if acc["latency"][cls]:
            out.write(f"| latency error at receivers {cls}, p50 / p95 / max (ms) | "
                      f"{triple(acc['latency'][cls], MS)} "
                      f"({len(acc['latency'][cls])} messages) |\n")
    out.write(f"| LiDAR members = truth's nearest sweep | "
              f"{share(acc['lidar_ok'], acc['lidar_n'])} |\n")
    out.write(f"| camera members = nearest by the camera's stamps | "
              f"{share(acc['cam_ok'], acc['cam_n'])} |\n")
    out.write(f"| camera member time - exposure, p50 / p95 / max (ms) | "
              f"{triple(acc['cam_vs_exposure'], MS)} |\n")
    out.write(f"| impossible messages (clocks.json count / frames latency < 0; truth: 0) | "
              f"{acc['impossible_clocks']} / {acc['impossible_frames']} |\n")
    out.write(f"| frames.jsonl times off clocks.json's model by > 1 us | {acc['disagree']} |\n")
    out.write(f"| received messages matching no truth copy | {acc['unmatched']} |\n")
    out.write(f"| logger jumps: true / found / matched / false | {acc['jumps_true']} / "
              f"{acc['jumps_found']} / {acc['jumps_matched']} / {acc['jumps_false']} |\n")
    out.write(f"| init: sidecars found | {share(sum(acc['sidecars']), len(acc['sidecars']))} |\n")
    out.write(f"| init: agents given another's station id / MAC; ids left out | "
              f"{acc['wrong_ids']} / {acc['wrong_macs']}; {acc['left_out']} |\n")
    out.write(f"| sync failed (exit 2 or no clocks.json) | {acc['sync_failed']} |\n")


def summary(by_spec, specs, out):
    """One row per realism spec: the figures the acceptance names, at a glance."""
    out.write("\n### By realism\n\n| realism | drives | offset error max (ms): "
              "pinned by GNSS/PPS / V2X only | drift error max (ppm) | coverage | "
              "latency error p95 at pinned receivers (ms) | LiDAR members | camera members | "
              "impossible (clocks / frames) | false jumps | init: sidecars found, wrong ids |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|\n")
    for spec in specs:
        acc = by_spec.get(spec)
        if not acc or not acc["drives"]:
            continue
        c = acc["clocks"]

        def mx(values, scale):
            return fmt(float(np.max(np.abs(values))), scale) if len(values) else "-"

        pairs = sum(a["pairs"] for a in c.values())
        unc = sum(a["uncovered"] for a in c.values())
        out.write(f"| {spec} | {acc['drives']} | {mx(c['pinned by GNSS/PPS']['err'], MS)} / "
                  f"{mx(c['V2X only']['err'], MS)} | "
                  f"{mx(sum((a['drift'] for a in c.values()), []), 1.0)} | "
                  f"{percent(pairs - unc, pairs)} | "
                  f"{fmt(pct(np.abs(acc['latency']['pinned by GNSS/PPS']), 95), MS)} | "
                  f"{percent(acc['lidar_ok'], acc['lidar_n'])} | "
                  f"{percent(acc['cam_ok'], acc['cam_n'])} | "
                  f"{acc['impossible_clocks']} / {acc['impossible_frames']} | "
                  f"{acc['jumps_false']} | {sum(acc['sidecars'])}/{len(acc['sidecars'])}, "
                  f"{acc['wrong_ids']} |\n")


def merge(into, acc):
    for k, v in acc.items():
        if k == "clocks":
            for c in CLASSES:
                for kk, vv in v[c].items():
                    into[k][c][kk] += vv
        elif k == "latency":
            for c in CLASSES:
                into[k][c] += v[c]
        else:
            into[k] += v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="build folder holding v2xsync")
    ap.add_argument("--drives", type=int, default=40)
    ap.add_argument("--work", help="folder for the drives (default: a new temporary one)")
    ap.add_argument("--realism", action="append",
                    help="realism spec of synth, repeatable, used in turn (default: classic, "
                         "full, each option alone, full twice in 11)")
    ap.add_argument("--seed0", type=int, default=100, help="seed of the first drive")
    ap.add_argument("--csv", help="per-drive CSV (default WORK/clock_sweep.csv)")
    ap.add_argument("--by-realism", action="store_true",
                    help="also the full tables of each realism spec")
    ap.add_argument("--keep", action="store_true", help="keep the drives (default: removed "
                    "one by one after analysis; outputs and logs stay)")
    args = ap.parse_args()
    exe = os.path.join(args.build, "v2xsync")
    if not os.access(exe, os.X_OK):
        sys.stderr.write(f"clock_sweep: {exe}: no v2xsync program there\n")
        return 2
    specs = args.realism or DEFAULT_REALISM
    work = args.work or tempfile.mkdtemp(prefix="clock-sweep-")
    os.makedirs(work, exist_ok=True)
    csv_path = args.csv or os.path.join(work, "clock_sweep.csv")
    total, by_spec, rows = new_acc(), {}, []
    log = open(os.path.join(work, "clock_sweep.log"), "w")
    t0 = time.monotonic()
    for i in range(args.drives):
        prof, spec = PROFILES[i % 3], specs[i % len(specs)]
        seed, dur = args.seed0 + i, 20 + (i * 13) % 41
        d = os.path.join(work, f"d{i:03d}")
        drive = os.path.join(d, "drive")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        acc = new_acc()
        acc["drives"] = 1
        row = {"drive": f"d{i:03d}", "profile": prof, "realism": spec, "seed": seed,
               "duration_s": dur}
        try:
            if run([exe, "synth", "-q", "--seed", str(seed), "--profile", prof, "--duration",
                    str(dur), "--realism", spec, "-o", drive], log) != 0:
                raise RuntimeError("synth failed")
            rc_init = run([exe, "init", "-q", drive, "-o", os.path.join(d, "init.json")], log)
            if rc_init != 0:
                raise RuntimeError(f"init exit {rc_init}")
            rc_sync = run([exe, "sync", "-q", os.path.join(d, "init.json"), "-o",
                           os.path.join(d, "out")], log)
            row = analyse(drive, d, spec, prof, seed, dur, rc_sync, acc)
        except Exception as e:  # measured, not judged: the drive is reported and the sweep goes on
            row["error"] = str(e)
            acc["sync_failed"] += 1
        rows.append(row)
        merge(total, acc)
        merge(by_spec.setdefault(spec, new_acc()), acc)
        if not args.keep:
            shutil.rmtree(drive, ignore_errors=True)
        sys.stderr.write(f"clock_sweep: {i + 1}/{args.drives} {prof} {spec} seed {seed} {dur} s"
                         f"{' ERROR ' + row['error'] if 'error' in row else ''} "
                         f"({time.monotonic() - t0:.0f} s)\n")
    log.close()
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    out = sys.stdout
    out.write(f"## Clock sweep: {args.drives} drives ({exe}), {time.monotonic() - t0:.0f} s\n")
    report("Every drive", total, out)
    summary(by_spec, list(dict.fromkeys(specs)), out)
    for spec in dict.fromkeys(specs) if args.by_realism else []:
        if spec in by_spec and by_spec[spec]["drives"]:
            report(f"realism {spec}", by_spec[spec], out)
    out.write(f"\nPer-drive CSV: {csv_path}; commands and their output: "
              f"{os.path.join(work, 'clock_sweep.log')}\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException as e:  # it measures: never a failing exit for what it found
        sys.stderr.write(f"clock_sweep: {e}\n")
        sys.exit(0)
