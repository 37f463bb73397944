"""The commands: options in, specs built once, one rnncast.api call, the result rendered.

Start-up time is part of the interface: NumPy, Numba, pandas, rich and `rnncast.api` are
imported inside the commands, so `rnncast --help` loads none of them and `rnncast predict`
never loads training code (nor pandas or pyarrow unless it reads new data or writes Parquet).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from rnncast.cli import byfile, render, streams
from rnncast.cli.helpformat import HelpCommand
from rnncast.cli.options import (
    Adapt,
    BacktestAdapt,
    BacktestJson,
    BacktestLevels,
    BatchSize,
    By,
    CalendarOption,
    CellOption,
    Clip,
    CombineOption,
    Data,
    Dropout,
    Epochs,
    Features,
    FillOption,
    Folds,
    ForecastOutput,
    FormatOption,
    Freq,
    Future,
    Hidden,
    Highway,
    Holidays,
    Horizon,
    IdCol,
    Json,
    Known,
    Layers,
    Levels,
    Lookback,
    LossOption,
    Lr,
    ModelOutput,
    ModelPath,
    NewData,
    NormOption,
    Patch,
    Patience,
    PlotBacktest,
    PlotLevel,
    PlotOutput,
    PredictHorizon,
    Quiet,
    Refit,
    RefitAll,
    Report,
    ScalerOption,
    Scheduler,
    Season,
    Seed,
    SeriesIds,
    Static,
    Step,
    Target,
    TestSize,
    TimeCol,
    TransformOption,
    UpdateData,
    UpdateEpochs,
    UpdateModel,
    UpdateOutput,
    ValFraction,
    WeightDecay,
    WindowsPerEpoch,
    check_output,
    default_output,
    find_model,
    read_spec,
    specs,
)
from rnncast.cli.usage import Commands
from rnncast.config import BacktestSpec, NetSpec, TrainSpec, WindowSpec
from rnncast.errors import ConfigError
from rnncast.version import __version__

# Said once, before the first fit of a cell on a machine, which is otherwise silent while Numba compiles.
FIRST_COMPILE = ("rnncast: compiling the training kernels for this machine (first run only; "
                 "usually 5 to 15 s, then under a second)")

app = typer.Typer(
    name="rnncast",
    cls=Commands,  # usage errors in rnncast's one-line form (rnncast.cli.usage)
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh and fish
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # rich help measured 0.21-0.36 s for --help; plain 0.13 s
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"rnncast {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option(
        "--version", "-V", callback=_show_version, is_eager=True, help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", help="On an error, also print the Python traceback.")] = False,
) -> None:
    """Forecast time series from a CSV or Parquet file with a small LSTM/GRU network.

    Fit a model once, then forecast from it as often as you like; forecasts go to
    stdout, messages to stderr. Exit codes: 0 done, 2 bad input or usage, 1 internal
    error, 130 interrupted, 141 stdout closed early, 143 terminated (SIGTERM).

    \b
    Example:
      rnncast fit prices.csv && rnncast predict > forecast.csv
    """
    ctx.meta[streams.DEBUG] = debug


@app.command(cls=HelpCommand)
def fit(
    ctx: typer.Context,
    data: Data,
    target: Target = None,
    time_col: TimeCol = None,
    id_col: IdCol = None,
    features: Features = None,
    known: Known = None,
    static: Static = None,
    by: By = None,
    holidays: Holidays = None,
    freq: Freq = None,
    fill: FillOption = "interpolate",
    lookback: Lookback = None,
    horizon: Horizon = None,
    val_fraction: ValFraction = WindowSpec.val_fraction,
    scaler: ScalerOption = WindowSpec.scaler,
    transform: TransformOption = WindowSpec.transform,
    combine: CombineOption = WindowSpec.combine,
    norm: NormOption = WindowSpec.norm,
    patch: Patch = WindowSpec.patch,
    highway: Highway = WindowSpec.highway,
    calendar: CalendarOption = WindowSpec.calendar,
    cell: CellOption = NetSpec.cell,
    hidden: Hidden = NetSpec.hidden,
    layers: Layers = NetSpec.layers,
    dropout: Dropout = NetSpec.dropout,
    loss: LossOption = TrainSpec.loss,
    lr: Lr = TrainSpec.lr,
    epochs: Epochs = TrainSpec.epochs,
    batch_size: BatchSize = TrainSpec.batch_size,
    weight_decay: WeightDecay = TrainSpec.weight_decay,
    clip: Clip = TrainSpec.clip,
    patience: Patience = TrainSpec.patience,
    seed: Seed = TrainSpec.seed,
    windows_per_epoch: WindowsPerEpoch = TrainSpec.windows_per_epoch,
    refit_all: RefitAll = TrainSpec.refit_all,
    output: ModelOutput = None,
    quiet: Quiet = False,
    scheduler: Scheduler = None,
) -> None:
    """Train a model on DATA and save it to one .rnncast file.

    Progress goes to stderr: a progress bar on a terminal, one line per epoch otherwise.
    Then a summary: where the model went and its validation error next to the naive
    forecast's (repeat the last value). The file is replaced atomically: an interrupted
    fit leaves the previous model as it was. With --by, one model per group, in one file.

    \b
    Example:
      rnncast fit prices.csv --horizon 10 --epochs 30
      rnncast fit sales.csv --id-col store --target units --features price,promo -o sales.rnncast
      rnncast fit sales.csv --id-col store --target units --known promo --static store_type --holidays US
      rnncast fit sales.csv --id-col store --target units --by region -o regions.rnncast
      zcat prices.csv.gz | rnncast fit - --quiet -o prices.rnncast
    """
    with streams.handled(ctx):
        window, net, train = specs(locals())  # validated before (maybe large) data is read
        if scheduler is not None and by is None:
            raise ConfigError("fit --scheduler fits the groups of --by on Dask; one model over all the data is "
                              "fitted here, streaming (give --by COLUMN, or leave out --scheduler)")
        path = output if output is not None else default_output(data)
        check_output(path)

        from rnncast import api

        compiled = api.compile_ahead(net.cell)  # on a cold cache, compiling while the data is read
        series = api.read(data, read_spec(target, time_col, id_col, features, freq, fill, known, static, by))
        terminal = streams.stderr_is_terminal()
        if not quiet and not compiled:
            streams.say(FIRST_COMPILE)
        for line in [] if quiet else render.read_notes(series, fill):
            streams.say(line)
        model: api.Model | api.ModelGroup
        if scheduler is not None and by is not None:
            if not quiet:
                streams.say(f"rnncast: fitting the {by} groups on Dask workers ({scheduler})")
            with byfile.workers(scheduler) as workers:  # per-epoch progress stays on the workers
                model = api.fit_groups(series, by=by, window=window, net=net, train=train, mapper=workers.groups)
        else:
            with render.progress(quiet, terminal, train.epochs) as on_epoch:
                model = api.fit(series, window=window, net=net, train=train, on_epoch=on_epoch) if by is None \
                    else api.fit_groups(series, by=by, window=window, net=net, train=train, on_epoch=on_epoch,
                                        mapper=render.announcing_groups(by, quiet))
        api.save(model, path)
        if not quiet:
            render.print_fit_summary(render.fit_summary(model, path), terminal)
            for note in render.fit_warnings(model):
                streams.say(f"rnncast: note: {note}")


@app.command(cls=HelpCommand)
def predict(
    ctx: typer.Context,
    model: ModelPath = None,
    data: NewData = None,
    future: Future = None,
    horizon: PredictHorizon = None,
    fmt: FormatOption = "csv",
    output: ForecastOutput = None,
    level: Levels = None,
    adapt: Adapt = True,
    scheduler: Scheduler = None,
) -> None:
    """Forecast the next steps of every series and write them to stdout (or --output).

    Columns: the id column (for models fitted with --id-col), timestamp, forecast, and
    lower_L/upper_L per --level L. Timestamps continue each series at its frequency, in
    the data's time zone. Intervals were calibrated at fit time on validation errors;
    with --data newer than the fit they follow their misses on the new rows. A model of
    `fit --by` forecasts each series with its group's model, its --by column first.

    \b
    Example:
      rnncast predict prices.rnncast > forecast.csv
      rnncast predict prices.rnncast --data latest.csv --format json
      rnncast predict sales.rnncast --data sales_with_plan.csv
      rnncast predict sales.rnncast --future promo_plan.csv
      rnncast predict sales.rnncast --format parquet -o forecast.parquet
      rnncast predict prices.rnncast --level 80 --level 95
      rnncast predict sales.rnncast --data panel/ -o forecasts/ --scheduler local:2
    """
    with streams.handled(ctx):
        if byfile.works_by_file(data, output, scheduler, "--data"):
            if future is not None:
                raise ConfigError("with a folder of data, the known columns' future comes from the rows after "
                                  "each series' history in its file; leave out --future")
            byfile.predict(model, data, output, horizon, level, adapt, scheduler, fmt)
            return
        to_stdout = output is None or str(output) == "-"
        if fmt == "parquet" and to_stdout and streams.stdout_is_terminal():
            raise ConfigError("Parquet is binary and stdout is a terminal; use --output FILE (or redirect stdout)")
        if model is None:
            model = find_model()
            streams.say(f"using model {model}")
        if data == "-" and future == "-":
            raise ConfigError("--data and --future cannot both read stdin; give one of them as a file")

        from rnncast import api

        loaded = api.load(model)
        notes: list[str] = []
        table = api.forecast(loaded, data, horizon=horizon, levels=level or (), adapt=adapt, notes=notes,
                             future=future)
        for note in notes:  # the adaptive intervals' note says how to get them as calibrated
            streams.say(f"{note} (--no-adapt for the intervals as calibrated)" if note.startswith("intervals follow")
                        else f"rnncast: note: {note}")
        if to_stdout:
            sys.stdout.flush()
            api.write_forecast(table, fmt, sys.stdout.buffer, tz=loaded.tz)
        else:
            assert output is not None
            api.write_forecast(table, fmt, output, tz=loaded.tz)


@app.command(cls=HelpCommand)
def backtest(
    ctx: typer.Context,
    data: Data,
    target: Target = None,
    time_col: TimeCol = None,
    id_col: IdCol = None,
    features: Features = None,
    known: Known = None,
    static: Static = None,
    holidays: Holidays = None,
    freq: Freq = None,
    fill: FillOption = "interpolate",
    lookback: Lookback = None,
    horizon: Horizon = None,
    val_fraction: ValFraction = WindowSpec.val_fraction,
    scaler: ScalerOption = WindowSpec.scaler,
    transform: TransformOption = WindowSpec.transform,
    combine: CombineOption = WindowSpec.combine,
    norm: NormOption = WindowSpec.norm,
    patch: Patch = WindowSpec.patch,
    highway: Highway = WindowSpec.highway,
    calendar: CalendarOption = WindowSpec.calendar,
    cell: CellOption = NetSpec.cell,
    hidden: Hidden = NetSpec.hidden,
    layers: Layers = NetSpec.layers,
    dropout: Dropout = NetSpec.dropout,
    loss: LossOption = TrainSpec.loss,
    lr: Lr = TrainSpec.lr,
    epochs: Epochs = TrainSpec.epochs,
    batch_size: BatchSize = TrainSpec.batch_size,
    weight_decay: WeightDecay = TrainSpec.weight_decay,
    clip: Clip = TrainSpec.clip,
    patience: Patience = TrainSpec.patience,
    seed: Seed = TrainSpec.seed,
    windows_per_epoch: WindowsPerEpoch = TrainSpec.windows_per_epoch,
    refit_all: RefitAll = TrainSpec.refit_all,
    folds: Folds = BacktestSpec.folds,
    step: Step = None,
    test_size: TestSize = None,
    refit: Refit = BacktestSpec.refit,
    season: Season = None,
    level: BacktestLevels = None,
    adapt: BacktestAdapt = BacktestSpec.adapt,
    as_json: BacktestJson = False,
    report: Report = None,
    scheduler: Scheduler = None,
) -> None:
    """Rolling-origin evaluation: rnncast beside naive, seasonal-naive and drift forecasts.

    Every series is cut at --folds origins --step rows apart at its end; the model (fitted
    with the same options as `fit`) and the baselines see only the rows before each
    origin and forecast the --horizon rows after it. Reports MAE, RMSE, MAPE, sMAPE, MASE
    and interval coverage and width per method; the best method per metric is marked.

    \b
    Example:
      rnncast backtest prices.csv --folds 5 --horizon 10
      rnncast backtest sales.csv --id-col store --no-refit --json > backtest.json
      rnncast backtest panel/ --id-col store --no-refit -o scores/ --scheduler local:2
    """
    with streams.handled(ctx):
        window, net, train = specs(locals())
        spec = BacktestSpec(folds=folds, step=step, test_size=test_size, refit=refit, season=season,
                            levels=level or BacktestSpec.levels, adapt=adapt)
        reading = read_spec(target, time_col, id_col, features, freq, fill, known, static)

        def on_fold(done: int, total: int, seconds: float) -> None:
            streams.say(f"backtest: fold {done}/{total} done ({seconds:.1f} s)")

        if byfile.works_by_file(data, report, scheduler, "DATA"):
            assert report is not None
            result = byfile.backtest(data, report, scheduler, on_fold, read_spec=reading, window=window, net=net,
                                     train=train, spec=spec)
        else:
            from rnncast import api

            result = api.backtest(api.read(data, reading), window=window, net=net, train=train, spec=spec,
                                  on_fold=on_fold)
            if report is not None:
                api.save_report(result, report)
        if as_json:
            import json

            sys.stdout.write(json.dumps(result.document(), indent=2) + "\n")
            return
        render.print_backtest(result, streams.stdout_is_terminal())


@app.command(cls=HelpCommand)
def update(
    ctx: typer.Context,
    model: UpdateModel,
    data: UpdateData,
    epochs: UpdateEpochs = None,
    output: UpdateOutput = None,
    quiet: Quiet = False,
) -> None:
    """Train a model further on rows newer than its fit, and replace it (or write --output).

    It starts from the stored weights and trains a few epochs on the windows that reach
    into the new rows, mixed with older ones (when DATA holds older rows); with enough new
    rows the intervals are recalibrated on the newest of them, by an update that did not
    train on those. Series the model was not fitted on are left out, with a note. Data
    that does not continue the model (other columns, a gap, a series going back in time)
    is refused in one line and the model is left as it was.

    \b
    Example:
      rnncast update prices.rnncast prices.csv
      rnncast update sales.rnncast today.csv -o sales-new.rnncast --quiet
    """
    with streams.handled(ctx):
        path = output if output is not None else model
        check_output(path)

        from rnncast import api

        loaded = api.load(model)
        notes: list[str] = []
        terminal = streams.stderr_is_terminal()
        # The bar's total follows the epochs reported (update's default is the library's).
        with render.progress(quiet, terminal, epochs or 1) as on_epoch:
            updated = api.update(loaded, data, epochs=epochs, notes=notes, on_epoch=on_epoch)
        api.save(updated, path)
        if not quiet:
            render.print_fit_summary(render.update_summary(updated, path), terminal)
            for note in notes:
                streams.say(f"rnncast: note: {note}")


@app.command(cls=HelpCommand)
def plot(
    ctx: typer.Context,
    model: ModelPath = None,
    data: NewData = None,
    future: Future = None,
    series: SeriesIds = None,
    level: PlotLevel = 80,
    backtest: PlotBacktest = 0,
    output: PlotOutput = None,
) -> None:
    """Draw each series' recent history, its forecast and interval band: a file, or the terminal.

    One panel per series (the first 6 unless --series picks them), dates on the axis, the
    model's validation error in the title. With --data, the history and forecast come
    from that data, as in predict --data.

    \b
    Example:
      rnncast plot prices.rnncast -o forecast.png
      rnncast plot sales.rnncast --series store_7 --level 95 -o store_7.svg
      rnncast plot prices.rnncast --data latest.csv
      rnncast plot prices.rnncast --data prices.csv --backtest 3 -o folds.png
    """
    with streams.handled(ctx):
        if output is None and not streams.stdout_is_terminal():
            raise ConfigError("plot draws in the terminal only when stdout is one; give -o FILE (.png, .svg or .html)")
        if model is None:
            model = find_model()
            streams.say(f"using model {model}")

        from rnncast import api

        notes: list[str] = []
        text = api.plot(api.load(model), output, data=data, series=series or (), level=level, folds=backtest,
                        notes=notes, future=future)
        for note in notes:
            streams.say(f"rnncast: note: {note}")
        if text is not None:
            sys.stdout.write(text)


@app.command(cls=HelpCommand)
def info(
    ctx: typer.Context,
    model: ModelPath = None,
    as_json: Json = False,
) -> None:
    """Show what a model file holds: network, window, training, columns, series and metrics.

    For a model of `fit --by`: its groups, the shared settings once, then each group's
    series and metrics.

    \b
    Example:
      rnncast info prices.rnncast
      rnncast info prices.rnncast --json | jq .metrics
    """
    with streams.handled(ctx):
        if model is None:  # as predict does: the only model in this folder
            model = find_model()
            streams.say(f"using model {model}")

        from rnncast import api

        described = api.describe(api.load(model))
        if as_json:
            import json

            sys.stdout.write(json.dumps(described, indent=2, ensure_ascii=False) + "\n")
        elif streams.stdout_is_terminal():
            render.rich_info(described, str(model))
        else:
            sys.stdout.write(f"model: {model}\n" + "\n".join(render.plain_lines(described)) + "\n")
