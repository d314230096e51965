"""sweeps.report: self-contained HTML reports of a run folder and of a sweep folder, checked by
parsing the page and, when Chromium is installed, by rendering it headless."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import scenarios
from sweeps import analysis
from sweeps.report import REPORT_NAME, ReportError, render_report, write_report
from twinecon.errors import TwineconError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FEES = (0, 200, 500)
VALUES_PER_H = (15, 30)
SEEDS = (7, 8, 9)
#: prices and volume, jobs, balances and Gini, sim time and IP/data income, value-flow matrix,
#: flows by purpose
RUN_PLOTS = 6
SWEEP_METRICS = ("jobs_completed", "price_mean", "customer_value", "gini_final",
                 "time_ratio_mean")


class Page(HTMLParser):
    """What a test needs from a report: title, h1, body attributes, images, captions, text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.title = self.h1 = ""
        self.body: dict[str, str | None] = {}
        self.images: list[dict[str, str | None]] = []
        self.captions: list[str] = []
        self.text: list[str] = []
        self._in: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "body":
            self.body = dict(attrs)
        elif tag in ("title", "h1", "figcaption"):
            self._in.append(tag)
            if tag == "figcaption":
                self.captions.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "title" in self._in:
            self.title += data
        if "h1" in self._in:
            self.h1 += data
        if "figcaption" in self._in:
            self.captions[-1] += data


def _png(src: str | None) -> bytes:
    assert src is not None and src.startswith("data:image/png;base64,")
    return base64.b64decode(src.split(",", 1)[1], validate=True)


# --------------------------------------------------------------------------------------------
# Fixtures: one real run, one synthetic sweep (2-parameter grid x 3 seeds), one report each.


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    loaded = scenarios.apply_overrides(scenarios.load_scenario("warehouse-market"), ticks=15,
                                       ledger="memory")
    return scenarios.run_scenario(loaded, tmp_path_factory.mktemp("report") / "run").out_dir


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory, run_dir: Path) -> Path:
    """A sweep folder in the engine's contract, written by hand; the last run failed."""
    folder = tmp_path_factory.mktemp("report") / "sweep"
    folder.mkdir()
    params = [{"key": "ledger.platform_fee_bps", "column": "ledger_platform_fee_bps",
               "rule": True, "values": list(FEES)},
              {"key": "economy.time_value_per_h", "column": "economy_time_value_per_h",
               "rule": False, "values": list(VALUES_PER_H)}]
    runs, rows = [], []
    points = [(f, v) for f in FEES for v in VALUES_PER_H]
    for index, (fee, per_h) in enumerate(points):
        for seed in SEEDS:
            run_id = f"r{index}s{seed}"
            point = {"ledger.platform_fee_bps": fee, "economy.time_value_per_h": per_h}
            runs.append({"run_id": run_id, "point_id": f"p{index}", "point_index": index,
                         "seed": seed, "point": point})
            failed = index == len(points) - 1 and seed == SEEDS[-1]
            k = seed - 8
            price = None if failed else 40_000_000_000_000_000 + fee * 10**13
            value = None if failed else per_h * 10**17 * (10 + k)
            rows.append({
                "run_id": run_id, "point_id": f"p{index}", "point_index": index, "seed": seed,
                "status": "failed" if failed else "ok",
                "error": "ScenarioError: the ledger ran out of gas" if failed else None,
                "wall_s": 1.5, "ledger_platform_fee_bps": fee, "economy_time_value_per_h": per_h,
                "decimals": 18, "ledger": "memory", "scenario": "warehouse-market",
                "jobs_completed": None if failed else 11 + (seed - 7) + per_h // 30,
                # amounts as the engine writes them: exact base units with their tokens beside
                "price_mean": None if failed else Decimal(price),
                "price_mean_tokens": None if failed else price / 10**18,
                "customer_value": None if failed else Decimal(value),
                "customer_value_tokens": None if failed else value / 10**18,
                "gini_final": None if failed else 0.38 + fee * 1e-5 + 0.001 * k,
                "time_ratio_mean": None if failed else 0.75 + 0.01 * k,
                "ticks": 15,  # set-up: never "moved"
                "orders_lapsed": None if failed else 0,  # flat: never "moved"
            })
    sweep = {"scenario": "warehouse-market", "source": "warehouse-market.toml",
             "design": "grid", "params": params, "rules": ["ledger_platform_fee_bps"],
             "exogenous": ["economy_time_value_per_h"],
             "seeds": list(SEEDS), "overrides": {"ledger": "memory"}, "runs": runs}
    (folder / "sweep.json").write_text(json.dumps(sweep, indent=2), encoding="utf-8")
    amount = pa.decimal128(38, 0)
    frame = pd.DataFrame(rows)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in ("price_mean", "customer_value"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, pa.field(name, amount),
                                 pa.array(list(frame[name]), type=amount))
    pq.write_table(table, folder / "results.parquet")
    # The twin id comes from the runs' manifests, as in a real sweep folder.
    (folder / "runs" / "r0s7").mkdir(parents=True)
    shutil.copy(run_dir / "manifest.json", folder / "runs" / "r0s7" / "manifest.json")
    return folder


