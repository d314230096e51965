"""The error a report raises when a folder cannot be reported on."""

from __future__ import annotations

from twinecon.errors import TwineconError

__all__ = ["ReportError"]


class ReportError(TwineconError, ValueError):
    """A folder cannot be reported on; the message names it, what it lacks, and the fix."""
