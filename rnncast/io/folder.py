"""DATA as a folder or a glob of Parquet or CSV files: one table, each file read as one file is.

The layouts Spark, Dask and pyarrow write: flat (part-0.parquet, part-1.parquet, ...) or
hive-partitioned (region=eu/part-0.parquet), where each `key=value` folder adds a column
`key`. A series split across files is put back together (read_series sorts by series and
time). Messages about a row name its file.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from rnncast.errors import DataError
from rnncast.io.sources import Table, load_table, read_bytes

if TYPE_CHECKING:
    import pyarrow as pa

DATA_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".tsv", ".txt")  # what a folder's data files end in


def is_collection(source: str | os.PathLike[str]) -> bool:
    """A folder, or a glob pattern that is not itself a file's name."""
    name = os.fspath(source)
    return name != "-" and (os.path.isdir(name) or (any(c in name for c in "*?[") and not os.path.exists(name)))


@dataclass(frozen=True)
class FolderTable(Table):
    """The files' columns end to end; `at` names the file and its row."""

    starts: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))  # first combined row of each part
    parts: tuple[Table, ...] = ()

    def at(self, row: int) -> str:
        part = int(np.searchsorted(self.starts, row, side="right")) - 1
        return self.parts[part].at(int(row - self.starts[part]))

    def release(self) -> None:
        super().release()
        for part in self.parts:  # they hold the same buffers
            part.release()


def files_of(source: str | os.PathLike[str]) -> list[Path]:
    """The data files of a folder (recursively, hidden ones left out) or of a glob, sorted."""
    name = os.fspath(source)
    if os.path.isdir(name):
        found = [p for p in Path(name).rglob("*") if p.is_file()
                 and not any(part.startswith((".", "_")) for part in p.relative_to(name).parts)]
    else:
        found = [Path(p) for p in glob.glob(name, recursive=True) if os.path.isfile(p)]
    data = sorted(p for p in found if p.name.lower().endswith(DATA_SUFFIXES))
    if not data:
        raise DataError(f"{name}: no Parquet or CSV files there; give a file, a folder of them or a glob like "
                        "'data/*.parquet'")
    return data


def load_collection(source: str | os.PathLike[str], files: Sequence[Path] | None = None) -> FolderTable:
    """Every file of the folder or glob (or only `files`, some of them) as one Table; a column
    missing from one file is a DataError naming it."""
    import pyarrow as pa

    name = os.fspath(source)
    base = Path(name) if os.path.isdir(name) else None
    parts = []
    for path in files_of(source) if files is None else files:
        raw, part_name, suffix = read_bytes(path, None)
        table = load_table(raw, part_name, suffix)
        for key, value in _hive_keys(path, base).items():
            if key not in table.columns:
                rows = len(next(iter(table.columns.values())))
                table.columns[key] = pa.chunked_array([pa.array([value] * rows, pa.string())])
        parts.append(table)
    names = list(parts[0].columns)
    for part in parts[1:]:
        missing = [c for c in names if c not in part.columns] + [c for c in part.columns if c not in names]
        if missing:
            raise DataError(f"{part.name}: has not the columns of {parts[0].name} (column {missing[0]!r}); "
                            "every file of the data needs the same columns")
    columns = {c: _concat([part.columns[c] for part in parts]) for c in names}
    sizes = [len(next(iter(part.columns.values()))) for part in parts]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def row_number(row: int) -> int:
        part = int(np.searchsorted(starts, row, side="right")) - 1
        return parts[part].row_number(int(row - starts[part]))

    def as_text(column: str) -> pa.ChunkedArray:
        return _concat([p.as_text(column) if p.as_text is not None else p.columns[column].cast(pa.string())
                        for p in parts])

    # One file of the folder (a partition read alone): messages name that file, not the folder.
    shown = os.fspath(files[0]) if files is not None and len(files) == 1 else name
    return FolderTable(shown, columns, row_number, as_text, all(p.decimal_comma for p in parts),
                       starts=starts, parts=tuple(parts))


def _hive_keys(path: Path, base: Path | None) -> dict[str, str]:
    """{key: value} of the `key=value` folders between the base folder and the file."""
    if base is None:
        return {}
    keys = {}
    for part in path.relative_to(base).parts[:-1]:
        key, sep, value = part.partition("=")
        if sep and key:
            keys[key] = value
    return keys


def _concat(columns: list[pa.ChunkedArray]) -> pa.ChunkedArray:
    """One column of all files; as text when the files disagree on its type (the readers parse text)."""
    import pyarrow as pa

    kinds = {c.type for c in columns}
    if len(kinds) > 1:
        columns = [c.cast(pa.string()) for c in columns]
    return pa.chunked_array([chunk for c in columns for chunk in c.chunks], type=columns[0].type)


def open_table(source: str | os.PathLike[str], stdin: IO[bytes] | None = None,
               files: Sequence[Path] | None = None) -> Table:
    """A file ("-": stdin), a folder or a glob (or only `files` of it, with their hive keys), as one Table."""
    if is_collection(source):
        return load_collection(source, files)
    raw, name, suffix = read_bytes(source, stdin)
    return load_table(raw, name, suffix)
