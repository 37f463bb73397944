"""The command line: options -> specs -> one api call -> render; errors -> exit codes.

Start-up time is part of the interface: this module imports Typer and nothing heavy at
the top. NumPy, Numba, pandas, rich and `rnncast.api` are imported inside the commands,
so `rnncast --help` loads none of them and `rnncast predict` never loads training code
(nor pandas or pyarrow unless it reads new data or writes Parquet).

Exit codes: 0 success; 2 bad usage or bad input (every RnncastError, and Typer's usage
errors); 1 an internal error (a bug); 130 interrupted; 141 stdout closed early (a pipe).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from rnncast import __version__

# Pure-Python frozen dataclasses (no NumPy): their field defaults are the CLI's defaults.
from rnncast.config import NetSpec, TrainSpec, WindowSpec
from rnncast.errors import ConfigError, RnncastError

if TYPE_CHECKING:
    from rnncast.api import Model
    from rnncast.train import EpochReport

_DEBUG = "rnncast.debug"  # key in click's Context.meta, shared by every sub-context
_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


class Fill(str, Enum):
    """How missing values and timestamps are filled (rnncast.io.FILLS)."""

    interpolate = "interpolate"
    ffill = "ffill"
    error = "error"


class Scaler(str, Enum):
    """Per-series scaling (rnncast.config.SCALERS)."""

    standard = "standard"
    minmax = "minmax"
    none = "none"


class Cell(str, Enum):
    """Recurrent cell (rnncast.config.CELLS)."""

    lstm = "lstm"
    gru = "gru"
    rnn = "rnn"


class Loss(str, Enum):
    """Training loss (rnncast.config.LOSSES)."""

    mse = "mse"
    mae = "mae"
    huber = "huber"


class Norm(str, Enum):
    """Per-window re-centring (rnncast.features.NORMS)."""

    last = "last"
    mean = "mean"
    none = "none"


class Calendar(str, Enum):
    """Calendar features of the forecast steps (rnncast.features.CALENDARS)."""

    auto = "auto"
    none = "none"


class Format(str, Enum):
    """Forecast output format (rnncast.io.OUTPUT_FORMATS)."""

    csv = "csv"
    json = "json"
    parquet = "parquet"


app = typer.Typer(
    name="rnncast",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # rich help measured 0.21-0.36 s for --help; plain 0.13 s
    context_settings={"help_option_names": ["-h", "--help"]},
)


# ----------------------------------------------------------------------------- errors


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _say(line: str) -> None:
    """One plain line on stderr: no markup (rich would eat `[...]`), no colour."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # stderr closed (or None: started without fd 2): nowhere left to complain


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test runner's buffer): nothing to silence


class _ClosedStream:
    """Stands in for sys.stdin or sys.stdout when the process started with that fd closed.

    Python then sets the stream to None, and the first read or write would be an
    AttributeError (exit 1). Reading or writing this one is a user error instead (exit 2:
    `rnncast fit -` with stdin closed, `rnncast predict` with stdout closed); flushing it,
    as every command does at the end, is harmless.
    """

    def __init__(self, name: str, advice: str) -> None:
        self.message = f"{name} is closed; {advice}"

    @property
    def buffer(self) -> _ClosedStream:
        return self

    def read(self, *args: object) -> Any:
        raise ConfigError(self.message)

    write = readline = read

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


