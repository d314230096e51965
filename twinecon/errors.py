"""The root of every error twinecon raises on purpose.

Every layer (chain, worlds, economy, agents, scenarios) derives its errors from
`TwineconError`, so the CLI can turn any of them into one line on stderr and exit 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["TwineconError", "suggest"]


class TwineconError(Exception):
    """Root of every error raised on purpose."""


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return a ' did you mean ...?' hint for an unknown name, or ''."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
