"""`v2xsync check` on generated drives with faults injected one at a time.

The clean drive (synth --clean: the classic drive without its logger step and its shadowed
link) passes every check. Each fault then turns its own check WARN or ERROR, and the exit
status follows (1 only for ERROR). A fault may also move the checks it necessarily moves (a
silent link or a missing member makes frames partial): those are listed per fault, and every
other check must stay OK.
"""

import json

import pytest

from conftest import run

DURATION = 30

#: fault -> (synth options, {check: level}, checks the fault may also move)
FAULTS = {
    "logger-step": (["--realism", "logger-steps"], {"clock_jumps": "WARN"}, set()),
    "dead-link": (["--fault", "dead-link"], {"link_silence_s": "ERROR"}, {"partial_share"}),
    "camera-drops": (["--fault", "camera-drops"], {"stream_gap_intervals": "WARN"},
                     {"partial_share"}),
    "unpinned-clock": (["--fault", "unpinned-clock"], {"clocks_unidentified": "ERROR"},
                       {"partial_share"}),
    "damaged-packets": ([], {"damaged_units": "WARN"}, set()),
}


def damage_lidar(pcap, every=500):
    """Zero the first block flag (0xFFEE) of every `every`th Velodyne data packet of a classic
    pcap (1248-byte records): each becomes one bad unit the reader reports and skips."""
    b = bytearray(pcap.read_bytes())
    off, n, hit = 24, 0, 0
    while off + 16 <= len(b):
        caplen = int.from_bytes(b[off + 8:off + 12], "little")
        if caplen == 1248 and n % every == every // 2:
            b[off + 16 + 42:off + 16 + 44] = b"\0\0"
            hit += 1
        off += 16 + caplen
        n += 1
    pcap.write_bytes(bytes(b))
    return hit


def synced(cli, base, name, opts):
    drive, out = base / f"d_{name}", base / f"o_{name}"
    run([cli, "synth", "-q", "--clean", "--duration", DURATION, *opts, "-o", drive])
    hit = 0
    if name == "damaged-packets":
        hit = damage_lidar(drive / "ego" / "lidar.pcap")
        assert hit > 10
    r = run([cli, "sync", "-q", drive / "scenario.json", "-o", out], ok=(0, 1))
    assert r.returncode == (1 if hit else 0)
    return out, hit


def check(cli, out, *extra, ok=(0, 1)):
    r = run([cli, "check", "--json", out, *extra], ok=ok)
    doc = json.loads(r.stdout)
    return r.returncode, doc, {c["name"]: c for c in doc["checks"]}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return tmp_path_factory.mktemp("check")


@pytest.fixture(scope="module")
def clean(cli, base):
    return synced(cli, base, "clean", [])[0]


def test_clean_drive_passes_every_check(cli, clean):
    rc, doc, checks = check(cli, clean)
    assert rc == 0
    bad = {n: c for n, c in checks.items() if c["level"] != "OK"}
    assert not bad, bad
    assert doc["verdict"] == {"level": "OK", "errors": 0, "warnings": 0, "config": None}
    # every check applies to this drive (V2X, LiDAR, camera, frames)
    assert all(c["value"] is not None for c in checks.values())
    # the text form: one line per check and the verdict
    r = run([cli, "check", clean])
    lines = r.stdout.decode().splitlines()
    assert len(lines) == len(checks) + 1 and lines[-1].endswith(": OK")
    assert all(l.startswith("OK ") for l in lines[:-1])


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_one_fault_turns_its_check(cli, base, clean, fault):
    opts, want, may = FAULTS[fault]
    out, hit = synced(cli, base, fault, opts)
    rc, doc, checks = check(cli, out)
    _, _, before = check(cli, clean)
    for name, level in want.items():
        assert checks[name]["level"] == level, checks[name]
        assert before[name]["level"] == "OK"
    for name, c in checks.items():
        if name not in want and name not in may:
            assert c["level"] == "OK", (fault, c)
    assert rc == (1 if doc["verdict"]["level"] == "ERROR" else 0)
    assert doc["verdict"]["level"] in ("WARN", "ERROR")
    if fault == "damaged-packets":
        c = checks["damaged_units"]
        assert c["value"] == hit
        assert "lidar.pcap" in c["subject"] and "byte offset" in c["message"]
        # report.json lists them with their positions
        run([cli, "report", "-q", out])
        rep = json.loads((out / "report.json").read_text())
        ego = next(s for s in rep["streams"] if s["name"] == "ego/lidar")
        assert ego["damaged"] == hit
        assert ego["damaged_first"][0]["unit"] == 251 and ego["damaged_first"][0]["byte_offset"] > 0
    if fault == "unpinned-clock":
        assert "vehicle2/logger" in checks["clocks_unidentified"]["subject"]
    if fault == "dead-link":
        assert checks["link_silence_s"]["subject"].startswith("vehicle2 -> ego")
        assert checks["link_silence_s"]["value"] > 0.5 * DURATION
    if fault == "camera-drops":
        assert checks["stream_gap_intervals"]["subject"] == "ego/camera"
        # 1.5 s of a 20 Hz camera: about 30 intervals
        assert 25 < checks["stream_gap_intervals"]["value"] < 35


def test_config_overrides_and_bad_configs(cli, base, clean):
    cfg = base / "strict.json"
    # make the clean drive's small loss an error, switch a level off
    cfg.write_text(json.dumps({"link_loss": {"warn": None, "error": 0.0},
                               "clock_jumps": {"warn": None}}))
    rc, doc, checks = check(cli, clean, "--config", cfg)
    assert rc == 1 and doc["verdict"]["level"] == "ERROR"
    assert checks["link_loss"]["level"] == "ERROR" and checks["link_loss"]["warn"] is None
    assert checks["clock_jumps"]["warn"] is None and checks["clock_jumps"]["level"] == "OK"
    assert doc["verdict"]["config"] == str(cfg)
    for text, want in [('{"no_such_check": {"warn": 1}}', b"unknown check"),
                       ('{"link_loss": {"warn": "x"}}', b"link_loss.warn"),
                       ('{"link_loss": {"critical": 1}}', b"link_loss.critical"),
                       ('{"link_loss": ', b"line 1")]:
        cfg.write_text(text)
        r = run([cli, "check", clean, "--config", cfg], ok=(2,))
        assert want in r.stderr and str(cfg).encode() in r.stderr, r.stderr


def test_help_lists_the_library_defaults(cli, clean):
    """check --help's table (a literal in cli/) against the limits the library applies."""
    helptext = run([cli, "check", "--help"]).stdout.decode()
    _, _, checks = check(cli, clean)
    for name, c in checks.items():
        line = next(l for l in helptext.splitlines() if l.strip().startswith(name + " "))
        def fmt(v):
            return "-" if v is None else f"> {v:g}"
        assert f"warn {fmt(c['warn'])}" in " ".join(line.split()), line
        assert f"error {fmt(c['error'])}" in " ".join(line.split()), line