def _guard_standard_streams() -> None:
    """Reopen closed fds 0-2 on /dev/null and stand in for the None streams Python made of them.

    A closed fd 1 or 2 would otherwise be the number the next os.open returns, so a C
    library's stray write to "stdout" could land in the model file being written (cron
    jobs run with `>&-` and daemons with no fds at all do this).
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)  # the lowest free fd
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
    if sys.stdin is None:
        sys.stdin = _ClosedStream("stdin", "give the data file's path instead of '-'")  # type: ignore[assignment]
    if sys.stdout is None:
        sys.stdout = _ClosedStream(  # type: ignore[assignment]
            "stdout", "redirect it to a file or a pipe (predict also takes --output FILE)")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (for the process's lifetime; exit codes still tell)


@contextmanager
def _handled(ctx: typer.Context) -> Iterator[None]:
    """Turn every way a command can fail into one stderr line and an exit code."""
    debug = bool(ctx.meta.get(_DEBUG, False))
    try:
        yield
        sys.stdout.flush()  # inside the guard: a closed pipe surfaces here, not at exit
    except typer.Exit:
        raise
    except RnncastError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        _say(f"rnncast: error: {_one_line(exc)}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        _say("rnncast: interrupted")
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # The reader went away (`rnncast predict | head -1`): not an error worth a word.
        _silence_stdout()
        raise typer.Exit(141) from None
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
            _say(f"rnncast: internal error: {type(exc).__name__}: {_one_line(exc)}")
        else:
            _say(f"rnncast: internal error: {type(exc).__name__}: {_one_line(exc)} "
                 "(run with --debug for the traceback)")
        raise typer.Exit(1) from None


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


# ------------------------------------------------------------------------------- root


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"rnncast {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True, help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", help="On an error, also print the Python traceback.")] = False,
) -> None:
    """Forecast time series from a CSV or Parquet file with a small LSTM/GRU network.

    Fit a model once, then forecast from it as often as you like; forecasts go to
    stdout, messages to stderr. Exit codes: 0 done, 2 bad input or usage, 1 internal
    error, 130 interrupted.

    \b
    Example:
      rnncast fit prices.csv && rnncast predict > forecast.csv
    """
    ctx.meta[_DEBUG] = debug


# -------------------------------------------------------------------------------- fit


def _split_features(features: list[str] | None) -> tuple[str, ...]:
    names: list[str] = []
    for item in features or ():
        names.extend(part.strip() for part in item.split(",") if part.strip())
    return tuple(names)


def _default_output(data: str) -> Path:
    """The data file's stem + .rnncast, in the current folder ("model.rnncast" for stdin)."""
    if data == "-":
        return Path("model.rnncast")
    name = Path(data).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return Path((name or "model") + ".rnncast")


def _check_output(path: Path) -> None:
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


def _num(value: float | None) -> str:
    """Four significant digits, trailing zeros kept so columns line up: 0.007000, 4.040, 12.87."""
    return "-" if value is None else f"{value:#.4g}".rstrip(".")


