"""The commands' options, each declared once with its help text, and the files they name.

Every option is an `Annotated` alias: `fit` and `backtest` list the same aliases, so a
help text, a choice list (rnncast.config's Literal types) or a default lives in one place.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from rnncast.config import (
    Calendar,
    Cell,
    Combine,
    Fill,
    Loss,
    NetSpec,
    Norm,
    OutputFormat,
    ReadSpec,
    Scaler,
    TrainSpec,
    Transform,
    WindowSpec,
)
from rnncast.errors import ConfigError

_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")

# ------------------------------------------------------------------ reading the data

Data = Annotated[str, typer.Argument(
    metavar="DATA", help="CSV (.csv, .csv.gz) or Parquet file, or a folder or glob of them (hive-partitioned "
    "folders too); '-' reads CSV from stdin.", show_default=False)]
Target = Annotated[Optional[str], typer.Option(
    metavar="NAME", help="Column to forecast. Default: the only numeric column left.", show_default=False)]
TimeCol = Annotated[Optional[str], typer.Option(
    metavar="NAME", help="Column of timestamps. Default: found by name (date, time, ...) or content.",
    show_default=False)]
IdCol = Annotated[Optional[str], typer.Option(
    metavar="NAME", help="Column naming the series, for files holding several (long format).", show_default=False)]
Features = Annotated[Optional[list[str]], typer.Option(
    metavar="NAMES", help="Extra input columns (covariates): a comma list, or repeat the option.",
    show_default=False)]
Known = Annotated[Optional[list[str]], typer.Option(
    metavar="NAMES", help="Columns known in advance (planned promotions, prices, weather forecasts): read over "
    "the lookback and the forecast steps, so predict needs their future values. Comma list or repeat.",
    show_default=False)]
Static = Annotated[Optional[list[str]], typer.Option(
    metavar="NAMES", help="Per-series attributes, one value per series (store type, region): text columns "
    "are categories, numbers are scaled. Comma list or repeat.", show_default=False)]
By = Annotated[Optional[str], typer.Option(
    metavar="NAME", help="Fit one model per value of this column (a region, a store type), each on its group's "
    "series alone as if they were the whole file, all in the one model file. Needs --id-col; one value per "
    "series.", show_default=False)]
Holidays = Annotated[Optional[str], typer.Option(
    metavar="CODE", help="Public holidays of a country or region (US, GB, DE-BY) as a known input; "
    "stored in the model, so predict needs nothing more.", show_default=False)]
Freq = Annotated[Optional[str], typer.Option(
    metavar="ALIAS", help="pandas frequency alias (D, B, h, W, MS, ...). Default: inferred.", show_default=False)]
FillOption = Annotated[Fill, typer.Option(help="How to fill missing values and gaps.")]

# ------------------------------------------------------------------------ the window

Lookback = Annotated[Optional[int], typer.Option(
    help="Steps of history the network sees. Default: by frequency (daily 56, hourly 168, ...).",
    show_default=False)]
Horizon = Annotated[Optional[int], typer.Option(
    help="Steps to forecast. Default: by frequency (daily 14, hourly 24, ...).", show_default=False)]
ValFraction = Annotated[float, typer.Option(
    help="Share of each series' end held out for validation and early stopping (0: none).")]
ScalerOption = Annotated[Scaler, typer.Option(
    help="Per-series scaling of every column. diff: as standard, but the target is scaled by its mean "
    "one-step change (MASE's scale). auto: diff for yearly data, where it measured better on M3; standard "
    "elsewhere.")]
TransformOption = Annotated[Transform, typer.Option(
    help="Learn the log of the target (relative changes; for positive series whose seasons grow with their "
    "level) or the target itself. auto: log when every value is positive and the data is monthly or "
    "quarterly, where it measured better on M3.")]
CombineOption = Annotated[Combine, typer.Option(
    help="theta: forecast a blend of the network and the Theta method, weighted by their errors on the "
    "validation windows (their errors differ: on M3 monthly and quarterly the blend beats both); damped: the "
    "same with Holt's damped-trend smoothing. "
    "comb: with the mean of the two. otheta, ocomb: as theta and comb with the dynamic optimised Theta method "
    "(theta coefficient and smoothing chosen per series). linear: with a linear map of the lookback "
    "solved in closed form (ridge over the re-centred lookback, as NLinear; least squares or Huber-weighted, "
    "as validation chooses). auto: theta for monthly and "
    "quarterly data, for yearly damped unless the validation windows clearly favour ocomb or otheta (M3), "
    "linear for hourly (ETT), where each was measured; none: the network alone.")]
NormOption = Annotated[Norm, typer.Option(
    help="Re-centre each input window on its last value or mean (forecasts are shifted back).")]
Patch = Annotated[Optional[int], typer.Option(
    help="Feed the lookback as steps of this many values (must divide --lookback). Default: by frequency, "
    "24 on hourly data (a day a step, where it divides the lookback into at least 4; on ETTh1 and ETTh2 "
    "within 0.0001 MSE of single hours or better, fitted several times faster), else 1.", show_default=False)]
Highway = Annotated[bool, typer.Option(
    help="Let the output layer also read the input window directly (a linear skip path).")]
CalendarOption = Annotated[Calendar, typer.Option(
    help="auto: calendar features (hour, weekday, month as sin/cos) of the forecast steps.")]

# ----------------------------------------------------------------- network, training

CellOption = Annotated[Cell, typer.Option(help="Recurrent cell.")]
Hidden = Annotated[int, typer.Option(help="Hidden units per layer.")]
Layers = Annotated[int, typer.Option(help="Stacked recurrent layers.")]
Dropout = Annotated[float, typer.Option(help="Dropout between stacked layers.")]
LossOption = Annotated[Loss, typer.Option(help="Training loss.")]
Lr = Annotated[float, typer.Option(help="Learning rate (Adam).")]
Epochs = Annotated[int, typer.Option(help="Most epochs to train.")]
BatchSize = Annotated[int, typer.Option(help="Windows per batch.")]
WeightDecay = Annotated[float, typer.Option(help="Decoupled weight decay (AdamW; 0: plain Adam).")]
Clip = Annotated[float, typer.Option(help="Gradient-norm clipping (0: off).")]
Patience = Annotated[int, typer.Option(help="Stop after this many epochs without a better validation loss (0: never).")]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed and data give the same weights.")]
RefitAll = Annotated[bool, typer.Option(
    "--refit-all/--no-refit-all", help="After early stopping, train again on every row (the validation rows are the "
    "newest) for the best epoch count; the reported validation error and the intervals stay the first fit's.")]
WindowsPerEpoch = Annotated[int, typer.Option(
    help="Windows sampled per epoch, and validation windows read for early stopping (0: all of them).")]

# --------------------------------------------------------------- forecasts, reports

ModelPath = Annotated[Optional[Path], typer.Argument(
    metavar="MODEL", help="Model file from `rnncast fit`. Default: the only *.rnncast file here.",
    show_default=False)]
ModelOutput = Annotated[Optional[Path], typer.Option(
    "--output", "-o", help="Model file to write. Default: DATA's name + .rnncast in this folder.",
    show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
NewData = Annotated[Optional[str], typer.Option(
    metavar="PATH", help="Forecast from the end of this data (path, or '-' for CSV on stdin) instead of the "
    "history stored in the model. It needs the model's columns.", show_default=False)]
Future = Annotated[Optional[str], typer.Option(
    metavar="PATH", help="Values of the model's --known columns at the forecast steps (its time, id and known "
    "columns; '-' for stdin), instead of rows after the history in --data.", show_default=False)]
PredictHorizon = Annotated[Optional[int], typer.Option(
    "--horizon", help="Steps to forecast, up to the trained horizon. Default: the trained horizon.",
    show_default=False)]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
ForecastOutput = Annotated[Optional[Path], typer.Option(
    "--output", "-o", help="Write here (atomically) instead of stdout. With a folder or glob as --data, a folder: "
    "one Parquet file per input file, at the same relative path; a rerun redoes only the files missing or out "
    "of date.", show_default=False)]
Scheduler = Annotated[Optional[str], typer.Option(
    metavar="ADDRESS", help="Run the work file by file on Dask: local:N (N worker processes on this machine, "
    "started and stopped by rnncast) or tcp://HOST:PORT (a running cluster whose workers see the same files). "
    "Needs pip install 'rnncast[dask]'.", show_default=False)]
Levels = Annotated[Optional[list[int]], typer.Option(
    "--level", metavar="PERCENT", help="Add a prediction interval at this level (1-99; repeat for several): "
    "columns lower_PERCENT, upper_PERCENT.", show_default=False)]
Adapt = Annotated[bool, typer.Option(
    "--adapt/--no-adapt", help="When --data goes past the fit, widen or narrow the intervals by how often they "
    "missed on the new rows.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
UpdateModel = Annotated[Path, typer.Argument(metavar="MODEL", help="Model file to update.", show_default=False)]
UpdateData = Annotated[str, typer.Argument(
    metavar="DATA", help="The model's series with rows newer than the fit (it may hold the old rows too); '-' for "
    "CSV on stdin.", show_default=False)]
UpdateEpochs = Annotated[Optional[int], typer.Option(
    "--epochs", help="Epochs on the new windows and as many older ones. Default: 5.", show_default=False)]
UpdateOutput = Annotated[Optional[Path], typer.Option(
    "--output", "-o", help="Write the updated model here. Default: replace MODEL (atomically).", show_default=False)]
SeriesIds = Annotated[Optional[list[str]], typer.Option(
    "--series", metavar="ID", help="Draw this series (repeat for several). Default: the first 6.", show_default=False)]
PlotBacktest = Annotated[int, typer.Option(
    "--backtest", metavar="FOLDS", help="Also draw the model's forecasts (no refit) from FOLDS earlier origins, a "
    "horizon apart, against the actuals of --data (0: none).")]
PlotLevel = Annotated[int, typer.Option("--level", metavar="PERCENT", help="The interval band to draw (1-99).")]
PlotOutput = Annotated[Optional[Path], typer.Option(
    "--output", "-o", help="Write the picture here: .png, .svg or .html. Default: draw it in the terminal.",
    show_default=False)]

# ------------------------------------------------------------------------ backtests

Folds = Annotated[int, typer.Option(help="Forecast origins per series, the last at the end of the data.")]
Step = Annotated[Optional[int], typer.Option(help="Rows between origins. Default: the horizon.", show_default=False)]
TestSize = Annotated[Optional[int], typer.Option(
    help="Instead of --folds: as many origins as fit in the last N rows of each series.", show_default=False)]
Refit = Annotated[bool, typer.Option(help="Fit again for every fold, or once before the earliest origin.")]
Season = Annotated[Optional[int], typer.Option(
    help="Season length for seasonal naive and MASE. Default: by frequency (daily 7, hourly 24, ...).",
    show_default=False)]
BacktestLevels = Annotated[Optional[list[int]], typer.Option(
    "--level", metavar="PERCENT", help="Interval levels whose coverage and width to report. Default: 80 and 95.",
    show_default=False)]
BacktestAdapt = Annotated[bool, typer.Option(
    "--adapt/--no-adapt", help="With --no-refit, later folds' intervals follow their misses on the rows since "
    "the fit, as predict --data does.")]
BacktestJson = Annotated[bool, typer.Option("--json", help="Print every fold's numbers as JSON on stdout.")]
Report = Annotated[Optional[Path], typer.Option(
    "--output", "-o", help="Also write every fold's numbers as JSON to this file. With a folder or glob as "
    "DATA, a folder: each input file's rows as a Parquet file at the same relative path, and the settings, "
    "summary and notes in _summary.json.", show_default=False)]


def read_spec(target: str | None, time_col: str | None, id_col: str | None, features: list[str] | None,
              freq: str | None, fill: Fill, known: list[str] | None = None,
              static: list[str] | None = None, by: str | None = None) -> ReadSpec:
    """The ReadSpec of the reading options; --features, --known and --static take comma lists and repeats."""
    return ReadSpec(target=target, time_col=time_col, id_col=id_col, features=_names(features), freq=freq,
                    fill=fill, known=_names(known), static=_names(static), by=by)


def _names(items: list[str] | None) -> tuple[str, ...]:
    return tuple(part.strip() for item in items or () for part in item.split(",") if part.strip())


def default_output(data: str) -> Path:
    """The data file's stem + .rnncast, in the current folder ("model.rnncast" for stdin)."""
    if data == "-":
        return Path("model.rnncast")
    path = Path(data)
    while any(c in path.name for c in "*?[") and path.name:  # a glob: the folder it looks in
        path = path.parent
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return Path((name or "model") + ".rnncast")


