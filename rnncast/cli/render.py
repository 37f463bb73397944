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
    from rnncast.api import EpochReport, Model


def num(value: float | None) -> str:
    """Four significant digits, trailing zeros kept so columns line up: 0.007000, 4.040, 12.87."""
    return "-" if value is None else f"{value:#.4g}".rstrip(".")


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
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description} {task.completed}/{task.total}"),
            BarColumn(),
            TextColumn("train_loss {task.fields[train]}"),
            TextColumn("val_loss {task.fields[val]}"),
            TextColumn("{task.fields[speed]} windows/s"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.task = self.progress.add_task("epoch", total=epochs, train="-", val="-", speed="-")

    def __call__(self, report: EpochReport) -> None:
        if report.final:  # the last phase restarts the count: its own total, its own name
            self.progress.update(self.task, description="refit on all rows, epoch", total=report.epochs)
        self.progress.update(self.task, completed=report.epoch, train=num(report.train_loss),
                             val=num(report.val_loss),
                             speed=f"{report.windows_per_s:,.0f}")

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def fit_summary(model: Model, path: Path) -> list[tuple[str, str]]:
    """(label, value) rows: where the model went and how training went."""
    m = model.metrics
    rows = [("model", str(path))]
    epochs = f"{m.get('epochs_run', '?')} of {model.train.epochs}"
    if m.get("stopped_early"):
        epochs += " (stopped early)"
    rows += [("epochs", epochs), ("best epoch", str(m.get("best_epoch", "?")))]
    if "val_mae" in m:
        rows.append(("validation MAE", f"{num(m['val_mae'])} (naive forecast {num(m['naive_val_mae'])})"))
        rows.append(("validation RMSE", f"{num(m['val_rmse'])} (naive forecast {num(m['naive_val_rmse'])})"))
    else:
        rows.append(("validation", "none (--val-fraction 0)"))
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


def print_fit_summary(rows: list[tuple[str, str]], terminal: bool) -> None:
    if not terminal:
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            say(f"{label:<{width}}  {value}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="rnncast fit", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    Console(stderr=True).print(table, markup=False, highlight=False)


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
