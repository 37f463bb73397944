"""Scale: fit and predict 1,000 daily series of 2,000 rows (2 million CSV rows) within a memory budget.

Generates big.csv in a temporary folder (long format: date, series, value), then runs,
each in its own process under /usr/bin/time -v,

    rnncast fit big.csv --id-col series --epochs 1 -o big.rnncast
    rnncast predict big.rnncast -o forecast.csv

and reports wall time and peak resident memory (Maximum resident set size) of each, that
predict wrote series x horizon rows, and whether the peaks stayed within the budget.
With --parquet-parts N the panel is a folder of N Parquet files, and predict goes file by
file to a folder of Parquet forecasts (`predict big.rnncast --data big -o forecasts`, on
Dask with --scheduler local:W); --backtest adds `backtest big -o scores` (file by file,
fold models fitted on everything). Fit's windows/s: windows trained (sampled epochs and
the final phase) over its training seconds. Prints JSON. Needs GNU time
(`apt-get install -y time`).

Example:
    python benchmarks/scale.py --budget-gib 4
    python benchmarks/scale.py --series 100 --rows 500   # a quick look
    python benchmarks/scale.py --series 100000 --rows 500 --parquet-parts 20 --epochs 0
    python benchmarks/scale.py --series 10000 --rows 500 --parquet-parts 10 --epochs 0 --backtest
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GNU_TIME = "/usr/bin/time"


def write_csv(path: Path, series: int, rows: int, seed: int = 0) -> float:
    """Long-format daily CSV, `series` x `rows` rows, in blocks; returns seconds taken."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    dates = np.datetime_as_string(np.datetime64("2015-01-01") + np.arange(rows), unit="D")
    t = np.arange(rows)
    with path.open("w", encoding="utf-8") as f:
        f.write("date,series,value\n")
        for s in range(series):
            level = rng.uniform(10, 1000)
            values = (level * (1 + 0.1 * np.sin(2 * np.pi * t / 7 + s) + 0.001 * t)
                      + np.cumsum(rng.normal(scale=0.01 * level, size=rows)))
            name = f"s{s:04d}"
            f.write("".join(f"{d},{name},{v:.4f}\n" for d, v in zip(dates, values.tolist())))
    return time.perf_counter() - started


