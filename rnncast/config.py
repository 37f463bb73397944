"""Frozen, validated specifications (what to read, window, build, train) and every choice list.

Pure Python, no NumPy: the CLI imports this at start-up, and its option choices and
defaults are these tuples and these fields, the only copy of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

from rnncast.errors import ConfigError

# Each choice is a Literal type (the CLI's option type, checked by mypy) and its tuple of values.
Cell = Literal["lstm", "gru", "rnn"]
Loss = Literal["mse", "mae", "huber"]
Scaler = Literal["auto", "standard", "diff", "minmax", "none"]  # "auto": by frequency (rnncast.windows.choose_scaler)
Norm = Literal["last", "mean", "none"]  # per-window re-centring (rnncast.features.anchors)
Transform = Literal["auto", "log", "none"]  # of the target before scaling (rnncast.transform)
# The partner blended in (rnncast.theta, rnncast.linear).
Combine = Literal["auto", "theta", "otheta", "damped", "comb", "ocomb", "linear", "none"]
Calendar = Literal["auto", "none"]  # calendar features of the forecast steps, or none
Fill = Literal["interpolate", "ffill", "error"]  # how gaps are filled when a series is read (rnncast.io)
OutputFormat = Literal["csv", "json", "parquet"]  # formats a forecast can be written in (rnncast.io)

CELLS: tuple[Cell, ...] = get_args(Cell)
LOSSES: tuple[Loss, ...] = get_args(Loss)
SCALERS: tuple[Scaler, ...] = get_args(Scaler)
NORMS: tuple[Norm, ...] = get_args(Norm)
TRANSFORMS: tuple[Transform, ...] = get_args(Transform)
COMBINES: tuple[Combine, ...] = get_args(Combine)
CALENDARS: tuple[Calendar, ...] = get_args(Calendar)
FILLS: tuple[Fill, ...] = get_args(Fill)
OUTPUT_FORMATS: tuple[OutputFormat, ...] = get_args(OutputFormat)

# Gates per cell, in PyTorch's order: LSTM i, f, g, o; GRU r, z, n; RNN one.
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclass(frozen=True)
class NetSpec:
    """The network: a stacked recurrent encoder and a dense head to `horizon` outputs."""

    cell: Cell = "lstm"
    inputs: int = 1
    hidden: int = 64
    layers: int = 1
    horizon: int = 24
    dropout: float = 0.0
    # Extra inputs the head sees beside the last hidden state: the lookback window itself
    # (a linear "highway", as in LSTNet) and calendar features of the forecast steps.
    head_extra: int = 0

    def __post_init__(self) -> None:
        _require(self.cell in CELLS, f"--cell must be one of {', '.join(CELLS)}, got {self.cell!r}")
        _require(self.head_extra >= 0, f"head_extra must be >= 0, got {self.head_extra}")
        _require(self.inputs >= 1, f"the network needs at least one input, got {self.inputs}")
        _require(self.hidden >= 1, f"--hidden must be at least 1, got {self.hidden}")
        _require(self.layers >= 1, f"--layers must be at least 1, got {self.layers}")
        _require(self.horizon >= 1, f"--horizon must be at least 1, got {self.horizon}")
        _require(0.0 <= self.dropout < 1.0, f"--dropout must be in [0, 1), got {self.dropout}")

    @property
    def gates(self) -> int:
        return GATES[self.cell]


@dataclass(frozen=True)
class TrainSpec:
    """How to train: Adam(W) with clipping, early stopping on the validation loss."""

    loss: Loss = "mse"
    lr: float = 1e-3
    epochs: int = 50
    batch_size: int = 64
    weight_decay: float = 0.0
    clip: float = 1.0
    patience: int = 5
    seed: int = 0
    huber_delta: float = 1.0
    # Windows sampled per epoch (0: all): bounds each epoch's work on large panels.
    windows_per_epoch: int = 16_384
    # After early stopping on the validation rows, train again on every row for the best
    # epoch count: the model that forecasts has seen the most recent data.
    refit_all: bool = True

    def __post_init__(self) -> None:
        _require(self.loss in LOSSES, f"--loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        _require(self.lr > 0, f"--lr must be positive, got {self.lr}")
        _require(self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}")
        _require(self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}")
        _require(self.weight_decay >= 0, f"--weight-decay must be >= 0, got {self.weight_decay}")
        _require(self.clip >= 0, f"--clip must be >= 0 (0 turns clipping off), got {self.clip}")
        _require(self.patience >= 0, f"--patience must be >= 0 (0 turns early stopping off), got {self.patience}")
        _require(self.huber_delta > 0, f"the Huber delta must be positive, got {self.huber_delta}")
        _require(self.windows_per_epoch >= 0,
                 f"--windows-per-epoch must be >= 0 (0: every window), got {self.windows_per_epoch}")


@dataclass(frozen=True)
class WindowSpec:
    """How a series becomes training windows: lookback in, horizon out, stride 1.

    lookback, horizon and patch None mean "by the data's frequency": `resolved` fills them in
    (rnncast.frequency.default_steps, default_patch), and only a resolved spec is trained or stored.
    """

    lookback: int | None = None
    horizon: int | None = None
    val_fraction: float = 0.2
    # "diff": the target's scale is its mean absolute one-step change (MASE's denominator);
    # "auto": diff for yearly data, where it measured better, standard elsewhere.
    scaler: Scaler = "auto"
    norm: Norm = "last"  # re-centre each window on its last value ("last"), mean, or "none"
    # Feed the lookback as lookback/patch steps of `patch` values each; None: a day's steps on
    # hourly data when they divide the lookback, else 1 (rnncast.frequency.default_patch).
    patch: int | None = None
    highway: bool = True  # the head also reads the window itself (a linear skip path)
    calendar: Calendar = "none"  # "auto": calendar features of the forecast steps for the head
    # A country code ("US", "DE-BY"): its public holidays as a known-in-advance 0/1 input
    # (rnncast.holiday_flags), for the lookback and the forecast steps alike.
    holidays: str | None = None
    # "log": the network learns log(target), so changes are relative (seasons that grow with
    # the level become additive); "auto": log for positive seasonal series (rnncast.transform).
    transform: Transform = "auto"
    # "theta" / "damped": the forecast is a blend of the network's and the Theta method's (or
    # damped trend's), weighted by their validation errors ("comb": the mean of both classics;
    # "otheta", "ocomb": the same with the optimised Theta method; "linear": a ridge map of the
    # lookback, rnncast.linear); "auto": theta for monthly and quarterly data, damped trend or
    # the validation's clear pick of ocomb and otheta for yearly, linear for hourly.
    combine: Combine = "auto"

    def __post_init__(self) -> None:
        _require(self.combine in COMBINES, f"--combine must be one of {', '.join(COMBINES)}, got {self.combine!r}")
        _require(self.transform in TRANSFORMS,
                 f"--transform must be one of {', '.join(TRANSFORMS)}, got {self.transform!r}")
        _require(self.norm in NORMS, f"--norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        _require(self.calendar in CALENDARS, f"--calendar must be one of {', '.join(CALENDARS)}, got {self.calendar!r}")
        _require(self.patch is None or self.patch >= 1, f"--patch must be at least 1, got {self.patch}")
        if self.lookback is not None:
            _require(self.patch is None or self.lookback % self.patch == 0,
                     f"--patch must divide --lookback ({self.lookback}), got {self.patch}")
            _require(self.lookback >= 1, f"--lookback must be at least 1, got {self.lookback}")
        _require(self.horizon is None or self.horizon >= 1, f"--horizon must be at least 1, got {self.horizon}")
        _require(0.0 <= self.val_fraction < 1.0, f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        _require(self.scaler in SCALERS, f"--scaler must be one of {', '.join(SCALERS)}, got {self.scaler!r}")

    def resolved(self, freq: str) -> WindowSpec:
        """This spec with lookback, horizon and patch chosen by frequency where they were left None."""
        from rnncast.frequency import default_patch, default_steps

        lookback, horizon = default_steps(freq)
        lookback = lookback if self.lookback is None else self.lookback
        return replace(self, lookback=lookback, horizon=horizon if self.horizon is None else self.horizon,
                       patch=default_patch(freq, lookback) if self.patch is None else self.patch)

    @property
    def patch_size(self) -> int:
        """The patch of a resolved spec."""
        if self.patch is None:
            raise ValueError("resolve the WindowSpec for the data's frequency first (WindowSpec.resolved)")
        return self.patch

    @property
    def steps(self) -> tuple[int, int]:
        """(lookback, horizon) of a resolved spec."""
        if self.lookback is None or self.horizon is None:
            raise ValueError("resolve the WindowSpec for the data's frequency first (WindowSpec.resolved)")
        return self.lookback, self.horizon


@dataclass(frozen=True)
class ReadSpec:
    """Which columns of a data file hold what, its frequency, and how gaps are filled."""

    target: str | None = None
    time_col: str | None = None
    id_col: str | None = None
    features: tuple[str, ...] = ()  # past covariates: read over the lookback only
    freq: str | None = None
    fill: Fill = "interpolate"
    known: tuple[str, ...] = ()  # known in advance: read over the lookback and the forecast steps
    static: tuple[str, ...] = ()  # per-series attributes, constant within a series
    by: str | None = None  # one model per value of this column (rnncast.groups); constant within a series

    def __post_init__(self) -> None:
        for name in ("features", "known", "static"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class BacktestSpec:
    """Where the folds' origins sit and what is scored (rnncast.backtesting)."""

    folds: int = 3
    step: int | None = None  # rows between origins; None: the horizon
    test_size: int | None = None  # instead of folds: as many origins as fit in the last N rows
    refit: bool = True
    season: int | None = None  # None: by frequency (rnncast.frequency.season_length)
    levels: Sequence[int] = (80, 95)
    adapt: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(self.levels))
