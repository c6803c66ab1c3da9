"""Fixtures for the bundle loader tests: the v2xsync binary, a synthetic drive, its bundle.

The drives and bundles are built once per session in pytest's temporary folders (never in
the source tree): a 6 s classic drive (the synth defaults) and a 4 s drive with every
realism option (--realism full: camera latency, sidecar names, GNSS errors, slews, ...).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (python/, tests/python/)
REPO = Path(__file__).resolve().parents[2]
if str(REPO / "python") not in sys.path:  # ctest sets PYTHONPATH; plain pytest need not
    sys.path.insert(0, str(REPO / "python"))

#: name -> (synth options, duration s). Short: the machine running ctest may have 2 cores.
DRIVES = {
    "classic": ([], 6),
    "full": (["--realism", "full"], 4),
}


def shared_dir() -> Path:
    """../shared as tests/test_util.cc finds it: $VXS_SHARED_DIR overrides the configured
    path (ctest passes it as $VXS_SHARED), else the folder beside the repository."""
    for var in ("VXS_SHARED_DIR", "VXS_SHARED"):
        v = os.environ.get(var)
        if v:
            return Path(v)
    return (REPO / ".." / "shared").resolve()


def run(cmd, *, cwd=None, ok=(0,), timeout=300):
    """Run cmd (a list), capture stdout/stderr as text; fail unless the exit status is in ok."""
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, timeout=timeout)
    if ok is not None and r.returncode not in ok:
        pytest.fail(f"{' '.join(map(str, cmd))}: exit status {r.returncode}\n"
                    f"stderr: {r.stderr.decode(errors='replace')[-3000:]}")
    return r


@pytest.fixture(scope="session")
def cli():
    """The v2xsync binary: $V2XSYNC (ctest passes the built target), else build/v2xsync."""
    p = Path(os.environ.get("V2XSYNC") or REPO / "build" / "v2xsync")
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.skip(f"the v2xsync binary is not built ({p}); set V2XSYNC")
    return p.resolve()


class Case:
    """One synthetic drive and the bundle sync wrote from it."""

    def __init__(self, name, drive, out, sync_result):
        self.name = name
        self.drive = drive
        self.manifest_path = drive / "scenario.json"
        self.manifest = json.loads(self.manifest_path.read_text())
        self.out = out
        self.sync = sync_result

    def source(self, agent, sensor):
        """The manifest's source dict of agent/sensor, with "abspath" added."""
        for a in self.manifest["agents"]:
            if a["id"] != agent:
                continue
            for s in a["sources"]:
                if s.get("sensor") == sensor:
                    s = dict(s)
                    s["abspath"] = (self.manifest_path.parent / s["path"]).resolve()
                    return s
        raise KeyError(f"{self.manifest_path}: no source {agent}/{sensor}")

    def __repr__(self):
        return f"<drive {self.name}>"


def make_drive(cli, tmp_path_factory, name):
    opts, duration = DRIVES[name]
    base = tmp_path_factory.mktemp(f"drive_{name}")
    drive = base / "drive"
    run([cli, "synth", "-q", "--duration", duration, *opts, "-o", drive])
    return drive


@pytest.fixture(scope="session", params=sorted(DRIVES))
def case(request, cli, tmp_path_factory):
    """A synthetic drive synced with --bundle (the bundle is complete: exit status 0)."""
    name = request.param
    drive = make_drive(cli, tmp_path_factory, name)
    out = drive.parent / "out"
    r = run([cli, "sync", "-q", drive / "scenario.json", "-o", out, "--bundle"])
    return Case(name, drive, out, r)


@pytest.fixture(scope="session")
def classic_drive(cli, tmp_path_factory):
    """A classic drive of its own (tests that damage or copy it)."""
    return make_drive(cli, tmp_path_factory, "classic")
