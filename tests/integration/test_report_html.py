"""report.html in real headless Chromium: no console message, the sort script runs, the plots are drawn.

The main case is a synthetic sweep written into a FileStore (fast, no Docker); the demo sweep's report is
checked the same way when ./results holds one (`make demo`). Chromium is Debian's `chromium` package.
"""

from __future__ import annotations

import json
import operator
import random
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from orchestrator.plan import derive_seed
from orchestrator.report.aggregate import write_reports
from orchestrator.store import FileStore, SweepPaths
from workers import models as wm
from workers.models import Attempt, Result, Verdict

ROOT = Path(__file__).resolve().parents[2]
WINDOW = (1400, 3400)
CHARTS = ("chart-rates", "chart-repos", "chart-heatmap", "chart-durations")
TABLES = (
    "table-runs",
    "table-comparisons",
    "table-replicates",
    "table-repos",
    "table-durations",
    "table-integrity",
)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip(
            "Debian package 'chromium' is not installed (apt-get install -y chromium; `make test` does)"
        )
    return path


def run_chromium(binary: str, tmp: Path, url: str, *mode: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    args = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--enable-logging=stderr",
        "--v=0",
        *mode,
        url,
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


# --- a sweep of synthetic results -----------------------------------------------------------------------

RUNS = {
    "x-mini": ("model-x", "mini", 0.6),
    "x-agentless": ("model-x", "agentless", 0.45),
    "y-mini": ("model-y", "mini", 0.3),
}
REPOS = ("org/alpha", "org/beta", "org/gamma", "org/delta")


def synthetic_sweep(
    root: Path, sweep_id: str = "synthetic", instances: int = 40, repeats: int = 2
) -> FileStore:
    """3 runs (model x scaffold) x 40 instances in 4 repos x 2 repeats, with tests, durations, usage."""
    store, rng, paths = FileStore(root), random.Random(7), SweepPaths(sweep_id)
    for run, (model, scaffold, skill) in RUNS.items():
        for i in range(instances):
            iid = f"org__{REPOS[i % 4][4:]}-{i}"
            for repeat in range(repeats):
                ok = rng.random() < skill
                verdict: Verdict = (
                    "resolved" if ok else rng.choice(["unresolved", "unresolved", "patch_failed", "timeout"])
                )
                test_s = rng.lognormvariate(0.4, 0.5)
                result = Result(
                    key=f"{run}-{iid}-{repeat}",
                    sweep_id=sweep_id,
                    instance_id=iid,
                    repo=REPOS[i % 4],
                    run=run,
                    repeat=repeat,
                    seed=derive_seed(0, run, iid, repeat),
                    verdict=verdict,
                    tests_status=wm.TestsStatus(
                        fail_to_pass=wm.TestBucket(success=["t"] if ok else [], failure=[] if ok else ["t"])
                    ),
                    attempts=[Attempt(n=1, started_at=0.0, finished_at=test_s, verdict=verdict)],
                    durations={"start": 0.3, "patch": 0.1, "test": test_s},
                    harness_version="h",
                    candidate_metadata={
                        "model": model,
                        "scaffold": scaffold,
                        "tokens": 900 + i,
                        "cost_usd": 0.02,
                    },
                )
                store.put_if_absent(paths.result(result.key), result.model_dump_json().encode())
    manifest = {"sweep_id": sweep_id, "config": {"seed": 0}, "planned": len(RUNS) * instances * repeats}
    store.put(paths.manifest, json.dumps(manifest).encode())
    return store


# --- PNG decoding (pure Python: no imaging library in the test dependencies) ------------------------------

MOD256 = bytes(range(256)) * 2


def read_png(path: Path) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows) of an 8-bit RGB/RGBA, non-interlaced PNG."""
    data, pos, idat = path.read_bytes(), 8, []
    width = height = bpp = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
    return width, height, bpp, unfilter(zlib.decompress(b"".join(idat)), width, height, bpp)


def unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    stride, prev, rows = width * bpp, bytes(width * bpp), []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray(map(MOD256.__getitem__, map(operator.add, line, prev)))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + (((line[i - bpp] if i >= bpp else 0) + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a, b = (line[i - bpp] if i >= bpp else 0), prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = bytes(line)
        rows.append(prev)
    return rows


def coloured_pixels(rows: list[bytes], bpp: int, box: dict[str, float]) -> int:
    """Pixels inside box that are clearly not grey (chart marks are coloured; text and axes are grey)."""
    x0, y0 = int(box["x"]), int(box["y"])
    x1, y1 = int(box["x"] + box["width"]), int(box["y"] + box["height"])
    count = 0
    for y in range(max(0, y0), min(len(rows), y1)):
        row = rows[y]
        for x in range(max(0, x0), x1):
            r, g, b = row[x * bpp : x * bpp + 3]
            count += max(r, g, b) - min(r, g, b) > 30
    return count


# --- the checks -----------------------------------------------------------------------------------------

PROBE = """<script>
(function () {
  var out = {sortable: document.body.getAttribute('data-sortable-tables'), charts: {}};
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var r = svg.getBoundingClientRect();
    out.charts[svg.id] = {x: r.x, y: r.y, width: r.width, height: r.height, marks: svg.querySelectorAll('rect,circle').length};
  });
  var th = document.querySelector('#table-runs th:nth-child(3)');
  th.click();
  out.ascending = Array.prototype.map.call(document.querySelectorAll('#table-runs tbody tr'), function (tr) { return tr.cells[0].getAttribute('data-sort'); });
  th.click();
  out.descending = Array.prototype.map.call(document.querySelectorAll('#table-runs tbody tr'), function (tr) { return tr.cells[0].getAttribute('data-sort'); });
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script></body>"""


def run_probe(binary: str, tmp: Path, html: Path, script: str) -> dict[str, Any]:
    """Run ``script`` (it ends the body and leaves JSON in <pre id="probe">) in an instrumented copy of
    the page, read back with --dump-dom."""
    copy = tmp / f"probe-{html.stem}.html"
    copy.write_text(html.read_text(encoding="utf-8").replace("</body>", script, 1), encoding="utf-8")
    dom = run_chromium(binary, tmp, copy.as_uri(), "--dump-dom").stdout
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    raw = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    data: dict[str, Any] = json.loads(raw.replace("&amp;", "&"))
    return data


def probe(binary: str, tmp: Path, html: Path) -> dict[str, Any]:
    """Layout and behaviour of the page: charts drawn, tables sorted by a click."""
    return run_probe(binary, tmp, html, PROBE)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def check_page(binary: str, tmp: Path, html: Path, report: dict[str, Any]) -> None:
    text = html.read_text(encoding="utf-8")
    assert "<link" not in text and " src=" not in text
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {"http://www.w3.org/2000/svg"}
    assert "Content-Security-Policy" in text  # the page cannot load anything, even by mistake
    info = probe(binary, tmp, html)  # the page's script ran: it counts the sortable tables
    assert int(info["sortable"]) == sum(f'id="{t}"' in text for t in TABLES) >= 4
    rates = {run: e["stats"]["rate"] for run, e in report["runs"].items()}
    assert [rates[r] for r in info["ascending"]] == sorted(rates.values())
    assert [rates[r] for r in info["descending"]] == sorted(rates.values(), reverse=True)
    shot = tmp / "report.png"
    done = run_chromium(binary, tmp, html.as_uri(), f"--screenshot={shot}")
    assert console_lines(done.stderr) == []  # no script error, no blocked load, no console output
    width, height, bpp, rows = read_png(shot)
    assert (width, height) == WINDOW
    assert coloured_pixels(rows, bpp, {"x": width - 30, "y": 0, "width": 30, "height": height}) == 0
    for chart in CHARTS:
        box = info["charts"][chart]
        assert box["width"] > 300 and box["height"] > 60 and box["marks"] > 0, (chart, box)
        assert box["y"] + box["height"] <= height, f"{chart} is below the screenshot: raise WINDOW"
        assert coloured_pixels(rows, bpp, box) > 400, f"{chart} drew nothing visible"


def test_synthetic_sweep_report_renders_in_chromium(chromium: str, tmp_path: Path) -> None:
    store = synthetic_sweep(tmp_path / "store")
    write_reports(store, "synthetic")
    html = store.root / SweepPaths("synthetic").report("report.html")
    report = json.loads((store.root / SweepPaths("synthetic").report("report.json")).read_text())
    assert "Heatmap: model x scaffold" in html.read_text()
    check_page(chromium, tmp_path, html, report)


def _demo_sweep() -> Path | None:
    sweeps = ROOT / "results" / "sweeps"
    found = [
        p
        for p in sweeps.glob("demo-*")
        if (p / "manifest.json").is_file() and any(p.glob("items/*/result.json"))
    ]
    return max(found, key=lambda p: (p / "manifest.json").stat().st_mtime) if found else None


def test_demo_sweep_report_renders_in_chromium(chromium: str, tmp_path: Path) -> None:
    source = _demo_sweep()
    if source is None:
        pytest.skip("no demo sweep in ./results: run `make demo` first")
    store_dir = tmp_path / "store"
    shutil.copytree(source, store_dir / "sweeps" / source.name, ignore=shutil.ignore_patterns("reports"))
    store = FileStore(store_dir)
    write_reports(store, source.name)
    html = store.root / SweepPaths(source.name).report("report.html")
    report = json.loads((store.root / SweepPaths(source.name).report("report.json")).read_text())
    assert {"gold", "demo-model-a", "demo-model-b"} <= set(report["runs"])
    check_page(chromium, tmp_path, html, report)


# --- what the page says: whole labels, sentences that follow their numbers ----------------------------

TEXT_PROBE = """<script>
(function () {
  var out = {labels: [], runs: {}, text: document.body.innerText, width: window.innerWidth};
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    svg.querySelectorAll('text').forEach(function (t) {
      var r = t.getBoundingClientRect();
      out.labels.push({chart: svg.id, text: t.textContent,
                       whole: r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.width > 0});
    });
  });
  var runs = document.getElementById('table-runs');
  out.runs = {scroll: runs.scrollWidth, client: runs.clientWidth, headers: {}};
  runs.querySelectorAll('th').forEach(function (th) {
    out.runs.headers[th.textContent] = th.getBoundingClientRect().right;
  });
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script></body>"""


def text_probe(binary: str, tmp: Path, html: Path, table: str = "table-runs") -> dict[str, Any]:
    """The page's text, every chart label and whether it lies inside its chart, and ``table``'s widths."""
    return run_probe(binary, tmp, html, TEXT_PROBE.replace("table-runs", table))


def verdict_sweep(root: Path, sweep_id: str, runs: dict[str, dict[str, Verdict]]) -> FileStore:
    """A sweep with the given verdict per run and instance (repository from the instance id)."""
    store, paths = FileStore(root), SweepPaths(sweep_id)
    for run, verdicts in runs.items():
        for i, (iid, verdict) in enumerate(sorted(verdicts.items())):
            result = Result(
                key=f"{run}-{i}",
                sweep_id=sweep_id,
                instance_id=iid,
                repo=iid.rsplit("-", 1)[0].replace("__", "/"),
                run=run,
                repeat=0,
                seed=derive_seed(0, run, iid, 0),
                verdict=verdict,
                attempts=[Attempt(n=1, started_at=0.0, finished_at=1.0, verdict=verdict)],
                durations={"test": 1.0 + i % 7},
                candidate_metadata={"tokens": 1000, "cost_usd": 0.01},
            )
            store.put_if_absent(paths.result(result.key), result.model_dump_json().encode())
    planned = sum(len(v) for v in runs.values())
    store.put(
        paths.manifest, json.dumps({"sweep_id": sweep_id, "config": {"seed": 0}, "planned": planned}).encode()
    )
    return store


COIN = "c-coin_20240620_sweagent_claude-3-5-sonnet-20241022_maxiter_50_N_v0.15.0-no-hint"  # a long name


def outcome_sweep(root: Path) -> FileStore:
    """Runs sized like the issue's examples, in 3 repositories:
    gold resolves 13 of 13; a-18 resolves 54 of 300; b-near resolves a's 54 and 6 more (few discordant
    instances: the paired MDD is smaller than the unpaired one); c-coin resolves every other instance
    (independent of a: paired needs more than unpaired)."""
    outcomes = {
        "gold": [True] * 13,
        "a-18": [i % 50 < 9 for i in range(300)],
        "b-near": [i % 50 < 10 for i in range(300)],
        COIN: [i % 2 == 0 for i in range(300)],
    }
    runs: dict[str, dict[str, Verdict]] = {
        run: {f"org__r{i % 3}-{i}": "resolved" if ok else "unresolved" for i, ok in enumerate(oks)}
        for run, oks in outcomes.items()
    }
    return verdict_sweep(root, "labels", runs)


def test_report_page_text_shows_whole_labels_and_true_sentences(chromium: str, tmp_path: Path) -> None:
    from orchestrator.report import sentences

    store = outcome_sweep(tmp_path / "store")
    write_reports(store, "labels")
    html = store.root / SweepPaths("labels").report("report.html")
    report = json.loads((store.root / SweepPaths("labels").report("report.json")).read_text())
    info = text_probe(chromium, tmp_path, html)
    text = " ".join(info["text"].split())
    # every label of every chart is inside its chart, and the rate labels state the counts whole
    assert [lab for lab in info["labels"] if not lab["whole"]] == []
    rate_labels = {lab["text"] for lab in info["labels"] if lab["chart"] == "chart-rates"}
    assert {"100.0% (13/13)", "18.0% (54/300)", "20.0% (60/300)", "50.0% (150/300)"} <= rate_labels
    # the paired-vs-unpaired sentence follows the numbers, in both directions
    by_pair = {(c["a"], c["b"]): c for c in report["comparisons"]}
    near, coin = by_pair[("a-18", "b-near")], by_pair[("a-18", COIN)]
    assert near["mdd_paired"] < near["mdd_unpaired"] and coin["mdd_paired"] > coin["mdd_unpaired"]
    for c in report["comparisons"]:
        sentence = sentences.mdd_sentence(c)
        assert sentence in text
        paired = f"{100 * c['mdd_paired']:.1f} points paired" if c["mdd_paired"] is not None else None
        assert paired is None or paired in sentence
        word = "less than" if c["mdd_paired"] is not None and c["mdd_paired"] < c["mdd_unpaired"] else None
        assert (word in sentence) if word else ("less than" not in sentence)
    assert "a-18 vs b-near (300 common instances): to be detected" in text
    assert "more than" in sentences.mdd_sentence(coin) and "pairing does not help" in sentences.mdd_sentence(
        coin
    )
    # unpaired MDD at the two compared runs' rates (gold's 100% is not pooled in)
    assert near["mdd_unpaired"] == pytest.approx(2.8016 * ((0.18 * 0.82 + 0.2 * 0.8) / 300) ** 0.5, abs=1e-4)
    # B - A and its interval in points; warnings for 3 repositories and 6 discordant instances
    assert f"{100 * near['diff']:+.1f} pts" in text
    lo, hi = near["interval"]
    assert f"[{100 * lo:+.1f}, {100 * hi:+.1f}] pts" in text
    assert "'SE by repo' rests on only 3 repositories (fewer than 10)" in text
    assert "a-18 vs b-near rests on 6 discordant instances (fewer than 10)" in text
    assert "test-phase durations, all 913 results pooled: 4 runs, one evaluation per instance" in text
    # the runs table fits a 1400 px window: no horizontal scroll, attempts/tokens/cost in view
    assert info["runs"]["scroll"] <= info["runs"]["client"], info["runs"]
    for header in ("attempts", "tokens", "cost (USD)", "USD / resolved"):
        assert info["runs"]["headers"][header] <= info["width"], (header, info["runs"])


def test_trend_page_renders_whole_in_chromium(chromium: str, tmp_path: Path) -> None:
    from orchestrator.report.trend import build_trend
    from orchestrator.report.trend_html import render_trend_html
    from tests.support.series import SERIES, write_series

    store = FileStore(tmp_path / "store")
    write_series(store)
    html = tmp_path / "trend.html"
    html.write_text(render_trend_html(build_trend(store, SERIES)), encoding="utf-8")
    page = html.read_text()
    assert "<link" not in page and " src=" not in page and "Content-Security-Policy" in page
    info = text_probe(chromium, tmp_path, html, "table-trend")
    assert [lab for lab in info["labels"] if not lab["whole"]] == []
    assert {"gold", "model", "0%", "100%"} <= {lab["text"] for lab in info["labels"]}
    text = " ".join(info["text"].split())
    assert (
        "4 sweeps of series nightly" in text
        and "4 verdict flips between consecutive sweeps, 2 of them" in text
    )
    assert "50.0% (2/4) [15.0, 85.0]% +1 infra error, not counted" in text
    assert info["runs"]["scroll"] <= info["runs"]["client"]
    shot = tmp_path / "trend.png"
    done = run_chromium(chromium, tmp_path, html.as_uri(), f"--screenshot={shot}")
    assert console_lines(done.stderr) == []


def test_demo_outcomes_report_says_what_its_numbers_say(chromium: str, tmp_path: Path) -> None:
    """The demo's expected verdicts (demo/expected_verdicts.json: gold 13/13, model-a 7/13, model-b 5/13,
    12 of 13 instances discordant, 3 repositories), the case the issue measured."""
    from orchestrator.report import sentences

    runs = json.loads((ROOT / "demo" / "expected_verdicts.json").read_text())
    store = verdict_sweep(tmp_path / "store", "demo-outcomes", runs)
    write_reports(store, "demo-outcomes")
    html = store.root / SweepPaths("demo-outcomes").report("report.html")
    report = json.loads((store.root / SweepPaths("demo-outcomes").report("report.json")).read_text())
    info = text_probe(chromium, tmp_path, html)
    text = " ".join(info["text"].split())
    assert [lab for lab in info["labels"] if not lab["whole"]] == []
    assert {"100.0% (13/13)", "53.8% (7/13)", "38.5% (5/13)"} <= {lab["text"] for lab in info["labels"]}
    (ab,) = [c for c in report["comparisons"] if (c["a"], c["b"]) == ("demo-model-a", "demo-model-b")]
    assert ab["only_a"] + ab["only_b"] == 12 and ab["mdd_paired"] > ab["mdd_unpaired"]
    assert "needs less" not in text
    assert sentences.mdd_sentence(ab) in text and "more than" in sentences.mdd_sentence(ab)
    assert "'SE by repo' rests on only 3 repositories (fewer than 10) in 3 of 3 runs" in text
    for c in report["comparisons"]:
        assert (sentences.discordance_warning(c) or "") in text
    assert "demo-model-a vs demo-model-b rests on 12 discordant" not in text  # 12 >= 10: no warning
    assert "the paired MDD of demo-model-a vs gold rests on 6 discordant instances (fewer than 10)" in text
