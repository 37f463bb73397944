"""Known-in-advance covariates: does the path carry information end to end, and what does it cost?

oracle: ETTh1 (or ETTh2), target OT, LTSF-Linear protocol of benchmarks/accuracy.py
(lookback 336, train/validation/test rows 8640/2880/2880, z-scored MSE on the test
windows at stride 1). Once univariate, once with the other six columns as --known,
their *actual* future values given at every test window's forecast steps: an oracle
(nobody knows tomorrow's loads), there to prove the known path works, not a forecast
anyone could make. And a positive control: one known column that does carry OT's future
(OT plus noise of one standard deviation). All in the same run, same seeds.

speed: a generated daily panel, the same fit with and without two known columns and one
static attribute (same windows, epochs and seed), alternated over --rounds; the ratio of
their training times (median and worst round).

Prints a table to stderr and JSON to stdout. ETTh1 is CC BY-ND 4.0: read in place.

Example:
    python benchmarks/covariates.py --seeds 0 1 2
    python benchmarks/covariates.py --skip-oracle --rounds 5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rnncast import api
from rnncast.config import NetSpec, ReadSpec, TrainSpec, WindowSpec
from rnncast.io import read_series

TRAIN_END, VAL_END, TEST_END = 8640, 11520, 14400
LOOKBACK = 336
OTHERS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ett" / "ETTh1.csv"
# The univariate recipe of benchmarks/accuracy.py (README's accuracy section).
NET = NetSpec(cell="lstm", hidden=64)


def oracle_run(data: Path, horizon: int, seed: int, mode: str, epochs: int, noise: float = 1.0) -> dict:
    """mode "none": univariate; "loads": the six other columns as --known, their actual future given;
    "control": one known column that does carry OT's future (OT plus Gaussian noise of `noise`
    training standard deviations), built in memory: the path's positive control."""
    series = read_series(data, target="OT", known={"none": (), "loads": OTHERS, "control": OTHERS[:1]}[mode])
    if mode == "control":
        values = series.values.copy()
        spread = values[:TRAIN_END, 0].std()
        values[:, 1] = values[:, 0] + np.random.default_rng(123).normal(0, noise * spread, len(values))
        series = dataclasses.replace(series, values=values)
    head = dataclasses.replace(series, values=series.values[:VAL_END], times=series.times[:VAL_END],
                               offsets=np.array([0, VAL_END]), future=None)
    # The network alone: the linear map hourly fits blend with by default reads only OT's
    # lookback, and would blur what the known columns add.
    window = WindowSpec(lookback=LOOKBACK, horizon=horizon, val_fraction=(VAL_END - TRAIN_END) / VAL_END,
                        patch=24, norm="last", highway=True, combine="none")
    train = TrainSpec(epochs=epochs, patience=5, seed=seed, refit_all=False)
    started = time.perf_counter()
    model = api.fit(head, window=window, net=NET, train=train)
    seconds = time.perf_counter() - started
    firsts = np.arange(VAL_END - LOOKBACK, TEST_END - LOOKBACK - horizon + 1)
    history = series.values[firsts[:, None] + np.arange(LOOKBACK)]
    targets = firsts[:, None] + LOOKBACK + np.arange(horizon)
    ahead = series.values[targets, 1:] if mode != "none" else None  # the actual future of the known columns
    pred = api.forecast_windows(model, history, series.times[targets], series_index=np.zeros(len(firsts), int),
                                known_future=ahead)["forecast"]
    std = float(model.scaler.scale[0, 0])  # z-scored errors: the mean cancels
    err = (pred - series.values[targets, 0]) / std
    known = {"none": [], "loads": list(OTHERS), "control": [f"OT + N(0, ({noise} sd)^2)"]}[mode]
    return {"horizon": horizon, "seed": seed, "mode": mode, "known": known, "mse": float(np.mean(err**2)),
            "mae": float(np.mean(np.abs(err))), "train_seconds": round(seconds, 1),
            "epochs_run": model.metrics["epochs_run"], "test_windows": len(firsts)}


