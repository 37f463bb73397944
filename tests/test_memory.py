"""Fit's memory is the data plus a constant, not windows x lookback (measured in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import env

CHILD = r"""
import json, resource
import numpy as np
from rnncast import api
from rnncast.config import NetSpec, TrainSpec, WindowSpec
from rnncast.io import SeriesSet

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

S, N, T, K = 400, 2000, 336, 24
rng = np.random.default_rng(0)
values = (10 + np.cumsum(rng.normal(size=(S, N)), axis=1)).reshape(-1, 1)
times = np.tile(np.datetime64("2020-01-01T00", "ns") + np.arange(N) * np.timedelta64(1, "h"), S)
series = SeriesSet(values=values, offsets=np.arange(S + 1) * N, ids=tuple(f"s{i}" for i in range(S)), times=times,
                   freq="h", tz=None, target="y", features=(), time_col="t", id_col="id", filled=0, source="memory")
# Warm up (compile, import) on a small fit, so the measurement below is the big fit alone.
small = SeriesSet(values=values[: 2 * N], offsets=np.arange(3) * N, ids=("a", "b"), times=times[: 2 * N], freq="h",
                  tz=None, target="y", features=(), time_col="t", id_col="id", filled=0, source="small")
spec = dict(window=WindowSpec(lookback=T, horizon=K, val_fraction=0.05, patch=24), net=NetSpec(hidden=16))
api.fit(small, train=TrainSpec(epochs=1, windows_per_epoch=256), **spec)
before = peak_mib()
model = api.fit(series, train=TrainSpec(epochs=1, windows_per_epoch=2048), **spec)
windows = model.metrics["train_windows"] + model.metrics["refit_windows"]
# Materialised, the training and refit windows' inputs, targets and head extras in float32.
materialised = windows * (T + K + model.net.head_extra) * 4 / 2**20
print(json.dumps({"before": before, "after": peak_mib(), "data": values.nbytes / 2**20,
                  "materialised": materialised}))
"""


def test_fit_memory_does_not_grow_with_windows_times_lookback() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], env=env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["materialised"] > 3000  # the windows would need gigabytes
    grown = figures["after"] - figures["before"]
    assert grown < 0.2 * figures["materialised"], figures
