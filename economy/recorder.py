"""Append-only columnar recording of a run: buffered rows flushed to Parquet row groups.

Memory stays bounded on long runs: each table keeps at most `flush_rows` rows before writing
them out as a row group. Amounts are exact: base-unit integers are stored as decimal128(38, 0).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:  # pyarrow.parquet (its file systems, ssl) only once a table is written
    import pyarrow.parquet as pq

__all__ = ["AMOUNT", "Recorder", "Table"]

#: The Arrow type of every money column: exact integers up to 10^38 base units.
AMOUNT = pa.decimal128(38, 0)


class Table:
    """One output table: rows appended as tuples, written in row groups to one Parquet file.

    Args:
        path: the Parquet file to write (None: keep every row in memory, for tests).
        schema: the Arrow schema; money columns use `AMOUNT` and take Python ints (or None,
            a null); a money field nested in a list or struct takes a `Decimal`.
        flush_rows: rows buffered before a row group is written.
    """

    def __init__(self, path: Path | None, schema: pa.Schema, *, flush_rows: int = 65_536) -> None:
        self.path = path
        self.schema = schema
        self.flush_rows = flush_rows
        self.n_rows = 0
        self._rows: list[tuple] = []
        self._kept: list[pa.Table] = []
        self._writer: pq.ParquetWriter | None = None
        self._decimal = [i for i, f in enumerate(schema) if pa.types.is_decimal(f.type)]
        self._digest = hashlib.sha256()

    def append(self, row: tuple) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.flush_rows:
            self.flush()

    def extend(self, rows: Iterable[tuple]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self.flush_rows:
            self.flush()

    @property
    def sha256(self) -> str:
        """Digest of every row flushed so far (call `flush` first for all rows)."""
        return self._digest.hexdigest()

    def flush(self) -> None:
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        self.n_rows += len(rows)
        for row in rows:
            self._digest.update(repr(tuple(row)).encode())
        columns: list[Sequence] = [list(c) for c in zip(*rows, strict=True)]
        for i in self._decimal:  # None is a null (a column that may hold none)
            columns[i] = [None if v is None else Decimal(v) for v in columns[i]]
        table = pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)],
            schema=self.schema,
        )
        if self.path is None:
            self._kept.append(table)
            return
        if self._writer is None:
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._writer.write_table(table)

    def close(self) -> None:
        self.flush()
        if self.path is not None:
            if self._writer is None:  # an empty table is still a valid file
                import pyarrow.parquet as pq

                pq.write_table(self.schema.empty_table(), self.path, compression="zstd")
            else:
                self._writer.close()
                self._writer = None

    def to_arrow(self) -> pa.Table:
        """Everything recorded (reads the file back when writing to disk)."""
        self.flush()
        if self.path is None:
            return pa.concat_tables(self._kept) if self._kept else self.schema.empty_table()
        if self._writer is not None:
            raise RuntimeError("close the table before reading it back")
        import pyarrow.parquet as pq

        return pq.read_table(self.path)


class Recorder:
    """The tables of one run, by name.

    Args:
        out_dir: folder for `<name>.parquet` files (None: in memory).
    """

    def __init__(self, out_dir: Path | None = None, *, flush_rows: int = 65_536) -> None:
        self.out_dir = out_dir
        self.flush_rows = flush_rows
        self.tables: dict[str, Table] = {}

    def table(self, name: str, schema: pa.Schema) -> Table:
        if name not in self.tables:
            path = None if self.out_dir is None else self.out_dir / f"{name}.parquet"
            self.tables[name] = Table(path, schema, flush_rows=self.flush_rows)
        return self.tables[name]

    def close(self) -> None:
        for table in self.tables.values():
            table.close()
