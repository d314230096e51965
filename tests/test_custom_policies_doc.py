"""docs/custom-policies.md, run as written (in a scratch folder beside a link to examples/):
each ```sh block's output is the block shown after it (the slowest call's time apart), each
```python block runs; and the README's custom-policy paragraph's commands, once it has one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "custom-policies.md"
README = ROOT / "README.md"
#: The README paragraph on checking policies starts with this.
README_LEAD = "**Check a policy before you run it.**"
_SLOWEST = re.compile(r"  slowest act call: \d+\.\d ms at tick \d+; budget per call: (.*)")


def _blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block, in order."""
    return re.findall(r"```(\w*)\n(.*?)```", text, re.S)


def _same(expected: str, got: str) -> bool:
    """Equal line by line, but for the time of the slowest call (machines differ)."""
    want, have = expected.splitlines(), got.splitlines()
    if len(want) != len(have):
        return False
    for w, h in zip(want, have, strict=True):
        if w != h:
            mw, mh = _SLOWEST.fullmatch(w), _SLOWEST.fullmatch(h)
            if not (mw and mh and mw.group(1) == mh.group(1)):
                return False
    return True


def _sh(script: str, cwd: Path) -> subprocess.CompletedProcess:
    script = script.replace(".venv/bin/twinecon", f"{sys.executable} -m twinecon")
    return subprocess.run(["bash", "-c", script], cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600, check=False)


def test_the_page_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    blocks = _blocks(DOC.read_text(encoding="utf-8"))
    ran = 0
    for i, (lang, body) in enumerate(blocks):
        if lang == "sh":
            done = _sh(body, tmp_path)
            shown_lang, shown = blocks[i + 1]
            assert shown_lang == "", f"the output of block {i} is not shown after it"
            assert _same(shown, done.stdout), (body, done.stdout)
            ran += 1
        elif lang == "python":
            done = subprocess.run([sys.executable, "-c", body], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=600, check=False)
            assert done.returncode == 0, (body, done.stderr[-2000:])
            ran += 1
    assert ran >= 7
    # the fault the page shows is the one the run without --max-faults recorded
    events = pd.read_parquet(tmp_path / "runs" / "greedy" / "events.parquet")
    details = set(events[events.kind == "policy_fault"].detail)
    shown = [body.strip() for lang, body in blocks
             if lang == "" and body.startswith("recorder-0 (greedy.py:Greedy)")]
    assert len(shown) == 1 and shown[0] in details


def test_the_readme_paragraph_runs_as_written(tmp_path: Path) -> None:
    """The README's paragraph on checking policies: its commands pass."""
    text = README.read_text(encoding="utf-8")
    if README_LEAD not in text:
        pytest.skip("the README has no paragraph on checking policies yet")
    script = re.search(r"```sh\n(.*?)```", text[text.index(README_LEAD):], re.S).group(1)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    done = _sh(script, tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "examples/undercutter.py:Undercutter: passed" in done.stdout
    assert done.stdout.splitlines()[-1] == "runs/every-role"
