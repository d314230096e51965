"""The tick-level panel of a sweep: every run's ticks in one long table, keyed by run.

`DIR/ticks.parquet` holds one row per (run, tick): the run's `run_id`, `point_id`,
`point_index` and `seed`, the swept parameters' values (the columns of results.parquet), then
every column of the run's own `ticks.parquet` (market activity, prices, the ledger's totals;
money as decimal128 base units). It is the long (run, parameters, tick, state) DataFrame cadCAD
and Mesa users work with: filter by a parameter, group by tick, plot a path per seed.

`compile_panel` writes it (a sweep does at its end, from the finished runs; streamed run by
run, so memory holds one run's ticks at a time); `panel` reads it, writing it first when a
sweep folder lacks it, and can give money in tokens.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from twinecon.errors import TwineconError

__all__ = ["PANEL_NAME", "PanelError", "compile_panel", "panel"]

#: The panel's file in a sweep folder.
PANEL_NAME = "ticks.parquet"
_IDS = (("run_id", pa.string()), ("point_id", pa.string()), ("point_index", pa.int64()),
        ("seed", pa.int64()))


class PanelError(TwineconError):
    """A sweep folder whose panel cannot be built or read."""


def _param_type(values: Iterable[Any]) -> pa.DataType:
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {bool}:
        return pa.bool_()
    if kinds and kinds <= {int}:
        return pa.int64()
    if kinds and kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def _cast(value: Any, kind: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_string(kind):
        return value if isinstance(value, str) else json.dumps(value)
    if pa.types.is_floating(kind):
        return float(value)
    return value


def compile_panel(runs: Sequence[Mapping[str, Any]], params: Sequence[Mapping[str, Any]],
                  out_dir: str | Path) -> Path | None:
    """Write `out_dir/ticks.parquet` from the finished runs' folders `out_dir/runs/<run_id>/`.

    Args:
        runs: the sweep's runs as sweep.json lists them (`run_id`, `point_id`, `point_index`,
            `seed`, `point` {key: value}).
        params: the swept parameters as sweep.json lists them (`key`, `column`).

    Returns:
        The panel's path, or None when no run has finished yet (no file is written).
    """
    out = Path(out_dir)
    finished = [r for r in runs
                if (out / "runs" / str(r["run_id"]) / "summary.json").is_file()
                and (out / "runs" / str(r["run_id"]) / "ticks.parquet").is_file()]
    if not finished:
        return None
    columns = [(str(p["key"]), str(p.get("column") or str(p["key"]).replace(".", "_")))
               for p in params]
    types = {c: _param_type(r["point"].get(k) for r in finished) for k, c in columns}
    first = pq.read_schema(out / "runs" / str(finished[0]["run_id"]) / "ticks.parquet")
    schema = pa.schema([*_IDS, *((c, types[c]) for _, c in columns), *first])
    target = out / PANEL_NAME
    tmp = out / f".{PANEL_NAME}.tmp"
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for r in finished:
            ticks = pq.read_table(out / "runs" / str(r["run_id"]) / "ticks.parquet")
            if ticks.schema != first:
                raise PanelError(f"{out}/runs/{r['run_id']}/ticks.parquet has other columns "
                                 "than the sweep's first run; the runs come from different "
                                 "twinecon versions: rerun the sweep into a new folder")
            n = ticks.num_rows
            keys = [pa.array([r["run_id"]] * n, pa.string()),
                    pa.array([r["point_id"]] * n, pa.string()),
                    pa.array([int(r["point_index"])] * n, pa.int64()),
                    pa.array([int(r["seed"])] * n, pa.int64())]
            keys += [pa.array([_cast(r["point"].get(k), types[c])] * n, types[c])
                     for k, c in columns]
            writer.write_table(pa.Table.from_arrays([*keys, *ticks.columns], schema=schema))
    os.replace(tmp, target)
    return target


def panel(dir: str | Path, *, tokens: bool = False) -> Any:
    """The sweep's tick-level panel as a pandas DataFrame (one row per run and tick).

    Reads `DIR/ticks.parquet`, writing it first from the run folders when the sweep has none
    (a sweep written by an older twinecon). With `tokens`, every money column (decimal128
    base units) becomes float tokens, at the runs' decimals.

    Raises:
        PanelError: not a sweep folder, or no run has finished.
    """
    import pandas as pd

    folder = Path(dir)
    spec = folder / "sweep.json"
    if not spec.is_file():
        raise PanelError(f"{folder}: no sweep.json; pass the folder `twinecon sweep --out` "
                         "wrote")
    path = folder / PANEL_NAME
    if not path.is_file():
        sweep = json.loads(spec.read_text(encoding="utf-8"))
        if compile_panel(sweep.get("runs", []), sweep.get("params", []), folder) is None:
            raise PanelError(f"{folder}: no run has finished yet; run or resume the sweep "
                             "first")
    table = pq.read_table(path)
    frame = table.to_pandas()
    if tokens:
        scale = 10 ** _decimals(folder, frame)
        for field in table.schema:
            if pa.types.is_decimal(field.type):  # int / int: correctly rounded
                frame[field.name] = pd.Series(
                    [math.nan if v is None else int(v) / scale for v in frame[field.name]],
                    index=frame.index, dtype="float64")
    return frame


def _decimals(folder: Path, frame: Any) -> int:
    """The token's decimals from the first run's summary.json (18 if none says)."""
    for run_id in frame["run_id"].head(1):
        path = folder / "runs" / str(run_id) / "summary.json"
        try:
            return int(json.loads(path.read_text(encoding="utf-8")).get("decimals", 18))
        except (OSError, ValueError):
            break
    return 18