class _PlainProgress:
    """One line per epoch on stderr: for logs, pipes and CI (no colour, no control characters)."""

    def __call__(self, report: EpochReport) -> None:
        _say(f"epoch {report.epoch}/{report.epochs}  train_loss {_num(report.train_loss)}  "
             f"val_loss {_num(report.val_loss)}  "
             f"{report.windows_per_s:,.0f} windows/s  {report.seconds:.1f} s")

    def __enter__(self) -> _PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class _RichProgress:
    """A live progress bar on a terminal's stderr."""

    def __init__(self, epochs: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("epoch {task.completed}/{task.total}"),
            BarColumn(),
            TextColumn("train_loss {task.fields[train]}"),
            TextColumn("val_loss {task.fields[val]}"),
            TextColumn("{task.fields[speed]} windows/s"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.task = self.progress.add_task("fit", total=epochs, train="-", val="-", speed="-")

    def __call__(self, report: EpochReport) -> None:
        self.progress.update(self.task, completed=report.epoch, train=_num(report.train_loss),
                             val=_num(report.val_loss),
                             speed=f"{report.windows_per_s:,.0f}")

    def __enter__(self) -> _RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _summary(model: Model, path: Path) -> list[tuple[str, str]]:
    """(label, value) rows: where the model went and how training went."""
    m = model.metrics
    rows = [("model", str(path))]
    epochs = f"{m.get('epochs_run', '?')} of {model.train.epochs}"
    if m.get("stopped_early"):
        epochs += " (stopped early)"
    rows += [("epochs", epochs), ("best epoch", str(m.get("best_epoch", "?")))]
    if "val_mae" in m:
        rows.append(("validation MAE", f"{_num(m['val_mae'])} (naive forecast {_num(m['naive_val_mae'])})"))
        rows.append(("validation RMSE", f"{_num(m['val_rmse'])} (naive forecast {_num(m['naive_val_rmse'])})"))
    else:
        rows.append(("validation", "none (--val-fraction 0)"))
    rows.append(("windows", f"{m.get('train_windows', 0):,} training, {m.get('val_windows', 0):,} validation"))
    rows.append(("training time", f"{m.get('train_seconds', 0.0):.1f} s"))
    return rows


def _print_summary(rows: list[tuple[str, str]], terminal: bool) -> None:
    if not terminal:
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            _say(f"{label:<{width}}  {value}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="rnncast fit", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    Console(stderr=True).print(table, markup=False, highlight=False)


@app.command()
def fit(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(
        metavar="DATA", help="CSV (.csv, .csv.gz) or Parquet file; '-' reads CSV from stdin.",
        show_default=False)],
    target: Annotated[Optional[str], typer.Option(metavar="NAME",
        help="Column to forecast. Default: the only numeric column left.", show_default=False)] = None,
    time_col: Annotated[Optional[str], typer.Option(metavar="NAME",
        help="Column of timestamps. Default: found by name (date, time, ...) or content.",
        show_default=False)] = None,
    id_col: Annotated[Optional[str], typer.Option(metavar="NAME",
        help="Column naming the series, for files holding several (long format).", show_default=False)] = None,
    features: Annotated[Optional[list[str]], typer.Option(metavar="NAMES",
        help="Extra input columns (covariates): a comma list, or repeat the option.", show_default=False)] = None,
    freq: Annotated[Optional[str], typer.Option(metavar="ALIAS",
        help="pandas frequency alias (D, B, h, W, MS, ...). Default: inferred.", show_default=False)] = None,
    fill: Annotated[Fill, typer.Option(help="How to fill missing values and gaps.")] = Fill.interpolate,
    lookback: Annotated[Optional[int], typer.Option(
        help="Steps of history the network sees. Default: by frequency (daily 56, hourly 168, ...).",
        show_default=False)] = None,
    horizon: Annotated[Optional[int], typer.Option(
        help="Steps to forecast. Default: by frequency (daily 14, hourly 24, ...).", show_default=False)] = None,
    val_fraction: Annotated[float, typer.Option(
        help="Share of each series' end held out for validation and early stopping (0: none).")
    ] = WindowSpec.val_fraction,
    scaler: Annotated[Scaler, typer.Option(help="Per-series scaling of every column.")] = Scaler(WindowSpec.scaler),
    norm: Annotated[Norm, typer.Option(
        help="Re-centre each input window on its last value or mean (forecasts are shifted back).")
    ] = Norm(WindowSpec.norm),
    patch: Annotated[int, typer.Option(
        help="Feed the lookback as steps of this many values (must divide --lookback).")] = WindowSpec.patch,
    highway: Annotated[bool, typer.Option(
        help="Let the output layer also read the input window directly (a linear skip path).")
    ] = WindowSpec.highway,
    calendar: Annotated[Calendar, typer.Option(
        help="auto: calendar features (hour, weekday, month as sin/cos) of the forecast steps.")
    ] = Calendar(WindowSpec.calendar),
    cell: Annotated[Cell, typer.Option(help="Recurrent cell.")] = Cell(NetSpec.cell),
    hidden: Annotated[int, typer.Option(help="Hidden units per layer.")] = NetSpec.hidden,
    layers: Annotated[int, typer.Option(help="Stacked recurrent layers.")] = NetSpec.layers,
    dropout: Annotated[float, typer.Option(help="Dropout between stacked layers.")] = NetSpec.dropout,
    loss: Annotated[Loss, typer.Option(help="Training loss.")] = Loss(TrainSpec.loss),
    lr: Annotated[float, typer.Option(help="Learning rate (Adam).")] = TrainSpec.lr,
    epochs: Annotated[int, typer.Option(help="Most epochs to train.")] = TrainSpec.epochs,
    batch_size: Annotated[int, typer.Option(help="Windows per batch.")] = TrainSpec.batch_size,
    weight_decay: Annotated[float, typer.Option(help="Decoupled weight decay (AdamW; 0: plain Adam).")
    ] = TrainSpec.weight_decay,
    clip: Annotated[float, typer.Option(help="Gradient-norm clipping (0: off).")] = TrainSpec.clip,
    patience: Annotated[int, typer.Option(
        help="Stop after this many epochs without a better validation loss (0: never).")] = TrainSpec.patience,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and data give the same weights.")
    ] = TrainSpec.seed,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Model file to write. Default: DATA's name + .rnncast in this folder.",
        show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Train a model on DATA and save it to one .rnncast file.

    Progress goes to stderr: a progress bar on a terminal, one line per epoch otherwise.
    Then a summary: where the model went and its validation error next to the naive
    forecast's (repeat the last value). The file is replaced atomically: an interrupted
    fit leaves the previous model as it was.

    \b
    Example:
      rnncast fit prices.csv --horizon 10 --epochs 30
      rnncast fit sales.csv --id-col store --target units --features price,promo -o sales.rnncast
      zcat prices.csv.gz | rnncast fit - --quiet -o prices.rnncast
    """
    with _handled(ctx):
        tspec = TrainSpec(loss=loss.value, lr=lr, epochs=epochs, batch_size=batch_size,
                          weight_decay=weight_decay, clip=clip, patience=patience, seed=seed)
        # Validate the rest before reading (maybe large) data; 1 stands in for "by frequency".
        WindowSpec(lookback=lookback or patch, horizon=horizon or 1, val_fraction=val_fraction,
                   scaler=scaler.value, norm=norm.value, patch=patch, highway=highway, calendar=calendar.value)
        NetSpec(cell=cell.value, hidden=hidden, layers=layers, dropout=dropout)
        for name, value in (("--lookback", lookback), ("--horizon", horizon)):
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        path = output if output is not None else _default_output(data)
        _check_output(path)

        from rnncast import api
        from rnncast.io import read_series

        series = read_series(data, target=target, time_col=time_col, id_col=id_col,
                             features=_split_features(features), freq=freq, fill=fill.value)
        terminal = _stderr_is_terminal()
        if series.filled > 0 and not quiet:
            _say(f"rnncast: filled {series.filled:,} missing values ({fill.value})")
        progress: Any = None
        if not quiet:
            progress = _RichProgress(tspec.epochs) if terminal else _PlainProgress()
        fit_args = dict(lookback=lookback, horizon=horizon, val_fraction=val_fraction, scaler=scaler.value,
                        norm=norm.value, patch=patch, highway=highway, calendar=calendar.value,
                        cell=cell.value, hidden=hidden, layers=layers, dropout=dropout, train=tspec)
        if progress is None:
            model = api.fit(series, **fit_args)
        else:
            with progress:
                model = api.fit(series, on_epoch=progress, **fit_args)
        api.save(model, path)
        if not quiet:
            _print_summary(_summary(model, path), terminal)


# ---------------------------------------------------------------------------- predict


def _find_model() -> Path:
    """The only *.rnncast file in the current folder, or a ConfigError saying what to do."""
    found = sorted(p for p in Path.cwd().glob("*.rnncast") if p.is_file() and not p.name.startswith("."))
    if not found:
        raise ConfigError("no model given and no *.rnncast file in this folder; pass MODEL or run `rnncast fit` first")
    if len(found) > 1:
        names = ", ".join(p.name for p in found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
        raise ConfigError(f"several models in this folder ({names}); pass the one to use as MODEL")
    return Path(found[0].name)


@app.command()
def predict(
    ctx: typer.Context,
    model: Annotated[Optional[Path], typer.Argument(
        metavar="MODEL", help="Model file from `rnncast fit`. Default: the only *.rnncast file here.",
        show_default=False)] = None,
    data: Annotated[Optional[str], typer.Option(metavar="PATH",
        help="Forecast from the end of this data (path, or '-' for CSV on stdin) instead of the "
             "history stored in the model. It needs the model's columns.", show_default=False)] = None,
    horizon: Annotated[Optional[int], typer.Option(
        help="Steps to forecast, up to the trained horizon. Default: the trained horizon.",
        show_default=False)] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.csv,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write here (atomically) instead of stdout.", show_default=False)] = None,
    level: Annotated[Optional[list[int]], typer.Option(
        metavar="PERCENT", help="Add a prediction interval at this level (1-99; repeat for several): "
        "columns lower_PERCENT, upper_PERCENT.", show_default=False)] = None,
    adapt: Annotated[bool, typer.Option(
        help="When --data goes past the fit, widen or narrow the intervals by how often they missed "
             "on the new rows.")] = True,
) -> None:
    """Forecast the next steps of every series and write them to stdout (or --output).

    Columns: the id column (for models fitted with --id-col), timestamp, forecast, and
    lower_L/upper_L per --level L. Timestamps continue each series at its frequency, in
    the data's time zone. Intervals were calibrated at fit time on validation errors;
    with --data newer than the fit they follow their misses on the new rows.

    \b
    Example:
      rnncast predict prices.rnncast > forecast.csv
      rnncast predict prices.rnncast --data latest.csv --format json
      rnncast predict sales.rnncast --format parquet -o forecast.parquet
      rnncast predict prices.rnncast --level 80 --level 95
    """
    with _handled(ctx):
        to_stdout = output is None or str(output) == "-"
        if fmt is Format.parquet and to_stdout and _stdout_is_terminal():
            raise ConfigError("Parquet is binary and stdout is a terminal; use --output FILE (or redirect stdout)")
        if model is None:
            model = _find_model()
            _say(f"using model {model}")

        from rnncast import api
        from rnncast.io import write_forecast

        loaded = api.load(model)
        notes: list[str] = []
        table = api.forecast(loaded, data, horizon=horizon, levels=level or (), adapt=adapt, notes=notes)
        for note in notes:
            _say(note)
        if to_stdout:
            sys.stdout.flush()
            write_forecast(table, fmt.value, sys.stdout.buffer, tz=loaded.tz)
        else:
            write_forecast(table, fmt.value, output, tz=loaded.tz)


# --------------------------------------------------------------------------- backtest


def _backtest_options(
    folds: Annotated[int, typer.Option(help="Forecast origins per series, the last at the end of the data.")] = 3,
    step: Annotated[Optional[int], typer.Option(
        help="Rows between origins. Default: the horizon.", show_default=False)] = None,
    test_size: Annotated[Optional[int], typer.Option(
        help="Instead of --folds: as many origins as fit in the last N rows of each series.",
        show_default=False)] = None,
    refit: Annotated[bool, typer.Option(
        help="Fit again for every fold, or once before the earliest origin.")] = True,
    season: Annotated[Optional[int], typer.Option(
        help="Season length for seasonal naive and MASE. Default: by frequency (daily 7, hourly 24, ...).",
        show_default=False)] = None,
    level: Annotated[Optional[list[int]], typer.Option(
        metavar="PERCENT", help="Interval levels whose coverage and width to report. Default: 80 and 95.",
        show_default=False)] = None,
    adapt: Annotated[bool, typer.Option(
        help="With --no-refit, later folds' intervals follow their misses on the rows since the fit, "
             "as predict --data does.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print every fold's numbers as JSON on stdout.")] = False,
    report: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Also write every fold's numbers as JSON to this file.", show_default=False)] = None,
) -> None:
    """Options of `backtest` beyond `fit`'s (their signature is merged below)."""


def backtest(ctx: typer.Context, **options: Any) -> None:
    """Rolling-origin evaluation: rnncast beside naive, seasonal-naive and drift forecasts.

    Every series is cut at --folds origins --step rows apart at its end; the model (fitted
    with the same options as `fit`) and the baselines see only the rows before each
    origin and forecast the --horizon rows after it. Reports MAE, RMSE, MAPE, sMAPE, MASE
    and interval coverage and width per method; the best method per metric is marked.

    \b
    Example:
      rnncast backtest prices.csv --folds 5 --horizon 10
      rnncast backtest sales.csv --id-col store --no-refit --json > backtest.json
    """
    with _handled(ctx):
        from rnncast import api
        from rnncast.io import read_series

        bt = {name: options.pop(name) for name in _BACKTEST_ONLY}
        tspec = TrainSpec(loss=options.pop("loss").value, lr=options.pop("lr"), epochs=options.pop("epochs"),
                          batch_size=options.pop("batch_size"), weight_decay=options.pop("weight_decay"),
                          clip=options.pop("clip"), patience=options.pop("patience"), seed=options.pop("seed"))
        series = read_series(options.pop("data"), target=options.pop("target"), time_col=options.pop("time_col"),
                             id_col=options.pop("id_col"), features=_split_features(options.pop("features")),
                             freq=options.pop("freq"), fill=options.pop("fill").value)
        fit_args = {k: (v.value if isinstance(v, Enum) else v) for k, v in options.items()}
        levels = bt["level"] or [80, 95]
        result = api.backtest(series, folds=bt["folds"], step=bt["step"], test_size=bt["test_size"],
                              refit=bt["refit"], season=bt["season"], levels=levels, adapt=bt["adapt"],
                              train=tspec, **fit_args)
        document = {"settings": result.settings, "summary": result.summary, "notes": result.notes,
                    "rows": result.rows}
        if bt["report"] is not None:
            from rnncast.atomic import atomic_write
            import json

            atomic_write(bt["report"], [json.dumps(document, indent=2).encode()], error=ConfigError,
                         what="backtest report")
        if bt["as_json"]:
            import json

            sys.stdout.write(json.dumps(document, indent=2) + "\n")
            return
        _print_backtest(result, _stdout_is_terminal())


def _print_backtest(result: Any, terminal: bool) -> None:
    """The summary table: one row per method, the best value per metric marked with *."""
    metrics = [k for k in result.summary["rnncast"] if result.summary["rnncast"][k] is not None
               or any(result.summary[m].get(k) is not None for m in result.summary)]
    best: dict[str, str] = {}
    for key in metrics:
        if key.startswith(("coverage", "width")):
            continue
        scored = [(v, m) for m, row in result.summary.items() if (v := row.get(key)) is not None]
        if scored:
            best[key] = min(scored)[1]
    header = ["method"] + metrics
    lines = []
    for method, row in result.summary.items():
        cells = [method]
        for key in metrics:
            value = row.get(key)
            text = "-" if value is None else f"{value:.4g}"
            cells.append(text + ("*" if best.get(key) == method else ""))
        lines.append(cells)
    if terminal:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="rnncast backtest (* best)", title_justify="left")
        for name in header:
            table.add_column(name)
        for cells in lines:
            table.add_row(*cells)
        Console().print(table, markup=False, highlight=False)
    else:
        widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]
        for cells in [header] + lines:
            sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() + "\n")
    for note in result.notes:
        _say(f"rnncast: note: {note}")


