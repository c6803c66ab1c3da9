"""Damage sweep over the real recordings: one bad byte loses one unit, never a file (issue 21).

The harness, its modes (V2XSYNC_SWEEP=ci|asan|long; asan is picked by itself for a sanitizer
build) and how to replay a failing mutation are described in damage_sweep.py's doc comment. The
sweep runs once per session (a pool of V2XSYNC_SWEEP_JOBS processes, default 2); each input file
is one test, failing with every mutation of it that broke the contract, and the summary table is
printed at the end of the session. Skips when ../shared/datasets or the binary is absent.
"""

import os
import sys

import pytest

sys.dont_write_bytecode = True
import damage_sweep as ds  # noqa: E402  (tests/python is on sys.path: pytest's rootdir insert)

DATASETS = ds.shared_dir() / "datasets"
NAMES = ([i.name for i in ds.dataset_inputs(DATASETS)] +
         ["derived/wydot_bsm_wsmp_rewrapped.pcapng", "derived/phone_vfr_1080p.faststart.mp4",
          "derived/empty"]) if DATASETS.is_dir() else ["(no datasets)"]


@pytest.fixture(scope="module")
def report(request):
    if not DATASETS.is_dir():
        pytest.skip(f"{DATASETS} is absent: the damage sweep needs the real recordings "
                    "(../shared/datasets, see its SOURCES.md)")
    cli = ds.find_cli()
    if cli is None:
        pytest.skip("the v2xsync binary is not built; set V2XSYNC")
    mode = ds.pick_mode(cli)
    seed = int(os.environ.get("V2XSYNC_SWEEP_SEED") or 0) or (
        ds.DEFAULT_SEED if mode != "long" else int.from_bytes(os.urandom(2), "little"))
    jobs = int(os.environ.get("V2XSYNC_SWEEP_JOBS") or 2)
    head = []
    rep = ds.sweep(cli, DATASETS, mode, seed, jobs, log=head.append)
    request.config.pluginmanager.register(_Summary(rep, head), "damage-sweep-summary")
    return rep


class _Summary:
    """Prints the sweep's table at the end of the session (pytest_terminal_summary), where
    pytest's output capture no longer swallows it."""

    def __init__(self, rep, head):
        self.rep, self.head = rep, head

    def pytest_terminal_summary(self, terminalreporter):
        tr, rep = terminalreporter, self.rep
        tr.section("damage sweep")
        for line in self.head + rep.table().splitlines() + ["note: " + n for n in rep.notes]:
            tr.write_line(line)
        muts = [f[1] for f in rep.failures if "::baseline::" not in f[1]]
        if muts:
            tr.write_line(f"{len(rep.failures)} failing mutation(s), seed {rep.seed}; replay one "
                          f"with:\n  " + ds.replay_cmd(muts[0], rep.mode, rep.seed))


@pytest.mark.parametrize("name", NAMES)
def test_damage_costs_one_unit(report, name):
    fails = [f for f in report.failures if f[0] == name]
    ran = any(i.name == name for i in report.inputs)
    if not ran:
        pytest.skip(f"{name}: not built here ({'; '.join(report.notes) or 'missing'})")
    if fails:
        sub = ds.Report(report.mode, report.seed, report.jobs)
        sub.failures = fails
        pytest.fail(f"{name}: {len(fails)} mutation(s) broke the contract (mode {report.mode}, "
                    f"seed {report.seed}):\n" + ds.format_failures(sub), pytrace=False)