def panel_file(folder: Path, series: int, rows: int) -> Path:
    """Daily sales of `series` stores: a promotion flag and a price known ahead, a store type."""
    import pandas as pd

    rng = np.random.default_rng(0)
    frames = []
    for s in range(series):
        t = np.arange(rows)
        promo = (rng.random(rows) < 0.2).astype(int)
        price = np.round(10 + np.cumsum(rng.normal(0, 0.05, rows)), 2)
        sales = 100 - 3 * price + 15 * promo + 5 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 2, rows)
        frames.append(pd.DataFrame({"date": pd.date_range("2022-01-01", periods=rows, freq="D"),
                                    "store": f"s{s:03d}", "sales": sales.round(3), "promo": promo, "price": price,
                                    "store_type": ["mall", "street", "outlet"][s % 3]}))
    path = folder / "panel.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def speed(rounds: int, series: int, rows: int, epochs: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = panel_file(Path(folder), series, rows)
        plain = api.read(path, ReadSpec(id_col="store", target="sales"))
        drivers = api.read(path, ReadSpec(id_col="store", target="sales", known=("promo", "price"),
                                          static=("store_type",)))
    window = WindowSpec(horizon=14)
    # No refit: its epoch count follows early stopping, and both fits must do the same work.
    train = TrainSpec(epochs=epochs, patience=0, seed=0, refit_all=False)
    api.fit(plain, window=window, train=TrainSpec(epochs=1))  # compile and warm up both shapes' kernels
    api.fit(drivers, window=window, train=TrainSpec(epochs=1))
    times: dict[str, list[float]] = {"without": [], "with": []}
    windows = {}
    for _ in range(rounds):
        for name, data in (("without", plain), ("with", drivers)):
            model = api.fit(data, window=window, train=train)
            times[name].append(model.metrics["train_seconds"])
            windows[name] = model.metrics["train_windows"] + model.metrics["refit_windows"]
    ratios = [w / wo for w, wo in zip(times["with"], times["without"])]
    return {"series": series, "rows": rows, "epochs": epochs, "rounds": rounds, "windows": windows,
            "train_seconds": times, "ratio_median": statistics.median(ratios), "ratio_worst": max(ratios),
            "known": ["promo", "price"], "static": ["store_type"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--skip-oracle", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--series", type=int, default=60)
    parser.add_argument("--rows", type=int, default=730)
    parser.add_argument("--speed-epochs", type=int, default=5)
    args = parser.parse_args()
    out: dict = {}
    if not args.skip_oracle:
        runs = [oracle_run(args.data, args.horizon, seed, mode, args.epochs)
                for seed in args.seeds for mode in ("none", "loads", "control")]
        for r in runs:
            print(json.dumps(r), file=sys.stderr)
        mean = {mode: statistics.mean(r["mse"] for r in runs if r["mode"] == mode)
                for mode in ("none", "loads", "control")}
        out["oracle"] = {"data": args.data.stem, "horizon": args.horizon, "seeds": args.seeds,
                         "univariate_mse": mean["none"], "known_oracle_mse": mean["loads"],
                         "ratio": mean["loads"] / mean["none"], "control_mse": mean["control"],
                         "control_ratio": mean["control"] / mean["none"], "runs": runs}
        print(f"{args.data.stem} OT h={args.horizon}: univariate MSE {mean['none']:.4f}; with the six other "
              f"columns' actual future as --known {mean['loads']:.4f} ({mean['loads'] / mean['none']:.2f}x); "
              f"with OT + noise of 1 sd as --known (control) {mean['control']:.4f}", file=sys.stderr)
    if not args.skip_speed:
        out["speed"] = speed(args.rounds, args.series, args.rows, args.speed_epochs)
        s = out["speed"]
        print(f"fit with 2 known + 1 static vs without: {s['ratio_median']:.2f}x median, {s['ratio_worst']:.2f}x "
              f"worst of {s['rounds']} rounds ({s['windows']['with']:,} windows each)", file=sys.stderr)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