def write_parquet_parts(folder: Path, series: int, rows: int, parts: int, seed: int = 0) -> float:
    """The same panel as partitioned Parquet: `parts` files of whole series (part-00000.parquet, ...)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    dates = np.datetime64("2015-01-01", "ns") + np.arange(rows) * np.timedelta64(1, "D")
    t = np.arange(rows)
    for part, chunk in enumerate(np.array_split(np.arange(series), parts)):
        level = rng.uniform(10, 1000, len(chunk))[:, None]
        values = (level * (1 + 0.1 * np.sin(2 * np.pi * t / 7 + chunk[:, None]) + 0.001 * t)
                  + np.cumsum(rng.normal(size=(len(chunk), rows)), axis=1) * 0.01 * level)
        names = np.repeat(np.array([f"s{s:06d}" for s in chunk]), rows)
        table = pa.table({"date": np.tile(dates, len(chunk)), "series": names, "value": values.reshape(-1)})
        pq.write_table(table, folder / f"part-{part:05d}.parquet")
    return time.perf_counter() - started


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> dict:
    """Run `command` under GNU time -v: exit code, wall seconds, peak RSS (MiB), stderr tail."""
    result = subprocess.run([GNU_TIME, "-v", *command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    report = result.stderr
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", report)
    seconds = None
    if wall:
        seconds = 0.0
        for part in wall.group(1).split(":"):
            seconds = seconds * 60 + float(part)
    tool_lines = [line for line in report.splitlines() if not line.startswith("\t")
                  and not line.startswith("Command exited")]
    return {
        "exit_code": result.returncode,
        "wall_s": round(seconds, 2) if seconds is not None else None,
        "peak_rss_mib": round(int(peak.group(1)) / 1024, 1) if peak else None,
        "messages": tool_lines[-12:],
    }


def _parquet_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.rglob("*.parquet"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=2000, help="rows per series")
    parser.add_argument("--epochs", type=int, default=1, help="0: fit's default (early stopping)")
    parser.add_argument("--parquet-parts", type=int, default=0,
                        help="write the panel as a folder of this many Parquet files instead of one CSV")
    parser.add_argument("--budget-gib", type=float, default=4.0, help="peak RSS budget per process")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the files here (default: a temp folder)")
    parser.add_argument("--scheduler", default=None, help="with --parquet-parts: predict (and backtest) on Dask")
    parser.add_argument("--backtest", action="store_true", help="with --parquet-parts: also backtest, file by file")
    args = parser.parse_args()
    if not Path(GNU_TIME).exists():
        sys.exit(f"{GNU_TIME} not found: apt-get install -y time")

    folder = args.workdir or Path(tempfile.mkdtemp(prefix="rnncast-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    rnncast = [sys.executable, "-m", "rnncast"]
    try:
        if args.parquet_parts:
            data = folder / "big"
            generate_s = write_parquet_parts(data, args.series, args.rows, args.parquet_parts)
            size = sum(p.stat().st_size for p in data.iterdir())
        else:
            data = folder / "big.csv"
            generate_s = write_csv(data, args.series, args.rows)
            size = data.stat().st_size
        epochs = ["--epochs", str(args.epochs)] if args.epochs else []
        fit = timed([*rnncast, "fit", data.name, "--id-col", "series", *epochs, "-o", "big.rnncast"], folder, env)
        out = {"series": args.series, "rows_per_series": args.rows, "csv_rows": args.series * args.rows,
               "data_mib": round(size / 2**20, 1), "parquet_parts": args.parquet_parts,
               "generate_s": round(generate_s, 1), "fit": fit}
        if fit["exit_code"] == 0:
            described = subprocess.run([*rnncast, "info", "big.rnncast", "--json"], cwd=folder, env=env,
                                       capture_output=True, text=True, check=True)
            info = json.loads(described.stdout)
            horizon = info["window"]["horizon"]
            out["model"] = {"lookback": info["window"]["lookback"], "horizon": horizon,
                            "hidden": info["network"]["hidden"], "train_windows": info["metrics"]["train_windows"],
                            "val_windows": info["metrics"]["val_windows"],
                            "train_seconds": info["metrics"]["train_seconds"],
                            "file_mib": round((folder / "big.rnncast").stat().st_size / 2**20, 2)}
            metrics = info["metrics"]
            cap = info["training"]["windows_per_epoch"] or 10**18
            refit_epochs = metrics["best_epoch"] if metrics["refit_windows"] else 0
            trained = (min(cap, metrics["train_windows"]) * metrics["epochs_run"]
                       + min(cap, metrics["refit_windows"]) * refit_epochs)
            out["model"]["windows_trained"] = trained
            out["model"]["windows_per_s"] = round(trained / max(metrics["train_seconds"], 1e-9))
            scheduler = ["--scheduler", args.scheduler] if args.scheduler else []
            if args.parquet_parts:
                predict = timed([*rnncast, "predict", "big.rnncast", "--data", data.name, "-o", "forecasts",
                                 *scheduler], folder, env)
                written = _parquet_rows(folder / "forecasts") if predict["exit_code"] == 0 else 0
            else:
                predict = timed([*rnncast, "predict", "big.rnncast", "-o", "forecast.csv"], folder, env)
                written = sum(1 for _ in (folder / "forecast.csv").open()) - 1 if predict["exit_code"] == 0 else 0
            if predict["exit_code"] == 0:
                predict["rows_written"] = written
                predict["rows_expected"] = args.series * horizon
                predict["rows_ok"] = written == args.series * horizon
            out["predict"] = predict
            if args.backtest and args.parquet_parts:
                backtest = timed([*rnncast, "backtest", data.name, "--id-col", "series", *epochs, "-o", "scores",
                                  *scheduler], folder, env)
                if backtest["exit_code"] == 0:
                    summary = json.loads((folder / "scores" / "_summary.json").read_text())
                    backtest["rows_written"] = _parquet_rows(folder / "scores")
                    backtest["settings"] = summary["settings"]
                    backtest["mase"] = {m: round(v["mase"], 4) for m, v in summary["summary"].items()
                                        if v.get("mase") is not None}
                out["backtest"] = backtest
        budget_mib = args.budget_gib * 1024
        runs = [out.get(name) for name in ("fit", "predict", "backtest") if out.get(name)]
        peaks = [p["peak_rss_mib"] for p in runs if p["peak_rss_mib"]]
        out["budget_gib"] = args.budget_gib
        out["budget_held"] = bool(peaks) and max(peaks) <= budget_mib and all(p["exit_code"] == 0 for p in runs)
        print(json.dumps(out, indent=2))
    finally:
        if args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
