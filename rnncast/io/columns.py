"""Which column is which (time, target, id, features), and their values as floats and series codes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnncast.errors import ConfigError, DataError
from rnncast.io.sources import Table, is_text
from rnncast.io.times import looks_like_times

if TYPE_CHECKING:
    import pyarrow as pa

# Column names (lower case, punctuation removed) taken for the time column before any other.
_TIME_NAMES = ("date", "time", "timestamp", "ds", "datetime", "period", "month", "week", "day")


@dataclass(frozen=True)
class _Roles:
    time_col: str
    id_col: str | None
    target: str
    features: tuple[str, ...]


def pick_columns(
    table: Table, *, target: str | None, time_col: str | None, id_col: str | None, features: tuple[str, ...],
    for_model: bool = False, known: tuple[str, ...] = (), static: tuple[str, ...] = (), by: str | None = None,
) -> _Roles:
    names = list(table.columns)
    roles = [(time_col, "--time-col", "time"), (id_col, "--id-col", "id"), (target, "--target", "target")]
    roles += [(f, "--features", "feature") for f in features] + [(k, "--known", "known") for k in known]
    for column, option, role in roles + [(c, "--static", "static") for c in static] + [(by, "--by", "--by")]:
        if column is not None and column not in table.columns:
            if for_model:  # predict --data: the model's columns, which no option of predict names
                raise DataError(f"{table.name}: the model's {role} column {column!r} is not in the file; its columns "
                                f"are: {_listing(names)}; give data with the model's columns (rnncast info MODEL "
                                "lists them)")
            raise DataError(f"{table.name}: column {column!r} ({option}) not found; the columns are: {_listing(names)}")
    given = [c for c in (time_col, id_col, target, *features, *known, *static, by) if c is not None]
    repeated = sorted({c for c in given if given.count(c) > 1})
    if repeated:
        raise ConfigError(
            f"column {repeated[0]!r} is given more than one role (time, id, target, feature, known, static, by); "
            "give it one"
        )
    taken = {c for c in (id_col, target, *features, *known, *static, by) if c is not None}
    if time_col is None:
        time_col = _find_time_column(table, [c for c in names if c not in taken])
    taken.add(time_col)
    if target is None:
        target = _find_target(table, [c for c in names if c not in taken])
    return _Roles(time_col, id_col, target, features)


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:20])
    return shown + (f" and {len(names) - 20} more" if len(names) > 20 else "")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _find_time_column(table: Table, candidates: list[str]) -> str:
    exact = [c for c in candidates if _norm(c) in _TIME_NAMES]
    partial = [c for c in candidates if c not in exact and ("date" in _norm(c) or "time" in _norm(c))]
    named = exact + partial
    for column in named + [c for c in candidates if c not in named]:
        if looks_like_times(table.columns[column]):
            return column
    if named:
        return named[0]  # parsing it will say which value is not a date
    raise DataError(
        f"{table.name}: found no column of dates or times among {_listing(candidates)}; pass --time-col NAME"
    )


def _find_target(table: Table, candidates: list[str]) -> str:
    import pyarrow as pa

    # pandas writes its index as an unnamed first column: never a target.
    usable = [c for c in candidates if not c.startswith("Unnamed: ")]
    kinds = {c: table.columns[c].type for c in usable}
    numeric = [c for c in usable if _is_number(kinds[c]) and not pa.types.is_boolean(kinds[c])]
    if len(numeric) == 1:
        return numeric[0]
    if len(numeric) > 1:
        raise DataError(
            f"{table.name}: several numeric columns could be the target ({_listing(numeric)}); "
            "pass --target NAME (and --features for columns to use as inputs)"
        )
    if len(usable) == 1:
        return usable[0]  # converting it will name the first value that is not a number
    raise DataError(
        f"{table.name}: found no numeric column to forecast among {_listing(candidates)}; pass --target NAME"
    )


def _is_number(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return (
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind) or pa.types.is_null(kind)
    )


def to_float(table: Table, column: str) -> np.ndarray:
    """The column as float64, empty cells NaN; a value that is not a number is an error."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = table.columns[column]
    if _is_number(data.type):
        # safe=False: integers beyond 2**53 round to the nearest float instead of failing.
        return np.asarray(pc.cast(data, pa.float64(), safe=False).to_numpy(), dtype=np.float64)
    if not is_text(data.type):
        raise DataError(f"{table.name}: column {column!r} holds {data.type} values, not numbers; pick another column")
    import pandas as pd

    text = pd.Series(pc.utf8_trim_whitespace(data.cast(pa.string())).to_numpy(), dtype=object)
    text = text.where(text != "")
    numbers = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & numbers.isna()
    if bad.any():
        if table.decimal_comma:
            # As semicolon-separated European files write them. Not in comma-separated
            # files, where a quoted "1,234" more likely has a thousands separator.
            commas = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
            if not (text.notna() & commas.isna()).any():
                return commas.to_numpy(dtype=np.float64, na_value=np.nan)
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{table.at(row)}: column {column!r} has {text.iloc[row]!r}, which is not a number; "
            "fix or remove it (empty cells are filled)"
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def reject_inf(table: Table, values: np.ndarray, columns: Sequence[str]) -> None:
    infinite = np.isinf(values)
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise DataError(
            f"{table.at(row)}: column {columns[col]!r} is {values[row, col]}; replace it with a number "
            "or leave the cell empty to have it filled"
        )


def series_codes(table: Table, id_col: str | None, target: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """(series code per row, ids in order of first appearance)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if id_col is None:
        n = len(next(iter(table.columns.values())))
        return np.zeros(n, dtype=np.int64), (target,)
    data = table.columns[id_col]
    if data.null_count:
        row = int(np.flatnonzero(data.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataError(f"{table.at(row)}: column {id_col!r} (--id-col) is empty; every row needs a series id")
    if not is_text(data.type) and table.as_text is not None:
        data = table.as_text(id_col)  # ids as written: "007" stays "007", not 7
    # Chunk by chunk with one dictionary: no combined copy of every id string (a folder's
    # files are chunks); codes as int32, half the memory of int64 on tens of millions of rows.
    encoded = pc.dictionary_encode(data.cast(pa.string())).unify_dictionaries()
    if not encoded.num_chunks:
        return np.zeros(0, dtype=np.int32), ()
    codes = np.concatenate([chunk.indices.to_numpy().astype(np.int32, copy=False) for chunk in encoded.chunks])
    return codes, tuple(encoded.chunk(0).dictionary.to_pylist())
