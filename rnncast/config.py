"""Frozen, validated specifications: what to window, what network to build, how to train."""

from __future__ import annotations

from dataclasses import dataclass

from rnncast.errors import ConfigError

CELLS = ("lstm", "gru", "rnn")
LOSSES = ("mse", "mae", "huber")
SCALERS = ("standard", "minmax", "none")

# Gates per cell, in PyTorch's order: LSTM i, f, g, o; GRU r, z, n; RNN one.
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclass(frozen=True)
class NetSpec:
    """The network: a stacked recurrent encoder and a dense head to `horizon` outputs."""

    cell: str = "lstm"
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

    loss: str = "mse"
    lr: float = 1e-3
    epochs: int = 50
    batch_size: int = 64
    weight_decay: float = 0.0
    clip: float = 1.0
    patience: int = 5
    seed: int = 0
    huber_delta: float = 1.0

    def __post_init__(self) -> None:
        _require(self.loss in LOSSES, f"--loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        _require(self.lr > 0, f"--lr must be positive, got {self.lr}")
        _require(self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}")
        _require(self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}")
        _require(self.weight_decay >= 0, f"--weight-decay must be >= 0, got {self.weight_decay}")
        _require(self.clip >= 0, f"--clip must be >= 0 (0 turns clipping off), got {self.clip}")
        _require(self.patience >= 0, f"--patience must be >= 0 (0 turns early stopping off), got {self.patience}")
        _require(self.huber_delta > 0, f"the Huber delta must be positive, got {self.huber_delta}")


@dataclass(frozen=True)
class WindowSpec:
    """How a series becomes training windows: lookback in, horizon out, stride 1."""

    lookback: int = 48
    horizon: int = 24
    val_fraction: float = 0.2
    scaler: str = "standard"
    norm: str = "last"  # re-centre each window on its last value ("last"), mean, or "none"
    patch: int = 1  # feed the lookback as lookback/patch steps of `patch` values each
    highway: bool = True  # the head also reads the window itself (a linear skip path)
    calendar: str = "none"  # "auto": calendar features of the forecast steps for the head

    def __post_init__(self) -> None:
        _require(self.norm in ("last", "mean", "none"), f"--norm must be last, mean or none, got {self.norm!r}")
        _require(self.calendar in ("auto", "none"), f"--calendar must be auto or none, got {self.calendar!r}")
        _require(self.patch >= 1 and self.lookback % self.patch == 0,
                 f"--patch must divide --lookback ({self.lookback}), got {self.patch}")
        _require(self.lookback >= 1, f"--lookback must be at least 1, got {self.lookback}")
        _require(self.horizon >= 1, f"--horizon must be at least 1, got {self.horizon}")
        _require(0.0 <= self.val_fraction < 1.0, f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        _require(self.scaler in SCALERS, f"--scaler must be one of {', '.join(SCALERS)}, got {self.scaler!r}")
