"""Optimizer and training loop: Adam by hand, clipping, reproducibility, early stopping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnncast.config import NetSpec, TrainSpec
from rnncast.errors import TrainingError
from rnncast.model import init_params
from rnncast.train import AdamW, clip_grad_norm, train


def _adam_by_hand(p: float, grads: list[float], lr: float, wd: float = 0.0,
                  b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> list[float]:
    m = v = 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        p *= 1 - lr * wd
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p -= lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(p)
    return out


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_adam_matches_hand_worked_steps(wd: float) -> None:
    grads = [[0.5, -2.0, 1e-3], [-0.2, -1.0, 0.0], [0.1, 3.0, -1e-3], [0.0, 0.5, 2.0]]
    start = [1.0, -0.5, 0.25]
    params = np.array(start)
    opt = AdamW(lr=0.1, weight_decay=wd)
    history = []
    for g in grads:
        opt.update(params, np.array(g))
        history.append(params.copy())
    for j in range(3):
        want = _adam_by_hand(start[j], [g[j] for g in grads], lr=0.1, wd=wd)
        np.testing.assert_allclose([h[j] for h in history], want, rtol=1e-12)
    # The first Adam step moves every coordinate with a non-zero gradient by about lr.
    first = _adam_by_hand(1.0, [0.5], lr=0.1, wd=wd)[0]
    assert first == pytest.approx(1.0 * (1 - 0.1 * wd) - 0.1, abs=1e-7)


def test_adam_float32_steps_are_the_plain_formulas_bit_for_bit() -> None:
    # The update writes into scratch buffers; it must round exactly as the formulas written
    # out with temporaries (float32 moments, the denominator in float64), step after step.
    rng = np.random.default_rng(3)
    params = rng.standard_normal(70_000).astype(np.float32)
    want, m, v = params.copy(), np.zeros_like(params), np.zeros_like(params)
    opt = AdamW(lr=1e-3, weight_decay=0.01)
    for t in range(1, 6):
        g = rng.standard_normal(params.shape).astype(np.float32)
        opt.update(params, g)
        m = m * np.float32(0.9) + np.float32(1 - 0.9) * g
        v = v * np.float32(0.999) + np.float32(1 - 0.999) * (g * g)
        want *= np.float32(1 - 1e-3 * 0.01)
        denom = np.sqrt(v) / np.sqrt(1 - 0.999**t) + 1e-8  # float32 root, float64 from the division on
        want -= (1e-3 / (1 - 0.9**t)) * (m / denom)
        np.testing.assert_array_equal(params, want)
    assert params.dtype == np.float32 and opt.m is not None and opt.m.dtype == np.float32


def test_adam_continues_from_moments_it_was_given() -> None:
    # An optimizer built with its state (m, v, steps) steps on from it, as one that made those steps.
    g1, g2 = np.array([0.5, -2.0, 1e-3]), np.array([-0.2, -1.0, 0.3])
    whole, p_whole = AdamW(lr=0.1), np.array([1.0, -0.5, 0.25])
    whole.update(p_whole, g1)
    assert whole.m is not None and whole.v is not None
    resumed = AdamW(lr=0.1, steps=whole.steps, m=whole.m.copy(), v=whole.v.copy())
    p_resumed = p_whole.copy()
    whole.update(p_whole, g2)
    resumed.update(p_resumed, g2)
    np.testing.assert_array_equal(p_resumed, p_whole)


def test_clip_grad_norm_scales_to_max_and_leaves_small_alone() -> None:
    g = np.array([3.0, 4.0])
    assert clip_grad_norm(g, 1.0) == pytest.approx(5.0)
    assert np.linalg.norm(g) == pytest.approx(1.0, rel=1e-5)
    small = np.array([0.3, 0.4])
    clip_grad_norm(small, 1.0)
    np.testing.assert_array_equal(small, [0.3, 0.4])


def _sine_windows(n: int, lookback: int, horizon: int, seed: int):
    rng = np.random.default_rng(seed)
    t = np.arange(n + lookback + horizon)
    series = np.sin(t / 4) + 0.05 * rng.standard_normal(t.size)
    idx = np.arange(n)[:, None]
    x = series[idx + np.arange(lookback)][..., None].astype(np.float32)
    y = series[idx + lookback + np.arange(horizon)].astype(np.float32)
    return x, y


def test_training_learns_a_sine_and_repeats_itself() -> None:
    spec = NetSpec(cell="gru", inputs=1, hidden=16, layers=1, horizon=4)
    tspec = TrainSpec(epochs=8, lr=1e-2, batch_size=32, seed=3, patience=0)
    x, y = _sine_windows(400, 24, 4, seed=0)
    xv, yv = _sine_windows(100, 24, 4, seed=1)
    start = init_params(spec, np.random.default_rng(0))
    a = train(spec, tspec, start, x, y, xv, yv)
    b = train(spec, tspec, start, x, y, xv, yv)
    np.testing.assert_array_equal(a.params, b.params)
    assert a.history[-1].val_loss < 0.25 * a.history[0].val_loss
    assert a.best_val_loss == min(r.val_loss for r in a.history)


def test_early_stopping_restores_best_epoch() -> None:
    spec = NetSpec(cell="rnn", inputs=1, hidden=4, layers=1, horizon=2)
    x, y = _sine_windows(64, 8, 2, seed=0)
    # Validation targets unrelated to training: the validation loss soon stops improving.
    rng = np.random.default_rng(2)
    xv, yv = x[:32], rng.standard_normal((32, 2)).astype(np.float32) * 3
    result = train(spec, TrainSpec(epochs=60, lr=5e-2, patience=2, seed=0), init_params(spec, rng), x, y, xv, yv)
    assert result.stopped_early
    assert len(result.history) == result.best_epoch + 2


def test_diverging_training_is_reported() -> None:
    spec = NetSpec(cell="lstm", inputs=1, hidden=8, layers=1, horizon=2)
    x, y = _sine_windows(64, 8, 2, seed=0)
    with pytest.raises(TrainingError, match="diverged"):
        train(spec, TrainSpec(epochs=5, lr=1e30, clip=0.0), init_params(spec, np.random.default_rng(0)),
              x, y * 1e30, None, None)


def test_an_epoch_trains_on_at_most_windows_per_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The work per epoch is bounded however many windows there are; below the bound, every window."""
    import rnncast.train as training

    seen: list[int] = []
    original = training.TrainStep.__call__

    def counting(self, x, y, extra=None):
        seen.append(x.shape[1])  # (T, B, I): B windows in this batch
        return original(self, x, y, extra)

    monkeypatch.setattr(training.TrainStep, "__call__", counting)
    spec = NetSpec(cell="rnn", inputs=1, hidden=4, layers=1, horizon=4)
    x, y = _sine_windows(400, 24, 4, seed=0)
    xv, yv = _sine_windows(300, 24, 4, seed=1)
    start = init_params(spec, np.random.default_rng(0))
    train(spec, TrainSpec(epochs=3, batch_size=32, patience=0, windows_per_epoch=100), start, x, y, xv, yv)
    assert sum(seen) == 3 * 100
    seen.clear()
    train(spec, TrainSpec(epochs=3, batch_size=32, patience=0, windows_per_epoch=0), start, x, y, xv, yv)
    assert sum(seen) == 3 * 400
    seen.clear()
    train(spec, TrainSpec(epochs=3, batch_size=32, patience=0, windows_per_epoch=1000), start, x, y, xv, yv)
    assert sum(seen) == 3 * 400


