"""Accuracy on ETTh1 or ETTh2 (target OT, or all seven columns) with the LTSF-Linear (DLinear paper) protocol.

With --channels all, the seven columns are seven series of one global model (each
z-scored with its own training rows; MSE and MAE over all of them), beside the published
multivariate figures.

Train rows [0, 8640), validation targets [8640, 11520), test targets [11520, 14400);
z-score with the training rows' mean and std (ddof 0); lookback 336; horizons 96, 192,
336, 720; test windows at stride 1; MSE and MAE on the z-scored values. rnncast is run
through its public API (rnncast.api.fit and rnncast.api.forecast_windows); the same test
windows are scored for the repeat-last-value forecast. The published figures scored all
but the last (windows mod 32) test windows (LTSF-Linear's test loader drops its last
partial batch of 32): mse_published_windows scores those same windows, mse every one. Prediction intervals are scored
twice: as calibrated at fit time (static), and adaptive, as `rnncast predict --data`
gives them when each test window's history goes past the fit (api.interval_scales: the
intervals follow their misses on the test rows before each window's origin, never
after it). Prints a table to stderr and JSON to stdout.

ETTh1 is CC BY-ND 4.0: it is read in place, never copied into the project.

Example:
    python benchmarks/accuracy.py --data ../shared/data/ett/ETTh1.csv --seeds 0 1 2
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
from rnncast.config import COMBINES, NetSpec, TrainSpec, WindowSpec
from rnncast.io import read_series

TRAIN_END, VAL_END, TEST_END = 8640, 11520, 14400
LOOKBACK = 336
HORIZONS = (96, 192, 336, 720)
LEVELS = (80, 95)
# Published on the same protocol (MSE, MAE), univariate OT, by data file: LTSF-Linear's
# LTSF-Benchmark.md (ETTh1 with MAE; ETTh2 MSE only, as ../shared/data/README.md gives it).
PUBLISHED = {
    "ETTh1": {
        96: {"NLinear": (0.053, 0.177), "DLinear": (0.056, 0.180)},
        192: {"NLinear": (0.069, 0.204), "DLinear": (0.071, 0.204)},
        336: {"NLinear": (0.081, 0.226), "DLinear": (0.098, 0.244)},
        720: {"NLinear": (0.080, 0.226), "DLinear": (0.189, 0.359)},
    },
    "ETTh2": {
        96: {"NLinear": (0.129, None), "DLinear": (0.131, None)},
        192: {"NLinear": (0.169, None), "DLinear": (0.176, None)},
        336: {"NLinear": (0.194, None), "DLinear": (0.209, None)},
        720: {"NLinear": (0.225, None), "DLinear": (0.276, None)},
    },
}
# All seven columns, one model over the channels (MSE only, from ../shared/data/README.md).
PUBLISHED_ALL = {
    "ETTh1": {h: {"NLinear": (n, None), "DLinear": (d, None)}
              for h, n, d in zip(HORIZONS, (0.374, 0.408, 0.429, 0.440), (0.375, 0.405, 0.439, 0.472))},
    "ETTh2": {h: {"NLinear": (n, None), "DLinear": (d, None)}
              for h, n, d in zip(HORIZONS, (0.277, 0.344, 0.357, 0.394), (0.289, 0.383, 0.448, 0.605))},
}
# The published figures come from LTSF-Linear's run_longExp.py, whose test loader takes batches of
# 32 with drop_last=True (data_provider/data_factory.py; batch_size 32 in its ETT scripts): the
# last (windows mod 32) test windows, the latest in the file, were never scored. mse scores
# every window; mse_published_windows the ones the published figures scored.
PUBLISHED_TEST_BATCH = 32
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ett" / "ETTh1.csv"


def recipe(args: argparse.Namespace) -> dict:
    """The fit settings under test (they become the README's documented recipe)."""
    # Everything but the protocol's split is rnncast's own default, read from its specs (the
    # patch too: left None, it is a day's 24 hours at the protocol's lookback, 336).
    window, train = WindowSpec(), TrainSpec()
    return {"cell": args.cell, "hidden": args.hidden, "layers": NetSpec().layers, "patch": args.patch,
            "norm": window.norm, "highway": window.highway, "calendar": args.calendar, "scaler": window.scaler,
            "lr": args.lr, "epochs": args.epochs, "batch_size": train.batch_size, "patience": args.patience,
            "loss": train.loss,
            "combine": args.combine}


def channels_as_series(path: Path):
    """All seven columns of an ETT file as seven series of one panel (ids: the column names)."""
    import pandas as pd

    frame = pd.read_csv(path)
    long = frame.melt(id_vars="date", var_name="channel", value_name="value")
    with tempfile.TemporaryDirectory() as folder:
        long.to_csv(Path(folder) / "long.csv", index=False)
        return read_series(Path(folder) / "long.csv", target="value", id_col="channel", time_col="date")


def run(series, horizon: int, seed: int, settings: dict) -> dict:
    """Fit on rows [0, 11520) of every series (the last 2880 for validation) and score the test windows."""
    starts = series.offsets[:-1]
    keep = (starts[:, None] + np.arange(VAL_END)).reshape(-1)
    head = dataclasses.replace(series, values=series.values[keep], times=series.times[keep],
                               offsets=np.arange(len(starts) + 1) * VAL_END, future=None)
    train = TrainSpec(loss=settings["loss"], lr=settings["lr"], epochs=settings["epochs"],
                      batch_size=settings["batch_size"], patience=settings["patience"], seed=seed,
                      # The protocol trains on the training rows only: no refit on the validation rows.
                      refit_all=False)
    started = time.perf_counter()
    window = WindowSpec(lookback=LOOKBACK, horizon=horizon, val_fraction=(VAL_END - TRAIN_END) / VAL_END,
                        scaler=settings["scaler"], norm=settings["norm"], patch=settings["patch"],
                        highway=settings["highway"], calendar=settings["calendar"], combine=settings["combine"])
    net = NetSpec(cell=settings["cell"], hidden=settings["hidden"], layers=settings["layers"])
    model = api.fit(head, window=window, net=net, train=train)
    seconds = time.perf_counter() - started
    local = np.arange(VAL_END - LOOKBACK, TEST_END - LOOKBACK - horizon + 1)  # test windows' first rows
    index = np.repeat(np.arange(len(starts)), len(local))  # series of each window
    firsts = np.tile(local, len(starts)) + starts[index]
    R = model.history_rows  # a blended model's Theta reads more than the lookback (all rows are the series')
    rows = firsts[:, None] + LOOKBACK - R + np.arange(R)
    history = series.values[rows]  # (N, R, 1)
    target_rows = firsts[:, None] + LOOKBACK + np.arange(horizon)
    actual = series.values[target_rows, 0]  # (N, K)
    out = api.forecast_windows(model, history, series.times[target_rows], series_index=index, levels=LEVELS)
    pred = out["forecast"]
    # The whole series: rows past the fit (>= VAL_END) are new to the model, and the scale
    # at a test window's origin comes only from rows before that origin.
    per_row = api.interval_scales(model, series, LEVELS)
    origins = local + LOOKBACK
    scales = {lv: np.concatenate([per_row[lv][s][origins] for s in range(len(starts))]) for lv in LEVELS}
    adaptive = api.forecast_windows(model, history, series.times[target_rows], series_index=index, levels=LEVELS,
                                    scales=scales)

    def coverage(intervals: dict) -> dict:
        """Empirical coverage at every horizon step (K,), per level."""
        return {lv: ((actual >= intervals[f"lower_{lv}"]) & (actual <= intervals[f"upper_{lv}"])).mean(axis=0)
                for lv in LEVELS}

    static, adapted = coverage(out), coverage(adaptive)
    mean, std = model.scaler.loc[index, :1], model.scaler.scale[index, :1]  # (N, 1): each series' z-score
    err = (pred - actual) / std
    naive_err = (np.repeat(history[:, -1, :1], horizon, axis=1) - actual) / std
    scored = len(local) - len(local) % PUBLISHED_TEST_BATCH  # the windows the published figures scored
    published = np.tile(np.arange(len(local)) < scored, len(starts))
    return {"horizon": horizon, "seed": seed, "series": len(starts), "test_windows": len(firsts),
            "mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err))),
            "published_test_windows": int(published.sum()),
            "mse_published_windows": float(np.mean(err[published] ** 2)),
            "mae_published_windows": float(np.mean(np.abs(err[published]))),
            "naive_mse_published_windows": float(np.mean(naive_err[published] ** 2)),
            "naive_mse": float(np.mean(naive_err**2)), "naive_mae": float(np.mean(np.abs(naive_err))),
            **{f"{kind}_coverage_{lv}_{stat}": float(getattr(c, stat)()) * 100
               for kind, cov in (("static", static), ("adaptive", adapted)) for lv, c in cov.items()
               for stat in ("mean", "min", "max")},
            **{f"adaptive_scale_{lv}_range": [float(scales[lv].min()), float(scales[lv].max())] for lv in LEVELS},
            "patch": model.window.patch,
            "blend": model.metrics.get("blend", 1.0), "blend_with": model.metrics.get("blend_with"),
            "linear_fit": model.metrics.get("linear_fit"),
            "epochs_run": model.metrics["epochs_run"], "best_epoch": model.metrics["best_epoch"],
            "train_seconds": round(seconds, 1), "train_mean": float(mean.mean()), "train_std": float(std.mean())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="path to ETTh1.csv or ETTh2.csv (published figures by file name)")
    parser.add_argument("--horizons", type=int, nargs="+", default=list(HORIZONS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cell", default=NetSpec().cell)
    parser.add_argument("--hidden", type=int, default=NetSpec().hidden)
    parser.add_argument("--patch", type=int, default=WindowSpec().patch,
                        help="values per network step; default rnncast's, by frequency (24 here)")
    parser.add_argument("--calendar", default=WindowSpec().calendar)
    parser.add_argument("--lr", type=float, default=TrainSpec().lr)
    parser.add_argument("--epochs", type=int, default=TrainSpec().epochs)
    parser.add_argument("--patience", type=int, default=TrainSpec().patience)
    parser.add_argument("--combine", choices=COMBINES, default="auto",
                        help="rnncast's --combine (auto: the linear map on hourly data)")
    parser.add_argument("--channels", choices=("OT", "all"), default="OT",
                        help="OT: univariate; all: the seven columns as seven series of one global model")
    args = parser.parse_args()
    series = read_series(args.data, target="OT") if args.channels == "OT" else channels_as_series(args.data)
    settings = recipe(args)
    published = PUBLISHED if args.channels == "OT" else PUBLISHED_ALL
    runs = []
    for horizon in args.horizons:
        for seed in args.seeds:
            result = run(series, horizon, seed, settings)
            runs.append(result)
            print(json.dumps(result), file=sys.stderr)
    summary = []
    for horizon in args.horizons:
        mine = [r for r in runs if r["horizon"] == horizon]
        mse = [r["mse"] for r in mine]
        mae = [r["mae"] for r in mine]
        like = [r["mse_published_windows"] for r in mine]
        summary.append({
            "horizon": horizon,
            "rnncast_mse_mean": statistics.mean(mse), "rnncast_mse_min": min(mse), "rnncast_mse_max": max(mse),
            "rnncast_mae_mean": statistics.mean(mae),
            "rnncast_mse_published_windows_mean": statistics.mean(like),
            "rnncast_mse_published_windows_min": min(like), "rnncast_mse_published_windows_max": max(like),
            "rnncast_mae_published_windows_mean": statistics.mean(r["mae_published_windows"] for r in mine),
            "naive_mse_published_windows": mine[0]["naive_mse_published_windows"],
            "naive_mse": mine[0]["naive_mse"], "naive_mae": mine[0]["naive_mae"],
            "published": {k: {"mse": v[0], "mae": v[1]}
                          for k, v in published.get(args.data.stem, {}).get(horizon, {}).items()},
            "train_seconds_mean": statistics.mean(r["train_seconds"] for r in mine),
            **{f"{kind}_coverage_{lv}_{stat}": statistic(r[f"{kind}_coverage_{lv}_{key}"] for r in mine)
               for kind in ("static", "adaptive") for lv in LEVELS
               for stat, key, statistic in (("mean", "mean", statistics.mean), ("lowest_seed", "mean", min),
                                            ("highest_seed", "mean", max), ("worst_step", "min", min),
                                            ("best_step", "max", max))},
        })
    print(f"{'horizon':>7} | {'rnncast MSE (min..max)':>24} | {'MAE':>6} | {'on published windows':>21} | "
          f"{'naive':>13} | {'NLinear':>13} | {'DLinear':>13}", file=sys.stderr)
    for s in summary:
        p = {name: s["published"].get(name, {}) for name in ("NLinear", "DLinear")}

        def pub(name: str, p: dict = p) -> str:
            mse, mae = p[name].get("mse"), p[name].get("mae")
            return "-" if mse is None else f"{mse:.3f} / " + ("-" if mae is None else f"{mae:.3f}")

        spread = f"{s['rnncast_mse_min']:.4f}..{s['rnncast_mse_max']:.4f}"
        print(f"{s['horizon']:>7} | {s['rnncast_mse_mean']:.4f} ({spread})"
              f" | {s['rnncast_mae_mean']:.4f} | {s['rnncast_mse_published_windows_mean']:>21.4f}"
              f" | {s['naive_mse']:.3f} / {s['naive_mae']:.3f} | "
              f"{pub('NLinear'):>13} | {pub('DLinear'):>13}",
              file=sys.stderr)
    print("interval coverage on the test windows, %: mean over steps and windows (seeds' range; single steps)",
          file=sys.stderr)
    for s in summary:
        for kind in ("static", "adaptive"):
            print(f"  h={s['horizon']:<3} {kind:>8}: " + ", ".join(
                f"{lv}%: {s[f'{kind}_coverage_{lv}_mean']:.1f} ({s[f'{kind}_coverage_{lv}_lowest_seed']:.1f}.."
                f"{s[f'{kind}_coverage_{lv}_highest_seed']:.1f}; {s[f'{kind}_coverage_{lv}_worst_step']:.1f}.."
                f"{s[f'{kind}_coverage_{lv}_best_step']:.1f})" for lv in LEVELS), file=sys.stderr)
    kind = "OT univariate" if args.channels == "OT" else "all seven columns as seven series of one model"
    print(json.dumps({"protocol": f"LTSF-Linear {args.data.stem} {kind}, lookback 336", "settings": settings,
                      "seeds": args.seeds, "summary": summary, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
