"""What the commands show: training progress, the fit summary, the backtest table, a model's description.

Plain text when no one is watching (logs, pipes, CI); rich tables and a live bar on a
terminal. rich is imported only when it draws.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnncast.cli.streams import say

if TYPE_CHECKING:
    from rnncast.api import EpochReport, Model, ModelGroup
    from rnncast.io import SeriesSet


def console(stderr: bool = False, **options: Any) -> Any:
    """A rich Console for a terminal; with NO_COLOR set, one that writes no styling codes at all."""
    import os

    from rich.console import Console

    plain = bool(os.environ.get("NO_COLOR"))  # no-color.org: no colour, and here no bold or italic either
    return Console(stderr=stderr, color_system=None if plain else "auto", no_color=plain, **options)


def num(value: float | None) -> str:
    """Four significant digits, trailing zeros kept so columns line up: 0.007000, 4.040, 12.87."""
    return "-" if value is None else f"{value:#.4g}".rstrip(".")


def progress(quiet: bool, terminal: bool, epochs: int) -> Any:
    """What hears each epoch: nothing when quiet, a live bar on a terminal, plain lines otherwise.

    A context manager; entered, it is the `on_epoch` callback (None when quiet).
    """
    import contextlib

    if quiet:
        return contextlib.nullcontext(None)
    return RichProgress(epochs) if terminal else PlainProgress()


class PlainProgress:
    """One line per epoch on stderr: for logs, pipes and CI (no colour, no control characters)."""

    def __call__(self, report: EpochReport) -> None:
        phase = "refit on all rows: " if report.final else ""
        say(f"{phase}epoch {report.epoch}/{report.epochs}  train_loss {num(report.train_loss)}  "
             f"val_loss {num(report.val_loss)}  "
             f"{report.windows_per_s:,.0f} windows/s  {report.seconds:.1f} s")

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class RichProgress:
    """A live progress bar on a terminal's stderr."""

    def __init__(self, epochs: int) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        screen = console(stderr=True)
        wide = screen.width >= 110  # below that (an 80-column terminal) the ETA would be cut off
        columns = [TextColumn("{task.description} {task.completed}/{task.total}"),
                   BarColumn() if wide else BarColumn(bar_width=10),
                   TextColumn("train_loss {task.fields[train]}"), TextColumn("val_loss {task.fields[val]}")]
        if wide:
            columns.append(TextColumn("{task.fields[speed]} windows/s"))
        self.progress = Progress(*columns, TextColumn("ETA"), TimeRemainingColumn(), console=screen)
        self.task = self.progress.add_task("epoch", total=epochs, train="-", val="-", speed="-")

    def __call__(self, report: EpochReport) -> None:
        if report.final:  # the last phase restarts the count: its own total, its own name
            self.progress.update(self.task, description="refit on all rows, epoch", total=report.epochs)
        self.progress.update(self.task, completed=report.epoch, total=report.epochs, train=num(report.train_loss),
                             val=num(report.val_loss),
                             speed=f"{report.windows_per_s:,.0f}")

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def announcing_groups(by: str, quiet: bool) -> Any:
    """A mapper for api.fit_groups: the builtin map's fits, in order, each group named as it starts."""
    def mapper(fit_one: Any, values: Any, parts: Any) -> Iterator[Model]:
        for i, (value, part) in enumerate(zip(values, parts), 1):
            if not quiet:
                say(f"rnncast: group {i}/{len(values)}: {by} {value!r} ({len(part.ids):,} series)")
            yield fit_one(value, part)

    return mapper


def fit_summary(model: Model | ModelGroup, path: Path) -> list[tuple[str, str]]:
    """(label, value) rows: where the model went and how training went (for a group: each group's line)."""
    from rnncast.api import ModelGroup

    if isinstance(model, ModelGroup):
        return [("model", str(path)), ("groups", f"{len(model.values)} by {model.by!r}")] + [
            (f"{model.by} {value!r}", _group_line(member)) for value, member in zip(model.values, model.models)]
    m = model.metrics
    rows = [("model", str(path))]
    epochs = f"{m.get('epochs_run', '?')} of {model.train.epochs}"
    if m.get("stopped_early"):
        epochs += " (stopped early)"
    rows += [("epochs", epochs), ("best epoch", str(m.get("best_epoch", "?")))]
    if "val_mae" in m:
        for label, key in (("validation MAE", "mae"), ("validation RMSE", "rmse")):
            seasonal = (f", seasonal naive {num(m[f'seasonal_naive_val_{key}'])}"
                        if f"seasonal_naive_val_{key}" in m else "")
            rows.append((label, f"{num(m[f'val_{key}'])} (naive forecast {num(m[f'naive_val_{key}'])}{seasonal})"))
    else:
        rows.append(("validation", "none (--val-fraction 0)"))
    if "blend" in m:
        partners = {"damped": "damped trend", "comb": "Theta + damped trend", "linear": "linear map",
                    "otheta": "optimised Theta", "ocomb": "optimised Theta + damped trend"}
        partner = partners.get(m.get("blend_with", ""), "Theta")
        rows.append(("blend", f"network {m['blend']:.2f}, {partner} {1 - m['blend']:.2f} (by validation error)"))
    rows.append(("windows", f"{m.get('train_windows', 0):,} training, {m.get('val_windows', 0):,} validation"))
    if m.get("refit_windows"):
        rows.append(("refit", f"{m.get('best_epoch', '?')} epochs on all {m['refit_windows']:,} windows "
                              "(the validation scores are the first fit's)"))
    if m.get("padded_series"):
        rows.append(("short series", f"{m['padded_series']:,} shorter than lookback + horizon: trained on "
                                     "windows padded with their first value"))
    if m.get("unvalidated_series"):
        rows.append(("not validated", f"{m['unvalidated_series']:,} series too short to spare validation rows "
                                      "(all their rows train)"))
    rows.append(("training time", f"{m.get('train_seconds', 0.0):.1f} s"))
    return rows