def test_a_signal_whose_exception_was_swallowed_stops_training_at_the_next_batch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI run saw a fit train on for two minutes after Ctrl-C: the handler's exception had been lost."""
    import contextlib
    import signal

    import rnncast.train as training
    from rnncast import interrupts

    batches: list[int] = []
    original = training.TrainStep.__call__

    def swallowing(self, x, y, extra=None):
        batches.append(1)
        if len(batches) == 3:  # Ctrl-C arrives here, and something on the way up eats KeyboardInterrupt
            with contextlib.suppress(KeyboardInterrupt):
                interrupts._raise_for(signal.SIGINT, None)
        return original(self, x, y, extra)

    monkeypatch.setattr(training.TrainStep, "__call__", swallowing)
    monkeypatch.setattr(interrupts, "_pending", None)
    spec = NetSpec(cell="rnn", inputs=1, hidden=4, layers=1, horizon=2)
    x, y = _sine_windows(640, 8, 2, seed=0)
    with pytest.raises(KeyboardInterrupt):
        train(spec, TrainSpec(epochs=50, batch_size=32, patience=0), init_params(spec, np.random.default_rng(0)),
              x, y, None, None)
    assert len(batches) == 3  # not one batch more
    with pytest.raises(interrupts.Terminated):  # SIGTERM: Terminated, which the CLI turns into exit 143
        interrupts._raise_for(signal.SIGTERM, None)
    with pytest.raises(interrupts.Terminated):
        interrupts.check()
    monkeypatch.setattr(interrupts, "_pending", None)
    interrupts.check()  # nothing pending: nothing raised