@pytest.fixture(scope="module")
def run_report(run_dir: Path) -> Path:
    return write_report(run_dir)


@pytest.fixture(scope="module")
def sweep_report(sweep_dir: Path) -> Path:
    return write_report(sweep_dir, metrics=list(SWEEP_METRICS))


# --------------------------------------------------------------------------------------------
# The page itself.


@pytest.mark.parametrize("which", ["run_report", "sweep_report"])
def test_report_is_self_contained(which: str, request: pytest.FixtureRequest) -> None:
    """No external reference at all; every image is an embedded PNG that decodes to a real,
    non-blank picture, with alt text."""
    report: Path = request.getfixturevalue(which)
    assert report.name == REPORT_NAME
    text = report.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", text)
    page = Page(text)
    assert page.images
    for img in page.images:
        data = _png(img.get("src"))
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000
        pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
        assert pixels.shape[0] > 200 and pixels.shape[1] > 800
        assert float(pixels[..., :3].std()) > 0.02  # not one flat colour
        assert img.get("alt") and len(img["alt"] or "") > 20
    assert page.body.get("data-expected") == str(len(page.images))


def test_run_report_names_the_run_and_has_every_plot(run_dir: Path, run_report: Path) -> None:
    """Title and header name the scenario, seed, ledger backend and twin; the headline table and
    the five captioned plots are there."""
    assert run_report == run_dir / "report.html"
    page = Page(run_report.read_text(encoding="utf-8"))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    text = " ".join(page.text)
    assert "warehouse-market" in page.title and "warehouse-market" in page.h1
    for expected in ("seed", "7", "memory", manifest["twin_id"], "Jobs posted",
                     "Customer value (tokens)", "Gini of balances, final"):
        assert expected in text
    assert len(page.images) == RUN_PLOTS and len(page.captions) == RUN_PLOTS
    for caption, title in zip(page.captions, ("Prices and volume", "Jobs", "Balances",
                                               "Sim time, licences, royalties and data",
                                               "Value-flow matrix", "Flows by purpose"),
                              strict=True):
        assert title in caption and len(caption) > 60


def test_sweep_report_plots_each_metric_with_intervals(sweep_dir: Path,
                                                       sweep_report: Path) -> None:
    """One captioned plot per metric asked, after the paired section's forest plot; a row per
    point with mean ± 95 % half-width (money in tokens); the failed run is listed, not
    averaged in."""
    assert sweep_report == sweep_dir / "report.html"
    page = Page(sweep_report.read_text(encoding="utf-8"))
    text = " ".join(page.text)
    assert "warehouse-market" in page.title and "warehouse-market" in page.h1
    assert len(page.images) == len(SWEEP_METRICS) + 1 == len(page.captions)
    assert "Paired differences" in page.captions[0]
    for caption in page.captions[1:]:
        assert "95 % t-intervals" in caption and "One line per value" in caption
    for expected in ("grid", "7, 8, 9", "memory", "warehouse/wh-default@",
                     "ledger.platform_fee_bps", "economy.time_value_per_h", "17 / 1"):
        assert expected in text
    # Point 0 (fee 0, 15 per h): jobs 11, 12, 13 -> mean 12, half-width t(2) * 1 / sqrt(3).
    assert f"12 ± {4.303 / 3**0.5:.2g}" in text
    assert "0.04 ± 0" in text  # price_mean, base units shown as tokens, the same every seed
    assert "2/3" in text and "ScenarioError: the ledger ran out of gas" in text