def update_summary(model: Model, path: Path) -> list[tuple[str, str]]:
    """(label, value) rows: where the updated model went, what it learned from, how the old one did."""
    m = model.metrics
    rows = [("model", str(path)), ("new rows", f"{m['update_new_rows']:,}"),
            ("windows", f"{m['update_windows']:,} (those reaching into the new rows, and older ones replayed)")]
    seasonal = (f", seasonal naive {num(m['update_seasonal_naive_val_mae'])}"
                if "update_seasonal_naive_val_mae" in m else "")
    rows.append(("before, on the new rows", f"MAE {num(m['update_val_mae'])} (naive forecast "
                                            f"{num(m['update_naive_val_mae'])}{seasonal})"))
    rows.append(("training time", f"{m['update_seconds']:.1f} s"))
    return rows


# Fewer training windows than this teach a network nothing it can be trusted with.
FEW_WINDOWS = 10


def _group_line(model: Model) -> str:
    m = model.metrics
    val = (f"validation MAE {num(m['val_mae'])} (naive {num(m['naive_val_mae'])})" if "val_mae" in m
           else "no validation")
    return (f"{len(model.ids):,} series, {val}, {m.get('epochs_run', '?')} epochs, "
            f"{m.get('train_seconds', 0.0):.1f} s")


def read_notes(series: SeriesSet, fill: str) -> list[str]:
    """What reading the fit's data did that the user should hear of: values filled in, rows left out."""
    notes = []
    if series.filled > 0:
        notes.append(f"rnncast: filled {series.filled:,} missing value{'s' if series.filled != 1 else ''} ({fill})")
    if series.future is not None:
        count = len(series.future.times)
        rows = f"{count:,} row{'s' if count != 1 else ''} after the last observed {series.target!r}"
        notes.append(f"rnncast: note: {rows} left out of the fit: the future, whose known columns predict "
                     "--data reads" if series.known else f"rnncast: note: {rows} left out: they have no target, "
                     "and there are no --known columns to read there")
    return notes


def fit_warnings(model: Model | ModelGroup) -> list[str]:
    """What the summary should say plainly: no better than a baseline, too little data, stopped too soon."""
    from rnncast.api import ModelGroup

    if isinstance(model, ModelGroup):
        return [f"{model.by} {value!r}: {note}" for value, member in zip(model.values, model.models)
                for note in fit_warnings(member)]
    m, notes = model.metrics, []
    if "val_mae" in m:
        baselines = {"naive forecast": m["naive_val_mae"]}
        if "seasonal_naive_val_mae" in m:
            baselines[f"seasonal naive forecast (season {m['season']})"] = m["seasonal_naive_val_mae"]
        name, best = min(baselines.items(), key=lambda item: item[1])
        if m["val_mae"] >= best:
            notes.append(f"the model does not beat the {name} on the validation windows (MAE {num(m['val_mae'])} "
                         f"vs {num(best)}): prefer the baseline here, or try other settings")
    if m.get("train_windows", 0) < FEW_WINDOWS:
        notes.append(f"only {m.get('train_windows', 0)} training window{'s' if m.get('train_windows') != 1 else ''}: "
                     "too few to learn anything reliable; use more data or a shorter --lookback or --horizon")
    epochs = model.train.epochs
    if "val_mae" in m and not m.get("stopped_early") and m.get("best_epoch") == epochs and epochs > 1:
        notes.append(f"the validation loss was still falling at the last epoch ({epochs}); more --epochs may help")
    return notes


def print_fit_summary(rows: list[tuple[str, str]], terminal: bool) -> None:
    if not terminal:
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            say(f"{label:<{width}}  {value}")
        return
    from rich.table import Table

    table = Table(title="rnncast fit", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    console(stderr=True).print(table, markup=False, highlight=False)


def print_backtest(result: Any, terminal: bool) -> None:
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
        from rich.table import Table

        table = Table(title="rnncast backtest (* best)", title_justify="left")
        for name in header:
            table.add_column(name)
        for cells in lines:
            table.add_row(*cells)
        console().print(table, markup=False, highlight=False)
    else:
        widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]
        for cells in [header] + lines:
            sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() + "\n")
    for note in result.notes:
        say(f"rnncast: note: {note}")


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


def plain_lines(info: dict[str, Any], indent: str = "") -> Iterator[str]:
    for key, value in info.items():
        if isinstance(value, dict):
            yield f"{indent}{key}:"
            yield from plain_lines(value, indent + "  ")
        else:
            yield f"{indent}{key}: {_plain_value(value)}"


def rich_info(info: dict[str, Any], title: str) -> None:
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
    console().print(table, markup=False, highlight=False)


def partition_progress(command: str, every: float = 1.0) -> Any:
    """on_done for a command working file by file: a line at most every `every` seconds, and the last."""
    import time

    last = [0.0]

    def on_done(done: Any, count: int, total: int) -> None:
        now = time.monotonic()
        if count == total or now - last[0] >= every:
            last[0] = now
            say(f"{command}: {count:,}/{total:,} files done ({done.partition.name})")

    return on_done


def partitions_summary(command: str, done: list[Any], output: Any) -> str:
    """One line: how many files were written, how many were current already, how many series."""
    skipped = sum(d.skipped for d in done)
    series = sum(len(d.ids) for d in done)
    kept = f" ({skipped:,} of them current already, kept)" if skipped else ""
    return f"{command}: {series:,} series in {len(done):,} files under {output}{kept}"
