"""Training windows described, not materialised: a batch's network inputs are built when it is trained on.

A window is (series, first target row) over the scaled series: 16 bytes, where its
inputs, targets and head extras were T x F + K + E float32 values. So fit's memory is the
data plus a constant, not windows x lookback (issue: 1,000 series x 2,000 rows peaked at
1.8 GB). Batches are built exactly as the materialised windows were (rnncast.windows'
gather, rnncast.features.model_inputs), so training is the same, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnncast.config import WindowSpec


@dataclass(frozen=True, eq=False)
class WindowSet:
    """Windows whose first target row t[w] lies in series series[w] of `scaled` (N, F) float64."""

    scaled: np.ndarray
    scaled32: np.ndarray  # the same as float32, what the network reads (made once, not per batch)
    offsets: np.ndarray
    times: np.ndarray  # (N,) datetime64[ns]
    t: np.ndarray  # (W,) int32 (int64 beyond 2**31 rows)
    series: np.ndarray  # (W,) as t
    window: WindowSpec  # resolved
    calendar: tuple[str, ...]
    known_at: int | None  # first known column of `scaled`; None: none
    static: np.ndarray  # (S, D) encoded attributes

    def __len__(self) -> int:
        return len(self.t)

    def batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(network input (B, T/P, P*F), targets re-centred (B, K), head extras (B, E)) of windows idx."""
        net_in, y, extra, _ = self._inputs(np.asarray(idx))
        return net_in, y, extra

    def detailed(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        """batch(idx) and what validation reads besides: anchors, series, target history, volatility, target rows."""
        from rnncast.features import volatility

        idx = np.asarray(idx)
        net_in, y, extra, (anchor, x) = self._inputs(idx)
        return {"x": net_in, "y": y, "extra": extra, "anchor": anchor, "series": self.series[idx],
                "history": x[:, :, 0], "volatility": volatility(x), "t": self.t[idx]}

    def targets(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(target lookback (B, T), targets (B, K)) of windows idx, both re-centred on the anchor: what
        rnncast.linear reads, without the network's inputs."""
        from rnncast.features import anchors
        from rnncast.windows import _gather

        idx = np.asarray(idx)
        T, K = self.window.steps
        x, y = _gather(self.scaled32[:, :1], self.offsets, self.t[idx], self.series[idx], T, K)
        anchor = anchors(x, self.window.norm)[:, None]
        return x[:, :, 0] - anchor, y - anchor

    def _inputs(self, idx: np.ndarray):
        from rnncast.features import model_inputs
        from rnncast.windows import _gather

        T, K = self.window.steps
        t, series = self.t[idx], self.series[idx]
        x, y = _gather(self.scaled32, self.offsets, t, series, T, K)
        ahead = t[:, None] + np.arange(K)  # (B, K): the target rows, real rows of the series
        known_future = self.scaled[ahead, self.known_at:] if self.known_at is not None else None
        net_in, extra, anchor = model_inputs(x, self.times[ahead], self.window, self.calendar, known_future,
                                             self.static[series])
        return net_in, y - anchor[:, None], extra, (anchor, x)


def window_set(scaled: np.ndarray, scaled32: np.ndarray, offsets: np.ndarray, times: np.ndarray, first: np.ndarray,
               last: np.ndarray, window: WindowSpec, calendar: tuple[str, ...], known_at: int | None,
               static: np.ndarray) -> WindowSet:
    """The windows whose first target row runs over first[s]..last[s] (inclusive) in series s."""
    first = np.asarray(first, dtype=np.int64)
    counts = np.maximum(np.asarray(last, dtype=np.int64) - first + 1, 0)
    # int32 where rows and windows allow (16 -> 8 bytes a window: 43 million windows of a
    # 100,000-series panel are 350 MB less), built without int64 temporaries of W entries.
    kind = np.int32 if max(len(scaled), int(counts.sum())) < 2**31 - 1 else np.int64
    series = np.repeat(np.arange(len(counts), dtype=kind), counts)
    t = np.repeat((first - (np.cumsum(counts) - counts)).astype(kind), counts)
    t += np.arange(len(t), dtype=kind)
    return WindowSet(scaled, scaled32, offsets, times, t, series, window, calendar, known_at, static)
