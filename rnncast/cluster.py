"""Dask distributed, optional: `--scheduler local:N` (a LocalCluster rnncast starts and stops) or tcp://HOST:PORT.

Nothing imports Dask until a scheduler is asked for; without the extra, one line says how
to install it. Tasks are module-level functions, which Dask sends by name; the job, with
the model file's bytes, is scattered once to every worker. A task that fails on bad data
returns its one line as a value (rnncast.partitions.guarded), so Dask reruns only what a
lost worker left undone, and such a rerun rewrites its partition whole and atomically.
Workers read the data and write their outputs themselves: on a cluster of several
machines, both paths must be on storage every worker sees.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from rnncast.errors import ConfigError
from rnncast.partitions import Done, Job, Partition, Task

INSTALL = "pip install 'rnncast[dask]'"
_LOCAL = re.compile(r"local:(\d+)")


@dataclass(frozen=True)
class Workers:
    """A connected cluster, as the maps rnncast needs: partitions of a folder, and groups of fit --by."""

    client: Any

    def partitions(self, task: Task, job: Job, parts: Sequence[Partition]) -> Iterator[Done]:
        """Every partition's Done as its task ends; the tasks left are cancelled if the caller stops early."""
        from distributed import as_completed

        shared = self.client.scatter(job, broadcast=True, hash=False)  # the model once to each worker
        run = uuid.uuid4().hex[:8]
        futures = [self.client.submit(task, shared, part, key=f"rnncast-{run}-{i}", pure=False)
                   for i, part in enumerate(parts)]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            self._stop(futures)

    def _stop(self, futures: list[Any]) -> None:
        """Cancel the tasks not started, and wait for those running: none writes after the command ends."""
        from distributed import wait

        left = [f for f in futures if not f.done()]
        if not left:
            return
        running = {key for keys in self.client.processing().values() for key in keys}
        self.client.cancel([f for f in left if f.key not in running])
        with suppress(TimeoutError):  # a task hung: its temporary file goes with the next write of that output
            wait([f for f in left if f.key in running], timeout=600)

    def groups(self, fit_one: Callable[[str, Any], Any], values: Sequence[str], parts: Sequence[Any]) -> list[Any]:
        """fit_one(value, series) of every group on the workers, in parallel; the models in the order of `values`.

        A group's failure (its one line, "group 'x': ...") is raised here, the other fits cancelled.
        """
        data = self.client.scatter(list(parts), hash=False)  # each group's series to one worker, not in the graph
        run = uuid.uuid4().hex[:8]
        keys = [f"rnncast-fit-{run}-{i}" for i in range(len(values))]
        futures = self.client.map(fit_one, list(values), data, key=keys, pure=False)
        try:
            return list(self.client.gather(futures))
        finally:
            self.client.cancel(futures)


@contextmanager
def scheduler(address: str) -> Iterator[Workers]:
    """The cluster at `address` (local:N starts one here, stopped on leaving)."""
    match = _LOCAL.fullmatch(address)
    if match is None and not address.startswith(("tcp://", "tls://", "inproc://")):
        raise ConfigError(f"--scheduler takes local:N (N workers on this machine) or tcp://HOST:PORT, got {address!r}")
    if match is not None and not 1 <= int(match.group(1)) <= 512:
        raise ConfigError(f"--scheduler local:N needs 1 to 512 workers, got {match.group(1)}")
    try:
        import distributed
    except ImportError:
        raise ConfigError(f"--scheduler needs Dask distributed, which is not installed: {INSTALL}") from None
    logging.getLogger("distributed").setLevel(logging.ERROR)  # its lines are not ours to print on stderr
    cluster: Any = None
    try:
        if match is not None:
            cluster = distributed.LocalCluster(n_workers=int(match.group(1)), threads_per_worker=1, processes=True,
                                               dashboard_address=":0", silence_logs=logging.ERROR)
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(address, timeout="10s")
    except OSError as error:
        if cluster is not None:
            cluster.close()
        raise ConfigError(f"cannot reach the Dask scheduler at {address} ({error}); check the address and that "
                          "it runs") from None
    try:
        yield Workers(client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