def _many_seeds_sweep(folder: Path, n_seeds: int) -> Path:
    """Two points (fee 0 and 500) x `n_seeds` seeds; Gini and jobs spread +-1 around a mean."""
    folder.mkdir()
    params = [{"key": "ledger.platform_fee_bps", "column": "ledger_platform_fee_bps",
               "rule": True, "values": [0, 500]}]
    runs, rows = [], []
    for index, fee in enumerate((0, 500)):
        for seed in range(n_seeds):
            run_id = f"r{index}s{seed}"
            runs.append({"run_id": run_id, "point_id": f"p{index}", "point_index": index,
                         "seed": seed, "point": {"ledger.platform_fee_bps": fee}})
            sign = 1 if seed % 2 else -1
            rows.append({"run_id": run_id, "point_id": f"p{index}", "point_index": index,
                         "seed": seed, "status": "ok", "error": None, "wall_s": 1.0,
                         "ledger_platform_fee_bps": fee,
                         "jobs_completed": 20 + index + sign * (1 + seed % 3),
                         "gini_final": 0.4 + 0.01 * index + sign * 0.1})
    sweep = {"scenario": "warehouse-market", "design": "grid", "params": params,
             "rules": ["ledger_platform_fee_bps"], "seeds": list(range(n_seeds)), "runs": runs}
    (folder / "sweep.json").write_text(json.dumps(sweep), encoding="utf-8")
    pd.DataFrame(rows).to_parquet(folder / "results.parquet", index=False)
    return folder


def test_sweep_report_intervals_are_the_ones_analyze_prints(tmp_path: Path) -> None:
    """The report's mean and 95 % interval of every point are `twinecon analyze`'s (one t
    quantile, exact at any number of seeds): here 40 seeds, where a normal 1.96 would differ."""
    folder = _many_seeds_sweep(tmp_path / "many", 40)
    metrics = ["jobs_completed", "gini_final"]
    text = " ".join(Page(render_report(folder, metrics=metrics)).text)
    summary = analysis.summarize(*analysis.load(folder), metrics=metrics)
    assert len(summary) == 4 and (summary["n"] == 40).all()
    for row in summary.itertuples(index=False):
        half = row.hi - row.mean
        assert half > 0
        wrong = 1.96 * row.std / 40**0.5  # what a normal approximation would print
        assert f"{half:.2g}" != f"{wrong:.2g}"  # the data tells the two apart
        assert f"{row.mean:.4g} ± {half:.2g}" in text


def test_sweep_metrics_are_configurable(sweep_dir: Path) -> None:
    """metrics= picks the plotted columns; an unknown one is an error with a suggestion; the
    same folder gives the same bytes."""
    one = render_report(sweep_dir, metrics=["jobs_completed"])
    assert len(Page(one).images) == 2  # the paired forest plot and the metric's
    assert one == render_report(sweep_dir, metrics=["jobs_completed"])
    with pytest.raises(ReportError, match=r"no metric 'jobs_complete'.*jobs_completed"):
        render_report(sweep_dir, metrics=["jobs_complete"])


def test_default_metrics_are_the_ones_that_moved(sweep_dir: Path) -> None:
    """Without --metric the report plots what moved across points (most first), not a fixed
    list: set-up columns and metrics flat over every point are left out."""
    results, sweep = analysis.load(sweep_dir)
    moved = analysis.moved(results, sweep)
    assert set(moved["metric"]) >= {"jobs_completed", "price_mean", "customer_value",
                                    "gini_final"}
    assert not {"ticks", "decimals", "orders_lapsed"} & set(moved["metric"])
    # time_ratio_mean moves only as the failed run leaves a point one seed short: last
    assert moved["metric"].iloc[-1] == "time_ratio_mean"
    assert moved["score"].is_monotonic_decreasing
    page = Page(render_report(sweep_dir))
    plotted = page.captions[1:]
    assert len(plotted) == len(moved)
    assert not any("orders lapsed" in c.lower() or "ticks" in c.lower() for c in plotted)