def check_output(path: Path) -> None:
    """Fail before training, not after, when the model could not be written."""
    if path.is_dir():
        raise ConfigError(f"cannot write the model to {path}: it is a folder; give a file name with -o")
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"cannot write the model to {path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        if os.statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 0):  # as rnncast.atomic words it
            raise ConfigError(f"cannot write the model to {path}: the folder is on a read-only file system; "
                              "choose another folder")
        raise ConfigError(f"cannot write the model to {path}: permission denied; choose a folder you can write to")


def find_model() -> Path:
    """The only *.rnncast file in the current folder, or a ConfigError saying what to do."""
    found = sorted(p for p in Path.cwd().glob("*.rnncast") if p.is_file() and not p.name.startswith("."))
    if not found:
        raise ConfigError("no model given and no *.rnncast file in this folder; pass MODEL or run `rnncast fit` first")
    if len(found) > 1:
        names = ", ".join(p.name for p in found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
        raise ConfigError(f"several models in this folder ({names}); pass the one to use as MODEL")
    return Path(found[0].name)


def specs(options: dict[str, Any]) -> tuple[WindowSpec, NetSpec, TrainSpec]:
    """The window, network and training specs of a command's options (its locals()), by field name.

    `fit` and `backtest` take the same options under the specs' own field names, so each
    spec is built here, once, and validated before any data is read.
    """
    def pick(cls: Any, exclude: tuple[str, ...] = ()) -> Any:
        return cls(**{f.name: options[f.name] for f in fields(cls) if f.name in options and f.name not in exclude})

    train = pick(TrainSpec)  # checked first, then the window, then the network, as the options are listed
    window = pick(WindowSpec)
    # The network's horizon follows the window's once the frequency is known.
    return window, pick(NetSpec, exclude=("horizon",)), train
