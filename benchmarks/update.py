"""update against a full refit: on a series, fit on all but the newest N rows, update with them,
and compare with a fit on everything: wall time, and the forecast error on the K rows after.

For each of --cuts cut points (each K rows earlier than the last), with defaults otherwise:
  base    = fit(rows before cut - N)
  updated = update(base, rows before cut)          (timed: update only)
  refit   = fit(rows before cut)                   (timed)
and both forecast the K rows from the cut (MAE in the data's units). Prints JSON: per cut and
the medians of update/refit time and error ratios. Reads ETTh1 in place (CC BY-ND).

Example:
    python benchmarks/update.py --data sample_data/brent_crude_daily.csv --new-rows 20
    python benchmarks/update.py --data ../shared/data/ett/ETTh1.csv --target OT --new-rows 48
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from rnncast import api
from rnncast.config import ReadSpec, TrainSpec
from rnncast.frequency import default_steps


def head(series, rows: int):
    return dataclasses.replace(series, values=series.values[:rows], times=series.times[:rows],
                               offsets=np.array([0, rows]),
                               made_up=None if series.made_up is None else series.made_up[:rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--target", default=None)
    parser.add_argument("--new-rows", type=int, default=20, help="N: rows the update learns")
    parser.add_argument("--cuts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="cap both fits' epochs (default: fit's own)")
    args = parser.parse_args()
    series = api.read(str(args.data), ReadSpec(target=args.target))
    train = TrainSpec(seed=args.seed) if args.epochs is None else TrainSpec(seed=args.seed, epochs=args.epochs)
    n = len(series.values)
    runs = []
    for i in range(args.cuts):
        K = default_steps(series.freq)[1]  # fit's default horizon at this frequency
        cut = n - K - i * K
        base = api.fit(head(series, cut - args.new_rows), train=train)
        started = time.perf_counter()
        updated = api.update(base, head(series, cut))
        update_s = time.perf_counter() - started
        started = time.perf_counter()
        refit = api.fit(head(series, cut), train=train)
        refit_s = time.perf_counter() - started
        actual = series.values[cut : cut + K, 0]
        errors = {name: float(np.mean(np.abs(api.forecast(m)["forecast"] - actual)))
                  for name, m in (("update", updated), ("refit", refit))}
        # No training at all: the old model forecasting from the same rows (predict --data).
        errors["no_update"] = float(np.mean(np.abs(api.forecast(base, head(series, cut))["forecast"] - actual)))
        run = {"cut": str(series.times[cut])[:19], "update_seconds": round(update_s, 2),
               "refit_seconds": round(refit_s, 2), **{f"{k}_mae": round(v, 5) for k, v in errors.items()}}
        runs.append(run)
        print(json.dumps(run), file=sys.stderr)
    time_ratio = statistics.median(r["update_seconds"] / r["refit_seconds"] for r in runs)
    error_ratio = statistics.median(r["update_mae"] / r["refit_mae"] for r in runs)
    no_update_ratio = statistics.median(r["no_update_mae"] / r["refit_mae"] for r in runs)
    print(json.dumps({"data": args.data.name, "rows": n, "new_rows": args.new_rows, "cuts": runs,
                      "median_time_ratio_update_over_refit": round(time_ratio, 3),
                      "median_error_ratio_update_over_refit": round(error_ratio, 3),
                      "median_error_ratio_no_update_over_refit": round(no_update_ratio, 3)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
