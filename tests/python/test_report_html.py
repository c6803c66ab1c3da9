"""report.html, the page `v2xsync report OUT` writes, rendered by a real browser.

Debian's chromium (.ci/install-deps) renders the page headless with every network path closed
(a dead proxy, a host resolver that resolves nothing): it must show no console error, hold every
section, draw its charts (the screenshot is checked for size and content) and reference nothing
outside the file. The console-error detector is itself checked on a page that logs an error, so
a detector that sees nothing cannot pass. A drive without V2X (its V2X sources removed from the
manifest) must still render and say which sections it does not have. No chromium: skipped.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import make_drive, run

Image = pytest.importorskip("PIL.Image", reason="Python module PIL is not installed "
                                                "(Debian python3-pil)")

SECTIONS = ["verdict", "drive", "streams", "clocks", "member-dt", "agent-pairs", "links",
            "v2x-pairs", "frames"]
#: sections that draw at least one chart on a drive with V2X
CHARTED = ["clocks", "member-dt", "agent-pairs", "links", "v2x-pairs", "frames"]
WIDTH, HEIGHT = 1280, 3000


def chromium():
    p = shutil.which("chromium")
    if not p:
        pytest.skip("chromium is not installed (Debian chromium, .ci/install-deps)")
    return p


def render(page, tmp, *, dom=False):
    """Render `page` headless without network; returns (log text, screenshot path or DOM)."""
    tmp.mkdir(parents=True, exist_ok=True)
    png = tmp / "shot.png"
    cmd = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--no-default-browser-check", "--disable-extensions", "--disable-sync",
           "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp / 'profile'}",
           "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}"]
    cmd += ["--dump-dom"] if dom else [f"--screenshot={png}"]
    r = subprocess.run(cmd + [Path(page).resolve().as_uri()], capture_output=True, timeout=120)
    log = r.stderr.decode(errors="replace")
    assert r.returncode == 0, f"chromium exit status {r.returncode}\n{log[-3000:]}"
    return log, (r.stdout.decode(errors="replace") if dom else png)


#: chromium --enable-logging=stderr writes the page's console messages and uncaught exceptions as
#: '... CONSOLE(12)] "message", source: file:///... (12)' or 'Uncaught ...'
CONSOLE_RE = re.compile(r'CONSOLE\(\d+\)\]|:CONSOLE:|Uncaught|console\.error', re.I)


def console_errors(log):
    return [l for l in log.splitlines() if CONSOLE_RE.search(l)]


def check_external(html):
    """No script and nothing fetched from elsewhere: no http(s) URL in src, href or url()."""
    assert not re.search(r"<script", html, re.I), "the page has a <script>"
    bad = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*""", html, re.I)
    bad += re.findall(r"""url\(\s*["']?\s*(?:https?:)?//[^)]*\)""", html, re.I)
    bad += re.findall(r"@import|@font-face|<link\b|<iframe\b|<object\b|<embed\b", html, re.I)
    assert not bad, f"external references: {bad[:5]}"


def sections_of(dom):
    """id -> the section's markup, from the DOM chromium dumped."""
    out = {}
    for m in re.finditer(r'<section id="([^"]+)">(.*?)</section>', dom, re.S):
        out[m.group(1)] = m.group(2)
    return out


