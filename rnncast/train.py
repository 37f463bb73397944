"""Training: mini-batches, AdamW with gradient clipping, early stopping on validation loss.

Knows the model and the specs, nothing of files or the terminal: progress goes to an
optional callback, one `EpochReport` per epoch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rnncast import interrupts
from rnncast.batches import WindowSet
from rnncast.config import NetSpec, TrainSpec
from rnncast.errors import TrainingError
from rnncast.kernels import warm
from rnncast.model import ParamLayout, Workspace, loss_and_grad, loss_and_gradient, predict


@dataclass
class AdamW:
    """Adam with bias correction and decoupled weight decay (as torch.optim.AdamW).

    With weight_decay = 0 it is exactly torch.optim.Adam. Works in place on flat buffers.
    """

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    steps: int = 0
    m: np.ndarray | None = None
    v: np.ndarray | None = None
    # Scratch for the intermediates, in the parameters' dtype and in float64 (where the
    # denominator has always been computed): without it every step allocated seven
    # temporaries, and above ~64k parameters each came from fresh pages (0.79 ms a step at
    # 70k float32 parameters against 0.20 ms; the same bits).
    _scratch: np.ndarray | None = field(default=None, repr=False)
    _scratch64: np.ndarray | None = field(default=None, repr=False)

    def update(self, params: np.ndarray, grads: np.ndarray) -> None:
        """One step: params -= lr * m_hat / (sqrt(v_hat) + eps), after decay params *= 1 - lr*wd."""
        if self.m is None:
            self.m = np.zeros_like(params)
            self.v = np.zeros_like(params)
        if self._scratch is None or self._scratch64 is None:  # moments given at construction are kept
            self._scratch = np.empty_like(params)
            self._scratch64 = np.empty(params.shape, np.float64)
        self.steps += 1
        m, v, tmp, tmp64 = self.m, self.v, self._scratch, self._scratch64
        assert v is not None
        m *= self.beta1
        m += np.multiply(grads, 1 - self.beta1, out=tmp)
        v *= self.beta2
        np.multiply(grads, grads, out=tmp)
        v += np.multiply(tmp, 1 - self.beta2, out=tmp)
        if self.weight_decay:
            params *= 1 - self.lr * self.weight_decay
        bias1 = 1 - self.beta1**self.steps
        bias2 = 1 - self.beta2**self.steps
        # PyTorch's order: denom = sqrt(v) / sqrt(bias2) + eps, step = lr / bias1.
        np.divide(np.sqrt(v, out=tmp), np.sqrt(bias2), out=tmp64)
        tmp64 += self.eps
        np.divide(m, tmp64, out=tmp64)
        params -= np.multiply(tmp64, self.lr / bias1, out=tmp64)


def clip_grad_norm(grads: np.ndarray, max_norm: float) -> float:
    """Scale grads in place so their global L2 norm is at most max_norm; return the norm before."""
    # A ufunc reduction, not np.dot: BLAS threads would spin against the kernels' threads.
    norm = float(np.sqrt(np.sum(np.square(grads, dtype=np.float64))))
    if max_norm > 0 and norm > max_norm:
        grads *= max_norm / (norm + 1e-6)
    return norm


@dataclass(frozen=True)
class EpochReport:
    """What one epoch did, for progress displays."""

    epoch: int
    epochs: int
    train_loss: float
    val_loss: float | None
    windows_per_s: float
    seconds: float
    best_epoch: int
    final: bool = False  # the last phase: every row, validation rows included, no early stopping


@dataclass
class TrainResult:
    """The best parameters (flat) and how training went."""

    params: np.ndarray
    history: list[EpochReport] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float | None = None
    stopped_early: bool = False


class TrainStep:
    """Forward, backward, clipping and the optimizer update for one batch, with buffers reused."""

    def __init__(self, spec: NetSpec, tspec: TrainSpec, params: np.ndarray,
                 rng: np.random.Generator | None = None) -> None:
        self.spec, self.tspec = spec, tspec
        self.layout = ParamLayout.for_spec(spec)
        self.params = params
        self.grads = np.zeros_like(params)
        self.param_views = self.layout.views(params)
        self.grad_views = self.layout.views(self.grads)
        self.optimizer = AdamW(lr=tspec.lr, weight_decay=tspec.weight_decay)
        self.dropout_rng = rng if spec.dropout > 0 else None
        self.workspace = Workspace()
        # On a cold cache the backward kernel compiles in a second process meanwhile (rnncast.kernels.warm).
        warm.start(spec.cell, params.dtype)
        warm.share_product(params.dtype)

    def __call__(self, x: np.ndarray, y: np.ndarray, extra: np.ndarray | None = None) -> float:
        """x (T, B, I) time-major, y (B, K), extra (B, E): the batch loss before the update."""
        value = loss_and_grad(self.spec, self.param_views, self.grad_views, x, y, self.tspec.loss,
                              huber_delta=self.tspec.huber_delta, dropout_rng=self.dropout_rng,
                              workspace=self.workspace, extra=extra)
        if not np.isfinite(value):
            raise TrainingError(
                f"training diverged (loss became {value}); try a smaller --lr (now {self.tspec.lr:g}) "
                "or a smaller --clip")
        clip_grad_norm(self.grads, self.tspec.clip)
        self.optimizer.update(self.params, self.grads)
        return value


def evaluate_loss(spec: NetSpec, params: np.ndarray, x: np.ndarray, y: np.ndarray,
                  loss: str, huber_delta: float = 1.0, extra: np.ndarray | None = None) -> float:
    """Mean loss of the model on windows x (N, T, I), targets y (N, K), head extras (N, E)."""
    views = ParamLayout.for_spec(spec).views(params)
    pred = predict(spec, views, x, extra)
    return loss_and_gradient(loss, pred, y, huber_delta)[0]


@dataclass(frozen=True, eq=False)
class _Arrays:
    """Windows already materialised (N, T, I), (N, K), (N, E) or None, batched as a WindowSet is."""

    x: np.ndarray
    y: np.ndarray | None
    extra: np.ndarray | None

    def __len__(self) -> int:
        return len(self.x)

    def batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        assert self.y is not None, "materialised windows need their targets"
        return self.x[idx], self.y[idx], None if self.extra is None else self.extra[idx]


def train(spec: NetSpec, tspec: TrainSpec, params: np.ndarray,
          x_train: np.ndarray | WindowSet, y_train: np.ndarray | None,
          x_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
          on_epoch: Callable[[EpochReport], None] | None = None,
          extra_train: np.ndarray | None = None, extra_val: np.ndarray | None = None,
          final: bool = False) -> TrainResult:
    """Train from `params` (flat, not modified) on windows (N, T, I) -> (N, K).

    x_train is the windows' inputs, or a WindowSet (rnncast.batches) that builds each
    batch's inputs, targets and extras when it is trained on (then y_train and
    extra_train are None): memory for the data, not for every window.

    extra_train, extra_val (N, E): the head's extra inputs per window, when spec.head_extra > 0.

    Each epoch shuffles with a generator seeded from tspec.seed, so a run repeats itself
    bit for bit on the same machine. With validation windows, keeps the parameters of the
    best validation epoch and stops after `patience` epochs without improvement.
    """
    source = x_train if isinstance(x_train, WindowSet) else _Arrays(x_train, y_train, extra_train)
    if len(source) == 0:
        raise TrainingError("no training windows: the series are too short for --lookback + --horizon")
    rng = np.random.default_rng(tspec.seed)
    step = TrainStep(spec, tspec, params.copy(), rng)
    has_val = x_val is not None and len(x_val) > 0
    result = TrainResult(params=step.params.copy())
    best = np.inf
    since_best = 0
    n = len(source)
    # An epoch is at most windows_per_epoch windows sampled afresh, and early stopping
    # reads a fixed sample of as many validation windows: the work per epoch does not grow
    # with the panel. Fewer windows than that: every one, as before.
    cap = tspec.windows_per_epoch or n
    if has_val and x_val is not None and y_val is not None and len(x_val) > cap:
        keep = np.sort(np.random.default_rng([tspec.seed, 1]).choice(len(x_val), cap, replace=False))
        x_val, y_val = x_val[keep], y_val[keep]
        extra_val = None if extra_val is None else extra_val[keep]
    for epoch in range(1, tspec.epochs + 1):
        started = time.perf_counter()
        order = rng.permutation(n)[:cap]
        total = 0.0
        for start in range(0, len(order), tspec.batch_size):
            idx = order[start : start + tspec.batch_size]
            inputs, y, extra = source.batch(idx)
            x = np.ascontiguousarray(inputs.transpose(1, 0, 2))  # (T, B, I)
            total += step(x, y, extra) * len(idx)
            interrupts.check()
        train_loss = total / len(order)
        if not np.all(np.isfinite(step.params)):
            raise TrainingError(f"training diverged (non-finite weights in epoch {epoch}); try a smaller --lr")
        val_loss = (evaluate_loss(spec, step.params, x_val, y_val, tspec.loss, tspec.huber_delta, extra_val)
                    if has_val and x_val is not None and y_val is not None else None)
        score = val_loss if val_loss is not None else train_loss
        if not np.isfinite(score):
            raise TrainingError(f"training diverged (loss {score} in epoch {epoch}); try a smaller --lr")
        if score < best:
            best, since_best = score, 0
            result.params = step.params.copy()
            result.best_epoch = epoch
            result.best_val_loss = val_loss
        else:
            since_best += 1
        seconds = time.perf_counter() - started
        report = EpochReport(epoch, tspec.epochs, train_loss, val_loss, len(order) / seconds, seconds,
                             result.best_epoch, final)
        result.history.append(report)
        if on_epoch is not None:
            on_epoch(report)
        if has_val and tspec.patience and since_best >= tspec.patience:
            result.stopped_early = True
            break
    return result
