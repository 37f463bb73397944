"""The API for folders of data, file by file: forecast_folder, backtest_folder, and their tasks.

With rnncast.api, what the command line calls (the file-by-file machinery is
rnncast.partitions; Dask is rnncast.cluster, reached through `workers`).

A task gets the model file's bytes (sent once to each Dask worker, decoded once per
process and checked as a file is) and one partition; it reads that file alone, forecasts
(or scores) its series and writes its Parquet output atomically. backtest fits its fold
models here, on the whole data (the global fit streams on one machine), and maps only the
scoring, which is per series.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnncast.errors import ConfigError
from rnncast.forecaster import Model
from rnncast.groups import ModelGroup
from rnncast.io import SeriesSet
from rnncast.partitions import METADATA_KEY, Done, Job, Mapper, Partition, guarded, run, written_ids
from rnncast.partitions import plan as plan_partitions

if TYPE_CHECKING:
    from rnncast.backtesting import BacktestResult
    from rnncast.cluster import Workers
    from rnncast.config import BacktestSpec, NetSpec, ReadSpec, TrainSpec, WindowSpec


def is_collection(data: str | os.PathLike[str]) -> bool:
    """Whether `data` names a folder or a glob (several files), not one file."""
    from rnncast.io.folder import is_collection as collection

    return collection(data)


def workers(address: str) -> AbstractContextManager[Workers]:
    """The Dask cluster at `address`: local:N (started and stopped here) or tcp://HOST:PORT (rnncast.cluster)."""
    from rnncast.cluster import scheduler

    return scheduler(address)


_decoded: dict[str, Any] = {}  # this process's copy of the job's model(s), by the bytes' digest


def _once(job: Job, decode: Callable[[], Any]) -> Any:
    """decode() of `job.shared`, once per process (Dask workers live on between tasks and jobs)."""
    key = hashlib.sha256(job.shared).hexdigest()
    if key not in _decoded:
        _decoded.clear()  # one job at a time: a long-lived worker serves job after job
        _decoded[key] = decode()
    return _decoded[key]


def shared_models(job: Job) -> list[Model]:
    """The models of `job.shared`, several model files' bytes end to end (backtest's folds)."""
    from rnncast.modelfile import model_from_bytes

    def decode() -> list[Model]:
        sizes = job.options["sizes"]
        ends = [sum(sizes[: i + 1]) for i in range(len(sizes))]
        name = str(job.options.get("model", "model"))
        return [model_from_bytes(job.shared[end - size : end], name) for size, end in zip(sizes, ends)]

    return _once(job, decode)


def _model_or_group(data: bytes, name: str) -> Model | ModelGroup:
    """A model file's bytes as what it holds: a Model, or the ModelGroup of `fit --by`."""
    from rnncast.format import decode
    from rnncast.groupfile import model_or_group_from_parts

    return model_or_group_from_parts(*decode(data, Path(name)), name)


def _shared_predictor(job: Job) -> Model | ModelGroup:
    """predict's model (or group), from `job.shared`: one model file's bytes."""
    return _once(job, lambda: _model_or_group(job.shared, str(job.options.get("model", "model"))))


def read_partition(model: Model | ModelGroup, part: Partition) -> SeriesSet:
    """One file of the folder, with its hive keys, read with the model's columns (a group's: and its --by)."""
    from rnncast import api
    from rnncast.forecast_inputs import model_columns
    from rnncast.groups import columns_of

    spec = columns_of(model) if isinstance(model, ModelGroup) else model_columns(model)
    tz = (model.models[0] if isinstance(model, ModelGroup) else model).tz
    return api.read(part.source, spec, for_model=True, files=[part.file]).in_zone(tz)


@guarded
def forecast_partition(job: Job, part: Partition) -> Done:
    """Forecast one partition's series to its output file, unless that is current already."""
    from rnncast import api
    from rnncast.io import write_forecast

    model = _shared_predictor(job)
    first = model.models[0] if isinstance(model, ModelGroup) else model
    assert first.id_col is not None  # checked by forecast_folder
    stamp = job.stamp(part)
    ids = written_ids(part, stamp, first.id_col)
    if ids is not None:
        return Done(part, ids, skipped=True)
    series = read_partition(model, part)
    notes: list[str] = []
    table = api.forecast(model, series, horizon=job.options["horizon"], levels=tuple(job.options["levels"]),
                         adapt=job.options["adapt"], notes=notes)
    part.output.parent.mkdir(parents=True, exist_ok=True)
    write_forecast(table, "parquet", part.output, tz=first.tz, metadata={METADATA_KEY: stamp})
    return Done(part, series.ids, tuple(notes))


