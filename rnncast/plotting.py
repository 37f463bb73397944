"""Pictures of forecasts: each series' recent history, its forecast and interval band, as PNG, SVG, HTML or text.

matplotlib is imported only here, and only by `rnncast plot`: `predict` and `--help` never
load it. The Agg backend and matplotlib's bundled DejaVu fonts draw on a headless server.
The text form needs no library: it is what `rnncast plot` shows on a terminal.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

FORMATS = ("png", "svg", "html")
MAX_PANELS = 6  # series drawn at most; more are left out with a note


@dataclass(frozen=True)
class Panel:
    """One series' picture: its recent history, the forecast and, if any, the interval band."""

    name: str
    history_times: np.ndarray  # (H,) datetime64
    history: np.ndarray  # (H,)
    times: np.ndarray  # (K,) datetime64
    forecast: np.ndarray  # (K,)
    lower: np.ndarray | None = None  # (K,)
    upper: np.ndarray | None = None
    folds: tuple[tuple[np.ndarray, np.ndarray], ...] = ()  # (times (K,), forecast (K,)) from earlier origins


def figure_bytes(panels: list[Panel], fmt: str, title: str, level: int | None) -> bytes:
    """The picture as PNG or SVG bytes, or an HTML page holding the SVG."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed, whatever MPLBACKEND says
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.6 * len(panels) + 0.6), squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        ax.plot(panel.history_times, panel.history, color="#333333", linewidth=1.2, label="history")
        if panel.lower is not None and panel.upper is not None:
            ax.fill_between(panel.times, panel.lower, panel.upper, color="#1f77b4", alpha=0.25, linewidth=0,
                            label=f"{level} % interval", gid=f"band-{panel.name}")
        ax.plot(panel.times, panel.forecast, color="#1f77b4", linewidth=1.6, label="forecast")
        for k, (times, values) in enumerate(panel.folds):
            ax.plot(times, values, color="#d62728", linewidth=1.3, linestyle="--",
                    label="backtest folds (no refit)" if k == 0 else None, gid=f"fold-{panel.name}-{k}")
        ax.set_title(panel.name, loc="left", fontsize=10)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper left", fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg" if fmt == "html" else fmt, dpi=110, metadata=_metadata(fmt))
    plt.close(fig)
    data = buffer.getvalue()
    if fmt != "html":
        return data
    svg = data.decode()
    svg = svg[svg.index("<svg"):]  # inline: no XML declaration inside HTML
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_escape(title)}</title>"
            f"</head>\n<body>\n{svg}\n</body></html>\n")
    return page.encode()


def _metadata(fmt: str) -> dict[str, Any]:
    # No creation date: the same model draws the same bytes (SVG/HTML), which tests and diffs like.
    return {"Date": None} if fmt in ("svg", "html") else {}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_picture(panels: list[Panel], title: str, width: int = 72, height: int = 12) -> str:
    """The same picture in characters: history `.`, forecast `*`, interval band `:`, one panel per series."""
    lines = [title]
    for panel in panels:
        series = np.concatenate([panel.history, panel.forecast])
        band = [panel.lower, panel.upper] if panel.lower is not None and panel.upper is not None else []
        values = np.concatenate([series, *band])
        low, high = float(np.min(values)), float(np.max(values))
        span = high - low or 1.0
        n = len(series)
        columns = np.minimum((np.arange(n) * width) // max(n, 1), width - 1)
        grid = [[" "] * width for _ in range(height)]

        def row(value: float, high: float = high, span: float = span) -> int:
            return int(round((high - value) / span * (height - 1)))

        start = len(panel.history)
        if band:
            for k in range(len(panel.forecast)):
                top, bottom = row(float(band[1][k])), row(float(band[0][k]))
                for r in range(top, bottom + 1):
                    grid[r][columns[start + k]] = ":"
        for i, value in enumerate(series):
            grid[row(float(value))][columns[i]] = "*" if i >= start else "."
        lines.append(f"{panel.name}  ({_short(panel.history_times[0])} .. {_short(panel.times[-1])}; "
                     f"{high:.4g} at the top, {low:.4g} at the bottom)")
        lines += ["|" + "".join(r) for r in grid]
    lines.append("history .  forecast *" + ("  interval :" if any(p.lower is not None for p in panels) else ""))
    return "\n".join(lines) + "\n"


def _short(stamp: np.datetime64) -> str:
    text = str(np.datetime_as_string(stamp, unit="m"))
    return text[:10] if text.endswith("T00:00") else text.replace("T", " ")


def format_of(path: str | os.PathLike[str]) -> str | None:
    """png, svg or html by the file's suffix (None: not one rnncast draws)."""
    suffix = os.fspath(path).rsplit(".", 1)[-1].lower() if "." in os.fspath(path) else ""
    return {"htm": "html"}.get(suffix, suffix) if suffix in (*FORMATS, "htm") else None


def panels(table: dict[str, np.ndarray], id_col: str | None, ids: tuple[str, ...],
           history: dict[str, tuple[np.ndarray, np.ndarray]], level: int | None) -> list[Panel]:
    """One Panel per series of a forecast `table` (rnncast.api.forecast), in `ids` order.

    history: {id: (times, values)} of each series' recent rows.
    """
    names = np.asarray(table[id_col]).astype(str) if id_col is not None else np.full(len(table["forecast"]), ids[0])
    out = []
    for name in ids:
        rows = names == name
        lower = table.get(f"lower_{level}") if level is not None else None
        upper = table.get(f"upper_{level}") if level is not None else None
        times, values = history[name]
        out.append(Panel(name, times, values, table["timestamp"][rows], table["forecast"][rows],
                         None if lower is None else lower[rows], None if upper is None else upper[rows]))
    return out
