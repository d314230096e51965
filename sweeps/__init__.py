"""sweeps: parameter grids and samples times seeds, run resumably on processes or Ray, with
one results table, analysis (intervals, Sobol indices, paired differences) and reports.

The top layer: it drives `scenarios` and knows nothing below it but their public API.
"""

from sweeps.engine import Outcome, compile_results, run_sweep
from sweeps.plan import SweepError, SweepPlan, plan

__all__ = ["Outcome", "SweepError", "SweepPlan", "compile_results", "plan", "run_sweep"]
