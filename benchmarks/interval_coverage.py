"""Prediction-interval coverage on any single series: fit once, score every later window.

Fits rnncast with its defaults on the first `--fit-share` of the rows, then forecasts
from every later origin (stride 1) and counts how often the actual values fall inside
the intervals, over all windows and steps: as calibrated at fit time, and adaptive, as
`rnncast predict --data` gives them when the history runs past the fit (the scale at an
origin comes from rows before it only). A second data set beside ETTh1's
(benchmarks/accuracy.py), so the interval method is not judged on one series alone.
Prints a summary to stderr and JSON to stdout.

Example:
    python benchmarks/interval_coverage.py          # the bundled Brent daily prices, seeds 0 1 2
    python benchmarks/interval_coverage.py --data prices.csv --fit-share 0.7 --seeds 0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from rnncast import api
from rnncast.config import TrainSpec
from rnncast.io import read_series

LEVELS = (80, 95)
DEFAULT_DATA = Path(__file__).resolve().parents[1] / "sample_data" / "brent_crude_daily.csv"


def run(series, fit_rows: int, seed: int, epochs: int) -> dict:
    head = dataclasses.replace(series, values=series.values[:fit_rows], times=series.times[:fit_rows],
                               offsets=np.array([0, fit_rows]))
    model = api.fit(head, train=TrainSpec(epochs=epochs, seed=seed))
    T, K = model.window.lookback, model.net.horizon
    origins = np.arange(fit_rows, len(series.values) - K + 1)  # first forecast row of each window
    history = series.values[origins[:, None] - T + np.arange(T)]
    targets = origins[:, None] + np.arange(K)
    actual, future, index = series.values[targets, 0], series.times[targets], np.zeros(len(origins), dtype=np.int64)
    per_row = api.interval_scales(model, series, LEVELS)
    scales = {lv: per_row[lv][0][origins] for lv in LEVELS}
    result = {"seed": seed, "lookback": T, "horizon": K, "fit_rows": fit_rows, "windows": len(origins)}
    for kind, extra in (("calibrated", {}), ("adaptive", {"scales": scales})):
        out = api.forecast_windows(model, history, future, series_index=index, levels=LEVELS, **extra)
        for lv in LEVELS:
            inside = (actual >= out[f"lower_{lv}"]) & (actual <= out[f"upper_{lv}"])  # (windows, K)
            by_step = inside.mean(axis=0) * 100
            result[f"{kind}_{lv}"] = {"mean": float(by_step.mean()), "worst_step": float(by_step.min()),
                                      "best_step": float(by_step.max())}
    result.update({f"scale_{lv}_range": [float(s.min()), float(s.max())] for lv, s in scales.items()})
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--target", default=None)
    parser.add_argument("--fit-share", type=float, default=0.8, help="share of the rows to fit on")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    series = read_series(args.data, target=args.target)  # one series: a file without an id column
    fit_rows = int(len(series.values) * args.fit_share)
    runs = [run(series, fit_rows, seed, args.epochs) for seed in args.seeds]
    for r in runs:
        print(f"seed {r['seed']}: {r['windows']} windows after row {fit_rows}, horizon {r['horizon']}: " + "; ".join(
            f"{lv}% calibrated {r[f'calibrated_{lv}']['mean']:.1f}, adaptive {r[f'adaptive_{lv}']['mean']:.1f} "
            f"(steps {r[f'adaptive_{lv}']['worst_step']:.1f}..{r[f'adaptive_{lv}']['best_step']:.1f})"
            for lv in LEVELS), file=sys.stderr)
    print(json.dumps({"data": args.data.name, "fit_share": args.fit_share, "epochs": args.epochs, "runs": runs},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
