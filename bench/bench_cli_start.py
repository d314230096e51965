"""How long the light commands take to start and finish, beside the interpreter's own start.

Each command runs in a fresh interpreter (`python -m twinecon ...`), as a user runs it; so does
`python -c pass`, the baseline no command can beat. The runs are interleaved (one of each per
round) so a change in the machine's load shifts every command alike; each line shows the median
over the rounds, the fastest run, and the median as a multiple of the baseline's.

What these commands import is pinned by tests/twinecon/test_fast_start.py; this measures what
that costs here. The interpreter and the project are the ones running this script (set
PYTHONPATH to measure another checkout).
Not a test: run `python bench/bench_cli_start.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

#: (label, arguments after the interpreter)
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("python -c pass", ("-c", "pass")),
    ("twinecon --help", ("-m", "twinecon", "--help")),
    ("twinecon list", ("-m", "twinecon", "list")),
    ("twinecon schema", ("-m", "twinecon", "schema")),
    ("twinecon validate warehouse-market", ("-m", "twinecon", "validate", "warehouse-market")),
)


def _once(args: tuple[str, ...]) -> float:
    """Wall seconds of one run of the interpreter with `args`; it must exit 0."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5,
                        help="runs of each command, interleaved (default: 5)")
    rounds = parser.parse_args().rounds
    for _, args in COMMANDS:  # warm the file cache and the .pyc files; not counted
        _once(args)
    times: dict[str, list[float]] = {label: [] for label, _ in COMMANDS}
    for _ in range(rounds):
        for label, args in COMMANDS:
            times[label].append(_once(args))
    base = statistics.median(times[COMMANDS[0][0]])
    print(f"{rounds} runs each, interleaved; python {sys.version.split()[0]}")
    print(f"{'command':36} {'median':>9} {'fastest':>9} {'x baseline':>11}")
    for label, values in times.items():
        med = statistics.median(values)
        print(f"{label:36} {med:8.3f}s {min(values):8.3f}s {med / base:10.1f}x")


if __name__ == "__main__":
    main()