def forecast_folder(model_path: str | os.PathLike[str], data: str | os.PathLike[str],
                    out_dir: str | os.PathLike[str], *, horizon: int | None = None, levels: Sequence[int] = (),
                    adapt: bool = True, map_tasks: Mapper | None = None,
                    on_done: Callable[[Done, int, int], None] | None = None) -> list[Done]:
    """`predict --data FOLDER -o DIR`: every file's forecast to its own Parquet file under `out_dir`."""
    from rnncast.format import read_model_bytes
    from rnncast.intervals import usable_levels

    shared = read_model_bytes(model_path)
    loaded = _model_or_group(shared, os.fspath(model_path))  # checked here first: one line, before any task
    model = loaded.models[0] if isinstance(loaded, ModelGroup) else loaded  # a group's share their settings
    if model.id_col is None:
        raise ConfigError("the model has no id column, so every file of the folder would be the same series; "
                          "give one file as --data, or fit with --id-col")
    if horizon is not None and not 1 <= horizon <= model.net.horizon:
        raise ConfigError(f"--horizon must be from 1 to {model.net.horizon} (the horizon the model was trained "
                          f"for), got {horizon}")
    job = Job(shared, {"model": os.fspath(model_path), "horizon": horizon,
                       "levels": [int(lv) for lv in dict.fromkeys(levels)] if isinstance(loaded, ModelGroup)
                       else list(usable_levels(model.intervals, levels)), "adapt": adapt})
    return run(plan_partitions(data, out_dir), forecast_partition, job, map_tasks, on_done)


@guarded
def backtest_partition(job: Job, part: Partition) -> Done:
    """Score one partition's series with the fold models, rows to its output file, unless current already."""
    from rnncast import api
    from rnncast.backtesting import score
    from rnncast.holiday_flags import with_holidays
    from rnncast.io import write_forecast

    stamp = job.stamp(part)
    ids = written_ids(part, stamp, "series")
    if ids is not None:
        return Done(part, ids, skipped=True, rows=tuple(_rows_of(part.output)))
    plan, spec = job.context
    series = with_holidays(api.read(part.source, spec, files=[part.file]), plan.window.holidays)
    result = score(series, plan, shared_models(job))
    part.output.parent.mkdir(parents=True, exist_ok=True)
    write_forecast(_columns_of(result.rows), "parquet", part.output, metadata={METADATA_KEY: stamp})
    return Done(part, series.ids, tuple(result.notes), rows=tuple(result.rows))


def _columns_of(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Rows as columns; a number left out (None: no coverage at that level) is written as NaN."""
    import numpy as np

    names = list(dict.fromkeys(key for row in rows for key in row))
    text = ("series", "method", "origin")
    return {name: np.array([row.get(name) for row in rows], dtype=object if name in text else np.float64)
            if name != "fold" else np.array([row["fold"] for row in rows], dtype=np.int64) for name in names}


def _rows_of(path: Path) -> list[dict[str, Any]]:
    import math

    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in rows]


def backtest_folder(data: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, read_spec: ReadSpec,
                    window: WindowSpec, net: NetSpec, train: TrainSpec, spec: BacktestSpec,
                    map_tasks: Mapper | None = None, on_fold: Callable[[int, int, float], None] | None = None,
                    on_done: Callable[[Done, int, int], None] | None = None) -> tuple[BacktestResult, list[Done]]:
    """`backtest FOLDER -o DIR`: fold models fitted on all files, then each file's rows scored to its own
    Parquet file under `out_dir`; the settings, summary and notes to DIR/_summary.json."""
    import json

    import numpy as np

    from rnncast import api
    from rnncast.atomic import atomic_write
    from rnncast.backtesting import BacktestResult, fold_models, plan, summarize
    from rnncast.modelfile import model_bytes

    parts = plan_partitions(data, out_dir)  # a bad -o fails before the fits
    settled, series = plan(api.read(data, read_spec), window, net, train, spec)
    models = fold_models(series, settled, on_fit=on_fold)
    del series  # the tasks read each file anew: the whole data need not stay
    blobs = [model_bytes(m) for m in models]
    weights = hashlib.sha256()  # the stamp: the weights decide the scores (a model file also holds its fit time)
    for m in models:
        for name in sorted(m.params):
            weights.update(np.ascontiguousarray(m.params[name]).data)
    job = Job(b"".join(blobs), {"plan": asdict(settled), "read": asdict(read_spec), "sizes": [len(b) for b in blobs]},
              context=(settled, read_spec), digest=weights.hexdigest())
    done = run(parts, backtest_partition, job, map_tasks, on_done)
    rows = [row for d in done for row in d.rows]
    result = BacktestResult(rows=rows, summary=summarize(rows), settings=settled.settings(),
                            notes=list(dict.fromkeys(note for d in done for note in d.notes)))
    atomic_write(Path(out_dir) / "_summary.json",
                 [json.dumps({k: v for k, v in result.document().items() if k != "rows"}, indent=2).encode() + b"\n"],
                 error=ConfigError, what="backtest summary")
    return result, done
