"""One model per group of series (`fit --by COLUMN`): the ModelGroup record, its fits, forecasts and description.

Each group is fitted as `fit` would fit a file holding only that group's series, with the
same specs and seed, so a group's model depends on its own rows and nothing else. The
fits run through a `mapper` with the builtin `map`'s call, `mapper(fit_one, values,
series_sets)`: `map` fits them here, in order; a parallel map (Dask's) gives the same models.

Training code is imported inside the functions: `predict` on a group file loads none of it.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import IO, Any

import numpy as np

from rnncast.config import NetSpec, ReadSpec, TrainSpec, WindowSpec
from rnncast.errors import ConfigError, DataError, RnncastError
from rnncast.forecaster import Model
from rnncast.io import SeriesSet

# map's call: mapper(fit_one, values, series_sets) -> the models, in the order of `values`.
Mapper = Callable[[Callable[[str, SeriesSet], Model], Sequence[str], Sequence[SeriesSet]], Iterable[Model]]
# What api.forecast does for one model: forecast_one(model, its series or None, stdin=...) -> table.
ForecastOne = Callable[..., dict[str, np.ndarray]]


@dataclass(frozen=True, eq=False)
class ModelGroup:
    """The models of one `fit --by`: models[i] was fitted on the series whose `by` column is values[i]."""

    by: str
    values: tuple[str, ...]
    models: tuple[Model, ...]

    def __post_init__(self) -> None:
        if not self.models or len(self.values) != len(self.models) or len(set(self.values)) != len(self.values):
            raise ValueError(f"a model group needs one model per distinct value; got {len(self.values)} values "
                             f"({len(set(self.values))} distinct) and {len(self.models)} models")

    @property
    def tz(self) -> str | None:
        """The time zone of the forecasts (the data's, shared by every group)."""
        return self.models[0].tz

    def series_count(self) -> int:
        return sum(len(model.ids) for model in self.models)


def single_model(model: Model | ModelGroup, command: str) -> Model:
    """`model`, or a ConfigError when it is a group, which `command` does not handle yet."""
    if isinstance(model, ModelGroup):
        raise ConfigError(f"{command} does not support models fitted with --by yet (this file holds "
                          f"{len(model.models)} models, by {model.by!r}); to {command} one group, fit its rows "
                          "alone, without --by")
    return model


# ---------------------------------------------------------------------------- fitting


def split_groups(series: SeriesSet) -> list[tuple[str, SeriesSet]]:
    """(value, that group's series) per value of the --by column, in order of first appearance.

    Each part is the SeriesSet that reading a file of only that group's rows gives: its
    series in the same order, its own fill count and future rows, no --by column.
    """
    if series.by is None or series.groups is None:
        raise ConfigError("the data has no --by column: read it with ReadSpec(by=COLUMN)")
    values = list(dict.fromkeys(str(v) for v in series.groups))
    groups = np.asarray(series.groups, dtype=object)
    return [(value, select_series(series, np.flatnonzero(groups == value))) for value in values]


def select_series(series: SeriesSet, index: np.ndarray) -> SeriesSet:
    """The series at `index` (ascending) alone, as a SeriesSet of their own (without the --by column)."""
    rows, offsets = _rows(series.offsets, index)
    future = series.future
    if future is not None:
        future_at, future_offsets = _rows(future.offsets, index)
        future = replace(future, times=future.times[future_at], values=future.values[future_at],
                         offsets=future_offsets, rows=future.rows[future_at])
    per_series = series.filled_per_series
    filled = int(per_series[index].sum()) if per_series is not None else \
        int(series.made_up[rows].sum()) if series.made_up is not None else 0
    return replace(series, values=np.ascontiguousarray(series.values[rows]), offsets=offsets,
                   ids=tuple(series.ids[s] for s in index), times=series.times[rows], filled=filled,
                   made_up=None if series.made_up is None else series.made_up[rows],
                   statics={name: values[index] for name, values in series.statics.items()}, future=future,
                   by=None, groups=None, filled_per_series=None if per_series is None else per_series[index])


def _rows(offsets: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the rows of series `index` in order, their offsets from 0) for series s at rows offsets[s]:offsets[s+1]."""
    lengths = offsets[index + 1] - offsets[index]
    new_offsets = np.zeros(len(index) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    rows = np.arange(new_offsets[-1], dtype=np.int64) + np.repeat(offsets[index] - new_offsets[:-1], lengths)
    return rows, new_offsets


def fit_group(value: str, series: SeriesSet, *, window: WindowSpec, net: NetSpec, train: TrainSpec,
              on_epoch: Callable[..., None] | None = None) -> Model:
    """The model of one group: `fit` on its series alone; an error says which group it came from."""
    from rnncast.fitting import fit_series

    try:
        return fit_series(series, window, net, train, on_epoch=on_epoch)
    except RnncastError as error:
        raise type(error)(f"group {value!r}: {error}") from error


def fit_groups(series: SeriesSet, by: str, window: WindowSpec, net: NetSpec, train: TrainSpec, *,
               mapper: Mapper | None = None, on_epoch: Callable[..., None] | None = None) -> ModelGroup:
    """One model per group of `series` (read with ReadSpec(by=by)), fitted through `mapper` (default: map).

    The mapper gets `fit_one(value, series_set) -> Model` (fit_group with the specs bound:
    picklable, so it can go to other processes), the values and their series sets.
    """
    if series.by != by:
        raise ConfigError(f"the data was read without its --by column {by!r}: read it with ReadSpec(by={by!r})")
    parts = split_groups(series)
    fit_one = partial(fit_group, window=window, net=net, train=train, on_epoch=on_epoch)
    values = [value for value, _ in parts]
    models = tuple((mapper or map)(fit_one, values, [part for _, part in parts]))
    return ModelGroup(by, tuple(values), models)


# ------------------------------------------------------------------------ forecasting


def columns_of(group: ModelGroup) -> ReadSpec:
    """How to read new data for the group: its models' columns (they share them) and the --by column."""
    from rnncast.forecast_inputs import model_columns

    return replace(model_columns(group.models[0]), by=group.by)


def forecast_groups(group: ModelGroup, series: SeriesSet | None, forecast_one: ForecastOne, *,
                    future: str | os.PathLike[str] | None = None, stdin: IO[bytes] | None = None,
                    notes: list[str] | None = None) -> dict[str, np.ndarray]:
    """Every group's forecast, in group order, with the --by column first.

    Without `series`, from each model's stored history; with it (read with the --by column),
    each series by its group's model, and series of a group without a model left out (noted).
    A --future file on stdin is read once and given to every group.
    """
    if future == "-":
        raw = (stdin if stdin is not None else sys.stdin.buffer).read()
        stdin = None
    inputs: list[tuple[str, Model, SeriesSet | None]]
    if series is None:
        inputs = [(value, model, None) for value, model in zip(group.values, group.models)]
    else:
        parts = dict(split_groups(series))
        _note_left_out(group, series, [value for value in parts if value not in group.values], notes)
        inputs = [(value, model, parts[value]) for value, model in zip(group.values, group.models) if value in parts]
        if not inputs:
            raise DataError(f"{series.source}: no series belongs to a group the file has a model for "
                            f"({_listing(group.values)}); give data of those groups")
    tables = []
    for value, model, part in inputs:
        table = forecast_one(model, part, stdin=io.BytesIO(raw) if future == "-" else stdin)
        tables.append({group.by: np.full(len(table["forecast"]), value, dtype=object), **table})
    if notes is not None:
        notes[:] = list(dict.fromkeys(notes))  # what every group says (of a shared --future file), said once
    return {name: np.concatenate([table[name] for table in tables]) for name in tables[0]}


def _note_left_out(group: ModelGroup, series: SeriesSet, missing: list[str], notes: list[str] | None) -> None:
    if not missing or notes is None:
        return
    assert series.groups is not None  # split_groups checked it
    left = [name for name, value in zip(series.ids, series.groups) if value in missing]
    notes.append(f"series {_listing(left)} left out: no model for {group.by} {_listing(missing)} "
                 f"(the models are for {_listing(group.values)})")


def _listing(names: Sequence[str], most: int = 5) -> str:
    shown = ", ".join(repr(name) for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


# ------------------------------------------------------------------------- describing

# What `describe` shows of a model that every group shares (when they do): shown once.
SHARED = ("rnncast_version", "network", "window", "training", "columns", "frequency", "time_zone")


def describe_group(group: ModelGroup, describe_one: Callable[[Model], dict[str, Any]]) -> dict[str, Any]:
    """`describe` of a group: the --by column and groups, the shared blocks once, then each group's own."""
    described = [describe_one(model) for model in group.models]
    shared = [key for key in SHARED if all(d[key] == described[0][key] for d in described)]
    return {
        "by": group.by,
        "groups": list(group.values),
        "series": group.series_count(),
        **{key: described[0][key] for key in shared},
        "per_group": {value: {key: item for key, item in d.items() if key not in shared}
                      for value, d in zip(group.values, described)},
    }
