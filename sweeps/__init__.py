"""sweeps: parameter grids and samples times seeds, run resumably on processes or Ray, with
one results table, analysis (intervals, Sobol indices, paired differences) and reports.

The top layer: it drives `scenarios` and knows nothing below it but their public API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twinecon.lazy import lazy_exports

if TYPE_CHECKING:
    from sweeps.engine import Outcome, compile_results, run_sweep
    from sweeps.plan import SweepError, SweepPlan, plan

__all__ = ["Outcome", "SweepError", "SweepPlan", "compile_results", "plan", "run_sweep"]

# Imported at first use (twinecon.lazy), so `import sweeps` loads none of its modules.
__getattr__, __dir__ = lazy_exports(__name__, {
    "sweeps.engine": ("Outcome", "compile_results", "run_sweep"),
    "sweeps.plan": ("SweepError", "SweepPlan", "plan"),
})