def test_paired_section_answers_with_intervals_and_p_values(sweep_dir: Path) -> None:
    """The paired section compares each point with the chosen baseline: the difference, its
    95 % interval, both p-values, d_z and the seeds needed, as `analyze --paired` computes
    them, and one sentence per comparison saying whether the change is resolved."""
    text = " ".join(Page(render_report(sweep_dir, metrics=["price_mean"],
                                       baseline={"ledger.platform_fee_bps": 0,
                                                 "economy.time_value_per_h": 15})).text)
    table = analysis.paired(*analysis.load(sweep_dir), metrics="price_mean",
                            baseline={"ledger.platform_fee_bps": 0,
                                      "economy.time_value_per_h": 15})
    assert "Paired differences against the baseline" in text
    assert "ledger.platform_fee_bps = 0, economy.time_value_per_h = 15" in text
    for header in ("95 % CI", "p (t)", "p (sign-flip)", "seeds needed"):
        assert header in text
    # fee 500 raises the price by 500 * 10^13 base units = 0.005 tokens in every seed
    row = table[(table.ledger_platform_fee_bps == 500)
                & (table.economy_time_value_per_h == 15)].iloc[0]
    assert row["diff"] == pytest.approx(0.005) and row["p_t"] == 0.0
    assert "the change raises it by +0.005 tokens" in text
    # a point that differs in the value of time does not share its draws with the baseline
    assert list(table["same_exogenous"]) == [v == 15 for v in table.economy_time_value_per_h]


def test_categorical_parameters_are_grouped_bars(tmp_path: Path) -> None:
    """A parameter whose values are categories (a market rule) is drawn as bars, one group per
    value, not joined by a line as if ordered."""
    folder = tmp_path / "cat"
    folder.mkdir()
    params = [{"key": "rules.compute.clearing", "column": "rules_compute_clearing",
               "rule": True, "values": ["posted", "call"]}]
    runs, rows = [], []
    for index, rule in enumerate(("posted", "call")):
        for seed in range(3):
            runs.append({"run_id": f"r{index}{seed}", "point_id": f"p{index}",
                         "point_index": index, "seed": seed,
                         "point": {"rules.compute.clearing": rule}})
            rows.append({"run_id": f"r{index}{seed}", "point_id": f"p{index}",
                         "point_index": index, "seed": seed, "status": "ok",
                         "rules_compute_clearing": rule, "jobs_completed": 10 + index + seed})
    (folder / "sweep.json").write_text(json.dumps(
        {"scenario": "x", "design": "grid", "params": params, "seeds": [0, 1, 2],
         "runs": runs}), encoding="utf-8")
    pd.DataFrame(rows).to_parquet(folder / "results.parquet")
    page = Page(render_report(folder))
    caption = page.captions[-1]
    assert "bars, for a parameter whose values are categories" in caption
    text = " ".join(page.text)
    assert "the change raises it by +1" in text  # call - posted = +1 in every seed


def test_continuous_samples_are_scattered(tmp_path: Path, sweep_dir: Path) -> None:
    """A random (or Sobol) design plots every run as a dot, not error bars."""
    folder = tmp_path / "random"
    folder.mkdir()
    sweep = json.loads((sweep_dir / "sweep.json").read_text())
    sweep["design"] = "random"
    sweep["params"] = [{"key": "economy.time_value_per_h", "column": "economy_time_value_per_h",
                        "range": [10.0, 60.0]}]
    (folder / "sweep.json").write_text(json.dumps(sweep), encoding="utf-8")
    rng = np.random.default_rng(0)
    x = rng.uniform(10, 60, 24)
    pd.DataFrame({"run_id": [f"r{i}" for i in range(24)], "point_id": [f"p{i}" for i in range(24)],
                  "point_index": range(24), "seed": 7, "status": "ok",
                  "economy_time_value_per_h": x, "customer_value": x * 1e17}
                 ).to_parquet(folder / "results.parquet")
    page = Page(render_report(folder))
    assert len(page.images) == 1 and "Each dot is one run" in page.captions[0]


