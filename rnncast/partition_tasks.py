"""predict over a folder, file by file (rnncast.partitions): the task, and the call that plans and runs it.

A task gets the model file's bytes (sent once to each Dask worker, decoded once per
process and checked as a file is) and one partition; it reads that file alone, forecasts
its series and writes its Parquet output atomically.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence

from rnncast.errors import ConfigError
from rnncast.forecaster import Model
from rnncast.io import SeriesSet
from rnncast.partitions import METADATA_KEY, Done, Job, Mapper, Partition, guarded, plan, run, written_ids

_decoded: dict[str, Model] = {}  # this process's copy of the job's model, by digest


def shared_model(job: Job) -> Model:
    """The model of `job.shared`, decoded once per process."""
    from rnncast.modelfile import model_from_bytes

    key = hashlib.sha256(job.shared).hexdigest()
    if key not in _decoded:
        _decoded.clear()  # one model at a time: a long-lived worker serves job after job
        _decoded[key] = model_from_bytes(job.shared, str(job.options.get("model", "model")))
    return _decoded[key]


def read_partition(model: Model, part: Partition) -> SeriesSet:
    """One file of the folder, with its hive keys, read with the model's columns."""
    from rnncast.forecast_inputs import model_columns
    from rnncast.io import read_series

    spec = model_columns(model)
    return read_series(part.source, target=spec.target, time_col=spec.time_col, id_col=spec.id_col,
                       features=spec.features, freq=spec.freq, fill=spec.fill, for_model=True,
                       known=spec.known, static=spec.static, files=[part.file]).in_zone(model.tz)


@guarded
def forecast_partition(job: Job, part: Partition) -> Done:
    """Forecast one partition's series to its output file, unless that is current already."""
    from rnncast import api
    from rnncast.io import write_forecast

    model = shared_model(job)
    assert model.id_col is not None  # checked by forecast_folder
    stamp = job.stamp(part)
    ids = written_ids(part, stamp, model.id_col)
    if ids is not None:
        return Done(part, ids, skipped=True)
    series = read_partition(model, part)
    notes: list[str] = []
    table = api.forecast(model, series, horizon=job.options["horizon"], levels=tuple(job.options["levels"]),
                         adapt=job.options["adapt"], notes=notes)
    part.output.parent.mkdir(parents=True, exist_ok=True)
    write_forecast(table, "parquet", part.output, tz=model.tz, metadata={METADATA_KEY: stamp})
    return Done(part, series.ids, tuple(notes))


def forecast_folder(model_path: str | os.PathLike[str], data: str | os.PathLike[str],
                    out_dir: str | os.PathLike[str], *, horizon: int | None = None, levels: Sequence[int] = (),
                    adapt: bool = True, map_tasks: Mapper | None = None,
                    on_done: Callable[[Done, int, int], None] | None = None) -> list[Done]:
    """`predict --data FOLDER -o DIR`: every file's forecast to its own Parquet file under `out_dir`."""
    from rnncast.format import read_model_bytes
    from rnncast.intervals import usable_levels
    from rnncast.modelfile import model_from_bytes

    shared = read_model_bytes(model_path)
    model = model_from_bytes(shared, os.fspath(model_path))  # checked here first: one line, before any task
    if model.id_col is None:
        raise ConfigError("the model has no id column, so every file of the folder would be the same series; "
                          "give one file as --data, or fit with --id-col")
    if horizon is not None and not 1 <= horizon <= model.net.horizon:
        raise ConfigError(f"--horizon must be from 1 to {model.net.horizon} (the horizon the model was trained "
                          f"for), got {horizon}")
    job = Job(shared, {"model": os.fspath(model_path), "horizon": horizon,
                       "levels": list(usable_levels(model.intervals, levels)), "adapt": adapt})
    return run(plan(data, out_dir), forecast_partition, job, map_tasks, on_done)
