"""Self-contained HTML reports of a run folder or a sweep folder.

`write_report(folder)` writes `folder/report.html`: one file with no external references
(plots are base64 PNGs, the CSS and a tiny script are inline), so it can be mailed, archived
or opened offline. A run folder (`twinecon run ... --out DIR`) gets its market, jobs,
balances and value-flow plots; a sweep folder (`sweep.json` + `results.parquet`) gets each key
metric against each parameter with 95 % intervals across seeds (the ones `twinecon analyze`
prints), and a table of points.

The modules, by what they draw: `_html` the page (CSS, tables, embedded figures), `_look` the
shared figure style, `_numbers` number and money formats, `_run_plots` a run's market, jobs,
balances and sim-time figures, `_flows` its value-flow heat map and flows by purpose, `_run`
a run's page, `_sweep_plots` a sweep's metric figures, `_sweep` a sweep's page, and `_render`
the entry point.
"""

from sweeps.report._render import REPORT_NAME, main, render_report, write_report
from sweeps.report._sweep import DEFAULT_METRICS
from sweeps.report.errors import ReportError

__all__ = ["DEFAULT_METRICS", "REPORT_NAME", "ReportError", "main", "render_report",
           "write_report"]
