"""Dask distributed: predict (and backtest, fit --by) on a LocalCluster of 2 workers give the in-process numbers.

The cluster is started here, on loopback only. Workers are separate processes: a killed one
is replaced by its nanny and Dask reruns its tasks; the outputs stay whole and single.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import PANEL_FIT, TINY, partitioned_panel, read_folder, run

# The cluster lives in its own process: a Client of the test process's own would share its
# event loop machinery with the one rnncast's CLI opens, which Dask does not expect.
CLUSTER = """
import json, logging, os, sys
import distributed
if __name__ == "__main__":
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=":0", silence_logs=logging.CRITICAL) as cluster, \\
            distributed.Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        print(json.dumps({"address": cluster.scheduler_address, "pids": pids}), flush=True)
        sys.stdin.read()  # until the test closes stdin
"""


@contextmanager
def local_cluster() -> Iterator[dict]:
    with subprocess.Popen([sys.executable, "-c", CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as process:
        try:
            assert process.stdout is not None
            yield json.loads(process.stdout.readline())
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=60)


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict]:
    with local_cluster() as started:
        yield started


@pytest.fixture()
def fitted(tmp_path: Path) -> tuple[Path, Path]:
    partitioned_panel(tmp_path / "panel", parts=4)
    assert run("fit", tmp_path / "panel", *PANEL_FIT, "-o", tmp_path / "m.rnncast").exit_code == 0
    return tmp_path / "panel", tmp_path / "m.rnncast"


def test_predict_on_the_cluster_gives_the_in_process_forecasts(tmp_path: Path, cluster, fitted) -> None:
    panel, model = fitted
    here = run("predict", model, "--data", panel, "-o", tmp_path / "here", "--level", "80")
    there = run("predict", model, "--data", panel, "-o", tmp_path / "there", "--level", "80",
                "--scheduler", cluster["address"])
    assert here.exit_code == 0 and there.exit_code == 0, there.stderr
    a, b = read_folder(tmp_path / "here"), read_folder(tmp_path / "there")
    assert len(a) == 4 * 3 * 4 and list(a["store"]) == list(b["store"])
    for column in ("forecast", "lower_80", "upper_80"):
        np.testing.assert_allclose(b[column], a[column], rtol=1e-6)


def test_local_scheduler_starts_and_stops_its_own_workers(tmp_path: Path, fitted) -> None:
    panel, model = fitted
    result = run("predict", model, "--data", panel, "-o", tmp_path / "out", "--scheduler", "local:2")
    assert result.exit_code == 0, result.stderr
    assert "12 series in 4 files" in result.stderr
    assert len(read_folder(tmp_path / "out")) == 48


def test_a_worker_killed_mid_run_still_gives_every_output_once(tmp_path: Path) -> None:
    partitioned_panel(tmp_path / "panel", parts=16, stores=4, rows=120)
    assert run("fit", tmp_path / "panel", *PANEL_FIT, "-o", tmp_path / "m.rnncast").exit_code == 0
    expected = run("predict", tmp_path / "m.rnncast", "--data", tmp_path / "panel", "-o", tmp_path / "here")
    assert expected.exit_code == 0
    out = tmp_path / "there"
    killed: list[int] = []
    pids: list[int] = []

    def kill_one_when_work_starts() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(out.rglob("*.parquet")):
            time.sleep(0.005)
        killed.append(len(list(out.rglob("*.parquet"))))
        os.kill(pids[0], signal.SIGKILL)

    with local_cluster() as own:  # its own: the killed worker's replacement is not the next test's business
        pids.extend(own["pids"])
        killer = threading.Thread(target=kill_one_when_work_starts)
        killer.start()
        result = run("predict", tmp_path / "m.rnncast", "--data", tmp_path / "panel", "-o", out,
                     "--scheduler", own["address"])
        killer.join()
    assert result.exit_code == 0, result.stderr
    assert killed and killed[0] < 16, "the worker died after the run, not during it"
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert len(files) == 16 and not [f for f in files if f.name.startswith(".")]
    a, b = read_folder(tmp_path / "here"), read_folder(out)
    assert len(b) == 16 * 4 * 4 and not b.duplicated(["store", "timestamp"]).any()
    np.testing.assert_allclose(b["forecast"], a["forecast"], rtol=1e-6)


def test_a_bad_partition_fails_the_command_in_one_line_naming_it(tmp_path: Path, cluster, fitted) -> None:
    panel, model = fitted
    bad = panel / "region=r0" / "part-2.parquet"
    rows = pd.read_parquet(bad)
    rows.loc[3, "date"] = rows.loc[4, "date"]  # a duplicated timestamp
    rows.to_parquet(bad, index=False)
    result = run("predict", model, "--data", panel, "-o", tmp_path / "out", "--scheduler", cluster["address"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "part-2.parquet" in last, last
    for path in (tmp_path / "out").rglob("*"):
        assert not path.name.startswith(".")
        if path.is_file():
            assert len(pd.read_parquet(path)) == 12


def test_backtest_on_the_cluster_gives_the_in_process_scores(tmp_path: Path, cluster, fitted) -> None:
    panel, _ = fitted
    options = ["--id-col", "store", "--target", "sales", *TINY, "--folds", "2"]  # refit: a model per fold
    here = run("backtest", panel, *options, "-o", tmp_path / "here")
    there = run("backtest", panel, *options, "-o", tmp_path / "there", "--scheduler", cluster["address"])
    assert here.exit_code == 0 and there.exit_code == 0, there.stderr
    assert here.stdout == there.stdout
    a, b = read_folder(tmp_path / "here"), read_folder(tmp_path / "there")
    assert len(a) == 2 * 12 * 4 and list(a["series"]) == list(b["series"])
    np.testing.assert_allclose(b["mase"], a["mase"], rtol=1e-6)


def test_fit_by_on_the_cluster_gives_the_in_process_models(tmp_path: Path, cluster) -> None:
    import rnncast

    partitioned_panel(tmp_path / "panel", parts=4)
    options = [*PANEL_FIT, "--by", "region"]
    here = run("fit", tmp_path / "panel", *options, "-o", tmp_path / "here.rnncast")
    there = run("fit", tmp_path / "panel", *options, "-o", tmp_path / "there.rnncast",
                "--scheduler", cluster["address"])
    assert here.exit_code == 0 and there.exit_code == 0, there.stderr
    a, b = rnncast.load(tmp_path / "here.rnncast"), rnncast.load(tmp_path / "there.rnncast")
    assert a.values == b.values == ("r0", "r1")
    for mine, theirs in zip(a.models, b.models):
        assert mine.ids == theirs.ids
        for weight in mine.params:
            np.testing.assert_array_equal(theirs.params[weight], mine.params[weight])
    assert run("predict", tmp_path / "here.rnncast").stdout == run("predict", tmp_path / "there.rnncast").stdout


def test_fit_scheduler_without_by_is_refused(tmp_path: Path) -> None:
    partitioned_panel(tmp_path / "panel", parts=2)
    result = run("fit", tmp_path / "panel", *PANEL_FIT, "--scheduler", "local:2")
    assert result.exit_code == 2 and "--by" in result.stderr