def check_screenshot(png):
    with Image.open(png) as im:
        assert im.size == (WIDTH, HEIGHT), im.size
        rgb = im.convert("RGB")
        small = rgb.resize((WIDTH // 4, HEIGHT // 4))
        colours = small.getcolors(maxcolors=1 << 20) or []
        non_white = sum(n for n, c in colours if min(c) < 240)
        # charts, the verdict banner, tables: many distinct colours and a good share inked
        assert len(colours) > 20, f"{len(colours)} distinct colours: blank page?"
        assert non_white > small.width * small.height // 50, f"{non_white} non-white pixels"
        # the verdict banner (OK green, WARN orange, ERROR vermillion) is among the first rows
        top = rgb.crop((0, 0, WIDTH, 400))
        banner = {(0x00, 0x9E, 0x73), (0xE6, 0x9F, 0x00), (0xD5, 0x5E, 0x00)}
        assert any(c in banner for _, c in top.getcolors(maxcolors=1 << 20) or []), \
            "no verdict banner colour at the top of the page"


def report(cli, out):
    r = run([cli, "report", out], ok=(0, 1))
    page = out / "report.html"
    assert page.is_file(), f"no {page}: {r.stderr.decode(errors='replace')}"
    return page


@pytest.fixture(scope="module")
def reporter(cli):
    """The v2xsync binary, when it has the report command (an older build has not)."""
    r = run([cli, "report", "--help"], ok=None)
    if r.returncode != 0:
        pytest.skip(f"{cli} has no report command")
    return cli


@pytest.fixture(scope="module")
def pages(reporter, tmp_path_factory):
    """name -> report.html: the classic drive and the --realism full one, synced and reported."""
    cli = reporter
    out = {}
    for name in ("classic", "full"):
        drive = make_drive(cli, tmp_path_factory, name)
        o = drive.parent / "out"
        run([cli, "sync", "-q", drive / "scenario.json", "-o", o], ok=(0, 1))
        out[name] = report(cli, o)
    return out


def test_detector_sees_console_errors(tmp_path):
    """The console check catches what it is for: a page logging an error and throwing."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><p>x</p><script>console.error("deliberate");'
                   'throw new Error("uncaught deliberate")</script></body></html>')
    log, _ = render(bad, tmp_path / "bad")
    found = console_errors(log)
    assert any("deliberate" in l for l in found), f"detector missed the error:\n{log[-2000:]}"
    good = tmp_path / "good.html"
    good.write_text("<!DOCTYPE html><html><body><p>fine</p></body></html>")
    log, _ = render(good, tmp_path / "good")
    assert not console_errors(log), console_errors(log)


@pytest.mark.parametrize("name", ["classic", "full"])
def test_page_renders(pages, name, tmp_path):
    page = pages[name]
    html = page.read_text(encoding="utf-8")
    check_external(html)
    assert "nan" not in re.sub(r"<[^>]*>", " ", html).lower().split(), "a 'nan' on the page"
    assert not re.search(r">\s*-?(nan|inf)\s*<", html, re.I)
    log, png = render(page, tmp_path / "shot")
    assert not console_errors(log), console_errors(log)
    check_screenshot(png)
    log, dom = render(page, tmp_path / "dom", dom=True)
    assert not console_errors(log), console_errors(log)
    secs = sections_of(dom)
    assert [s for s in SECTIONS if s in secs] == SECTIONS, f"sections: {list(secs)}"
    assert list(secs)[:len(SECTIONS)] == SECTIONS, "sections out of order"
    for s in CHARTED:
        assert "<svg" in secs[s], f"section {s} has no chart"
        assert re.search(r"<(path|rect|line)\b", secs[s]), f"section {s}: an empty chart"
    assert "Not in this drive" not in secs["links"]
    # every link has its latency CDF, delivery, distance, bursts and dropouts charts
    doc = json.loads((page.parent / "report.json").read_text())
    n_links = len(doc["links"] or [])
    assert n_links and secs["links"].count("<svg") >= 3 * min(n_links, 60)
    assert secs["verdict"].count("<tr>") >= len(doc["checks"])


def test_no_v2x(reporter, tmp_path_factory, tmp_path):
    """A drive whose manifest has no V2X source renders and says what it lacks."""
    cli = reporter
    drive = make_drive(cli, tmp_path_factory, "classic")
    man_path = drive / "scenario.json"
    man = json.loads(man_path.read_text())
    removed = 0
    for a in man["agents"]:
        keep = [s for s in a["sources"] if s.get("kind") != "v2x"]
        removed += len(a["sources"]) - len(keep)
        a["sources"] = keep
    assert removed, "the synthetic drive had no V2X source to remove"
    man["agents"] = [a for a in man["agents"] if a["sources"]]
    man_path.write_text(json.dumps(man, indent=1))
    out = drive.parent / "out_nov2x"
    run([cli, "sync", "-q", man_path, "-o", out], ok=(0, 1))
    page = report(cli, out)
    check_external(page.read_text(encoding="utf-8"))
    log, png = render(page, tmp_path / "shot")
    assert not console_errors(log), console_errors(log)
    check_screenshot(png)
    log, dom = render(page, tmp_path / "dom", dom=True)
    secs = sections_of(dom)
    assert [s for s in SECTIONS if s in secs] == SECTIONS, f"sections: {list(secs)}"
    for s in ("links", "v2x-pairs"):
        assert "Not in this drive" in secs[s], f"section {s} does not say it is absent"
        assert "<svg" not in secs[s]
    assert "Not in this drive" in secs["drive"]
    assert "<svg" in secs["frames"] and "<svg" in secs["member-dt"]
