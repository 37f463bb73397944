"""predict and backtest file by file (a folder of data to a folder of Parquet), in process or on Dask.

The commands hand over here when DATA is a folder or glob and -o a folder, or when
--scheduler is given; rnncast.folders is their API.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnncast.cli import render, streams
from rnncast.cli.options import find_model
from rnncast.errors import ConfigError

if TYPE_CHECKING:
    from rnncast.backtesting import BacktestResult
    from rnncast.folders import Workers


def works_by_file(data: str | None, output: object, scheduler: str | None, flag: str) -> bool:
    """Whether a command works file by file: a folder or glob of data written to a folder (-o), or on Dask."""
    collection = False
    if data is not None:  # bare `predict` imports none of the folder machinery: its start-up is measured
        from rnncast.folders import is_collection

        collection = is_collection(data)
    if scheduler is not None and not (collection and output is not None):
        raise ConfigError(f"--scheduler works file by file: give a folder or glob of data as {flag} and a folder "
                          "as -o for the outputs")
    return collection and output is not None


def workers(address: str) -> AbstractContextManager[Workers]:
    """The Dask cluster at `address`, imported only when asked for."""
    from rnncast.folders import workers as cluster

    return cluster(address)


def _maybe_workers(address: str | None) -> AbstractContextManager[Workers | None]:
    return nullcontext(None) if address is None else workers(address)


def predict(model: Path | None, data: str | None, output: Path | None, horizon: int | None,
            level: list[int] | None, adapt: bool, scheduler: str | None, fmt: str) -> None:
    from rnncast.folders import forecast_folder

    if fmt == "json":  # csv is the default, so it cannot tell a choice from no choice
        raise ConfigError("with a folder as -o, forecasts are written as Parquet files; leave out --format json")
    if model is None:
        model = find_model()
        streams.say(f"using model {model}")
    assert data is not None and output is not None
    with _maybe_workers(scheduler) as cluster:
        done = forecast_folder(model, data, output, horizon=horizon, levels=level or (), adapt=adapt,
                               map_tasks=None if cluster is None else cluster.partitions,
                               on_done=render.partition_progress("predict"))
    streams.say(render.partitions_summary("predict", done, output))


def backtest(data: str, output: Path, scheduler: str | None, on_fold: Callable[[int, int, float], None],
             **specs: Any) -> BacktestResult:
    from rnncast.folders import backtest_folder

    with _maybe_workers(scheduler) as cluster:
        result, done = backtest_folder(data, output, on_fold=on_fold, **specs,
                                       map_tasks=None if cluster is None else cluster.partitions,
                                       on_done=render.partition_progress("backtest"))
    streams.say(render.partitions_summary("backtest", done, output))
    return result