def test_errors_name_the_folder_and_what_it_lacks(tmp_path: Path, run_dir: Path,
                                                  sweep_dir: Path) -> None:
    """Every refusal is a TwineconError naming the folder and the missing file or column."""
    cases: list[tuple[Path, str, dict[str, Any]]] = []
    cases.append((tmp_path / "nowhere", "does not exist", {}))
    (tmp_path / "empty").mkdir()
    cases.append((tmp_path / "empty", "neither a run folder", {}))
    partial = tmp_path / "partial-run"
    shutil.copytree(run_dir, partial,
                    ignore=shutil.ignore_patterns("flows.parquet", REPORT_NAME))
    cases.append((partial, "lacks flows.parquet", {}))
    cases.append((run_dir, "--metric and --baseline choose what a sweep report shows",
                  {"metrics": ["jobs_completed"]}))
    unfinished = tmp_path / "unfinished-sweep"
    unfinished.mkdir()
    shutil.copy(sweep_dir / "sweep.json", unfinished / "sweep.json")
    cases.append((unfinished, "lacks results.parquet", {}))
    other = tmp_path / "other-sweep"
    shutil.copytree(sweep_dir, other, ignore=shutil.ignore_patterns(REPORT_NAME))
    pd.read_parquet(other / "results.parquet").drop(columns="economy_time_value_per_h") \
        .to_parquet(other / "results.parquet")
    cases.append((other, "results.parquet: missing column.*economy_time_value_per_h", {}))
    for folder, message, kw in cases:
        with pytest.raises(ReportError, match=message) as info:
            write_report(folder, **kw)
        assert isinstance(info.value, TwineconError) and str(folder) in str(info.value)
        assert not (folder / REPORT_NAME).exists() or folder == run_dir


# --------------------------------------------------------------------------------------------
# Headless Chromium: the page really renders.

_CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-first-run", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                   "--virtual-time-budget=5000")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium's path; skipped without it (failed if CI=true)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    reason = "headless Chromium is not on PATH (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [chromium, *_CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _rendered(dom: str) -> tuple[int, int]:
    body = Page(dom).body
    assert "data-rendered" in body, "the page's load script did not run"
    return int(body["data-rendered"] or -1), int(body["data-expected"] or -1)


@pytest.mark.parametrize(("which", "n_images"), [("run_report", RUN_PLOTS),
                                                  ("sweep_report", len(SWEEP_METRICS) + 1)])
def test_chromium_renders_every_plot(which: str, n_images: int, chromium: str, tmp_path: Path,
                                     request: pytest.FixtureRequest) -> None:
    """Headless Chromium decodes every image (data-rendered == data-expected) and the
    screenshot of the page is a real picture, not a blank one."""
    report: Path = request.getfixturevalue(which)
    dom = _browse(chromium, tmp_path / "profile", "--dump-dom", report.as_uri()).stdout
    assert _rendered(dom) == (n_images, n_images)
    shot = tmp_path / "shot.png"
    _browse(chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000",
            report.as_uri())
    assert shot.read_bytes().startswith(PNG_MAGIC)
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    rgb = pixels[..., :3]
    assert float(rgb.std()) > 0.03
    rgb8 = (rgb * 255).round().astype(np.uint32)
    colours = np.unique((rgb8[..., 0] << 16) | (rgb8[..., 1] << 8) | rgb8[..., 2])
    assert len(colours) > 200  # text, plot lines, colour maps: far from a blank page


def test_chromium_counts_a_broken_image(chromium: str, tmp_path: Path, run_report: Path) -> None:
    """The load script's count is not vacuous: a corrupt PNG is counted as not rendered."""
    text = run_report.read_text(encoding="utf-8")
    broken = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,AAAA",
                    text, count=1)
    page = tmp_path / "broken.html"
    page.write_text(broken, encoding="utf-8")
    dom = _browse(chromium, tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
    assert _rendered(dom) == (RUN_PLOTS - 1, RUN_PLOTS)


def test_run_report_shows_the_sim_time_market(run_dir: Path, run_report: Path) -> None:
    """The sim-time figure states the run's own totals of CU leased and used."""
    ticks = pd.read_parquet(run_dir / "ticks.parquet")
    page = Page(run_report.read_text(encoding="utf-8"))
    caption = next(c for c in page.captions if "compute units leased" in c)
    assert f"{int(ticks.cu_leased.sum()):,} leased" in caption
    assert f"{int(ticks.cu_sold.sum()):,} used" in caption


def test_a_run_from_before_the_full_economy_still_reports(run_dir: Path, tmp_path: Path) -> None:
    """A run folder whose ticks table lacks the compute columns gets the other plots."""
    old = tmp_path / "old-run"
    shutil.copytree(run_dir, old)
    ticks = pd.read_parquet(old / "ticks.parquet")
    ticks.drop(columns=["cu_leased", "cu_claimed", "compute_price_mean"]).to_parquet(
        old / "ticks.parquet")
    page = Page(write_report(old).read_text(encoding="utf-8"))
    assert len(page.images) == RUN_PLOTS - 1