def _merge_backtest_signature() -> None:
    """backtest takes every `fit` option (but --output/--quiet) plus its own: one list, no copy."""
    import inspect

    fit_params = [p for name, p in inspect.signature(fit, eval_str=True).parameters.items()
                  if name not in ("output", "quiet")]
    own = list(inspect.signature(_backtest_options, eval_str=True).parameters.values())
    backtest.__signature__ = inspect.Signature(fit_params + own)  # type: ignore[attr-defined]
    backtest.__annotations__ = {p.name: p.annotation for p in fit_params + own}


_BACKTEST_ONLY = ("folds", "step", "test_size", "refit", "season", "level", "adapt", "as_json", "report")
_merge_backtest_signature()
app.command()(backtest)


# ------------------------------------------------------------------------------- info


def _plain_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain_value(v) for v in value) if value else "none"
    return str(value)


def _plain_lines(info: dict[str, Any], indent: str = "") -> Iterator[str]:
    for key, value in info.items():
        if isinstance(value, dict):
            yield f"{indent}{key}:"
            yield from _plain_lines(value, indent + "  ")
        else:
            yield f"{indent}{key}: {_plain_value(value)}"


def _rich_info(info: dict[str, Any], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()

    def rows(section: dict[str, Any], indent: str) -> None:
        for key, item in section.items():
            if isinstance(item, dict):
                table.add_row(f"{indent}{key}", "")
                rows(item, indent + "  ")
            else:
                table.add_row(f"{indent}{key}", _plain_value(item))

    for key, value in info.items():
        if isinstance(value, dict):
            table.add_section()
            table.add_row(key, "", style="cyan")
            rows(value, "  ")
            table.add_section()
        else:
            table.add_row(key, _plain_value(value))
    Console().print(table, markup=False, highlight=False)


@app.command()
def info(
    ctx: typer.Context,
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="Model file from `rnncast fit`.",
                                          show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Show what a model file holds: network, window, training, columns, series and metrics.

    \b
    Example:
      rnncast info prices.rnncast
      rnncast info prices.rnncast --json | jq .metrics
    """
    with _handled(ctx):
        from rnncast import api

        described = api.describe(api.load(model))
        if as_json:
            import json

            sys.stdout.write(json.dumps(described, indent=2, ensure_ascii=False) + "\n")
        elif _stdout_is_terminal():
            _rich_info(described, str(model))
        else:
            sys.stdout.write(f"model: {model}\n" + "\n".join(_plain_lines(described)) + "\n")


def main() -> None:
    """The `rnncast` console script and `python -m rnncast`."""
    _guard_standard_streams()
    try:
        app(prog_name="rnncast")
    except RnncastError as exc:  # outside any command, e.g. `rnncast --help >&-`
        _say(f"rnncast: error: {_one_line(exc)}")
        sys.exit(2)
