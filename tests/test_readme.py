"""The README's sweep workflow, run as written (in a scratch folder)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _block(after: str) -> str:
    """The first ```sh block after the heading `after`."""
    text = README.read_text()
    section = text[text.index(after):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_readme_sweep_workflow_runs_as_written(tmp_path) -> None:
    """The sweep section's commands, as written, and the answer it states: the paired table's
    numbers are the ones the runs give (same seeds, same bytes)."""
    script = _block("## One sweep").replace(".venv/bin/twinecon",
                                            f"{sys.executable} -m twinecon")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    folder = tmp_path / "runs" / "fees"
    results = pd.read_parquet(folder / "results.parquet")
    assert len(results) == 36 and (results.status == "ok").all()
    assert "rules_fees_transfer_fee_bps" in done.stdout  # the query's and analyze's tables
    for column in ("mean", "diff", "p_t", "p_perm", "seeds_needed"):
        assert column in done.stdout
    assert "warning" not in done.stderr  # long enough: past the warm-up, jobs completed
    report = (folder / "report.html").read_text()
    assert "Does the change help? Paired differences against the baseline" in report
    ticks = pd.read_csv(tmp_path / "runs" / "fees-ticks.csv")
    assert len(ticks) == 36 * 101 and ticks.run_id.nunique() == 36

    from sweeps import analysis

    paired = analysis.paired(*analysis.load(folder), baseline=0,
                             metrics=["treasury", "price_mean", "jobs_completed",
                                      "consumer_surplus"])
    row = paired[(paired.rules_fees_transfer_fee_bps == 100)
                 & (paired.rules_fees_fee_burn_bps == 0)].set_index("metric")
    section = README.read_text()[README.read_text().index("**The answer"):]
    table = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
             for line in section.splitlines()[:40] if line.startswith("| ") and "…" in line}
    minus = "\N{MINUS SIGN}"
    for label, metric in (("treasury (tokens)", "treasury"),
                          ("mean price (tokens)", "price_mean"),
                          ("consumer surplus (tokens)", "consumer_surplus")):
        written = float(table[label][2].replace(minus, "-").replace("+", ""))
        assert row.at[metric, "diff"] == pytest.approx(written, rel=0.01), metric
        lo, hi = (float(x.replace(minus, "-").replace("+", ""))
                  for x in table[label][3].split("…"))
        assert row.at[metric, "lo"] == pytest.approx(lo, rel=0.01), metric
        assert row.at[metric, "hi"] == pytest.approx(hi, rel=0.01), metric
        assert row.at[metric, "p_perm"] == pytest.approx(0.03125)
    assert row.at["jobs_completed", "diff"] == 0 and row.at["jobs_completed", "std"] == 0


def test_readme_rule_change_shows_in_flows_as_written(tmp_path) -> None:
    """The protocol designer's example: two runs differing in one rule, and the royalty
    flows it prints are the ones the README shows."""
    section = README.read_text()[README.read_text().index("**A protocol designer changes"):]
    script = _block("**A protocol designer changes").replace(
        ".venv/bin/python", "PYTHON").replace(".venv/bin/twinecon", "PYTHON -m twinecon")
    script = script.replace("PYTHON", sys.executable)
    expected = re.search(r"```sh\n.*?```\n\n```\n(.*?)```", section, re.S).group(1)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-2:] == expected.splitlines()


def test_readme_trust_model_isolated_policy_gives_the_same_run(tmp_path) -> None:
    """The trust model's example, as written: the custom policy in a worker process of its own
    gives the same summary.json as in-process."""
    script = _block("## Trust model").replace(".venv/bin/twinecon",
                                              f"{sys.executable} -m twinecon")
    script = script.replace("examples/", f"{README.parent}/examples/")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("same run")


def test_readme_rule_change_sweep_moves_prices_as_written(tmp_path) -> None:
    """The "what happens when a rule changes" sweep, as written: the paired difference of the
    mean price is positive with an interval excluding zero, and its figures are the README's."""
    script = _block("## What happens when a rule changes").replace(
        ".venv/bin/twinecon", f"{sys.executable} -m twinecon")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = pd.read_parquet(tmp_path / "runs" / "platform-fee" / "results.parquet")
    by = results.pivot(index="seed", columns="rules_fees_platform_fee_bps", values="price_mean")
    diff = (by[1000] - by[0]).astype(float)
    half = 2.365 * diff.std() / len(diff) ** 0.5  # t(0.975, 7)
    assert diff.mean() - half > 0
    table = README.read_text().split("## What happens when a rule changes")[1]
    assert f"| mean price (tokens) | {by[0].mean() / 1e18:.5f} | {by[1000].mean() / 1e18:.5f} |" \
        in table


def test_readme_python_api_example_runs_as_written(tmp_path) -> None:
    """The custom-policy section's Python example: build, step, observe, as written (from the
    repository's root, where examples/ is)."""
    section = README.read_text()[README.read_text().index("**Iterate fast.**"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    done = subprocess.run([sys.executable, "-c", code], cwd=README.parent, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("PnL(") and "service=" in done.stdout
