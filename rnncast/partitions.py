"""A command mapped over a folder's files: one output partition per input file, each written atomically.

The folders Spark, Dask and pyarrow write hold whole series per file; each file (a
partition) is read on its own, so memory is one partition's, and gives one Parquet file
under the output folder at the same relative path. Each output records in its Parquet
metadata what made it (the model's digest, the input file's size and time, the options):
a rerun skips partitions whose output is there and current, so after a crash only what is
missing is redone. A series found in two input files cannot be forecast from either alone:
refused, naming both, and the two outputs are removed.

The mapping itself is in process here, or on Dask (rnncast.cluster): tasks are plain
functions of a Partition, and what they share (the model) travels as bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnncast.errors import ConfigError, DataError, RnncastError

METADATA_KEY = "rnncast"


@dataclass(frozen=True)
class Partition:
    source: str  # the folder or glob given: its hive keys apply to `file`
    file: Path  # one of its files
    output: Path  # where this file's result goes

    @property
    def name(self) -> str:
        return os.fspath(self.file)


@dataclass(frozen=True)
class Done:
    """What a task reports: the series it wrote (or found written), its notes, or the one-line error."""

    partition: Partition
    ids: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None
    skipped: bool = False  # its output was current already
    rows: tuple[dict[str, Any], ...] = ()  # backtest: the partition's scored rows


@dataclass(frozen=True)
class Job:
    """A task's shared input (the model file's bytes) and its options, which stamp every output."""

    shared: bytes
    options: dict[str, Any] = field(default_factory=dict)  # JSON-able: they stamp the outputs
    context: Any = None  # what the task needs besides, made from the options (specs)
    digest: str | None = None  # of what in `shared` decides the output; default: all of it

    def stamp(self, part: Partition) -> str:
        """What made `part`'s output: a rerun with the same model, options and input file skips it."""
        info = part.file.stat()
        digest = self.digest or hashlib.sha256(self.shared).hexdigest()
        return json.dumps({"shared": digest, "options": self.options,
                           "input": part.file.name, "size": info.st_size, "mtime_ns": info.st_mtime_ns},
                          sort_keys=True)


def plan(source: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> list[Partition]:
    """One Partition per data file of the folder or glob `source`, its output under `out_dir`."""
    from rnncast.io.folder import files_of

    name = os.fspath(source)
    files = files_of(name)
    root = Path(name) if os.path.isdir(name) else Path(os.path.commonpath([f.parent for f in files]))
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"-o {out} is a file; with a folder of data, -o names a folder for one Parquet file per "
                          "input file")
    if _inside(out, root):
        raise ConfigError(f"-o {out} is inside the data folder {root}, where the next run would read it as data; "
                          "choose a folder outside it")
    parts = [Partition(name, f, out / _parquet_name(f.relative_to(root))) for f in files]
    taken: dict[Path, Partition] = {}
    for part in parts:
        first = taken.setdefault(part.output, part)
        if first is not part:
            raise ConfigError(f"{first.name} and {part.name} would both be written to {part.output}; rename one "
                              "of them (outputs are Parquet files named after the inputs)")
    return parts


def _inside(path: Path, folder: Path) -> bool:
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))


def _parquet_name(relative: Path) -> Path:
    from rnncast.io.folder import DATA_SUFFIXES

    lower = relative.name.lower()
    stem = next((relative.name[: -len(s)] for s in DATA_SUFFIXES if lower.endswith(s)), relative.name)
    return relative.with_name(stem + ".parquet")


def written_ids(part: Partition, stamp: str, id_col: str) -> tuple[str, ...] | None:
    """The series in `part`'s output if it is current (made with `stamp`), else None."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(part.output)
        if (schema.metadata or {}).get(METADATA_KEY.encode(), b"").decode() != stamp:
            return None
        column = pq.read_table(part.output, columns=[id_col]).column(0)
    except (OSError, ValueError, KeyError):  # absent, half-copied by hand, or another file: redo it
        return None
    return tuple(dict.fromkeys(str(v) for v in column.unique().to_pylist()))


Task = Callable[[Job, Partition], Done]
Mapper = Callable[[Task, Job, Sequence[Partition]], Iterable[Done]]


def run(parts: Sequence[Partition], task: Task, job: Job, map_tasks: Mapper | None = None,
        on_done: Callable[[Done, int, int], None] | None = None) -> list[Done]:
    """`task(job, part)` on every partition, through `map_tasks` (default: in this process, in order).

    Stops at the first partition that fails, with its one line (other partitions' outputs
    are whole files: written or not at all). Then a series found in two partitions is
    refused: its two outputs are removed and the message names both files.
    """
    mapped = map_tasks(task, job, parts) if map_tasks is not None else (task(job, p) for p in parts)
    done: list[Done] = []
    try:
        for result in mapped:
            if result.error is not None:
                raise DataError(result.error)
            done.append(result)
            if on_done is not None:
                on_done(result, len(done), len(parts))
    finally:  # now, while a cluster's client is still open: the tasks left are cancelled
        close = getattr(mapped, "close", None)
        if close is not None:
            close()
    _refuse_split_series(done)
    return done


def _refuse_split_series(done: Sequence[Done]) -> None:
    where: dict[str, Partition] = {}
    for result in done:
        for name in result.ids:
            first = where.setdefault(name, result.partition)
            if first is not result.partition:
                for part in (first, result.partition):
                    part.output.unlink(missing_ok=True)
                raise DataError(f"series {name!r} is in two files, {first.name} and {result.partition.name}; "
                                "a command that works file by file needs each series whole in one file "
                                "(rewrite the data partitioned by series, or give one file)")


def guarded(task: Task) -> Task:
    """`task` with a bad partition's one-line error reported as a Done (not retried: data does not heal).

    A decorator for module-level task functions, so that Dask can send them by name.
    """
    import functools

    @functools.wraps(task)
    def safe(job: Job, part: Partition) -> Done:
        try:
            return task(job, part)
        except RnncastError as error:
            return Done(part, error=str(error))

    return safe
