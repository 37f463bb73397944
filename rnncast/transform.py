"""The target's transform: the network learns log(target) for positive monthly and quarterly series.

A season that grows with the level (sales, passengers, most of M3) is multiplicative;
in logs it is additive, which the per-window re-centring (rnncast.features) then takes
out, as ES-RNN's per-series level and seasonality normalisation does. Measured on M3
with the defaults otherwise (seed 0, sMAPE / MASE): monthly 15.48 / 0.927 -> 14.26 /
0.890 and quarterly 10.82 / 1.343 -> 10.33 / 1.264 with log; yearly 2.93 -> 3.09 MASE and
other 5.01 -> 5.29 sMAPE, where there is no season, worse. So "auto" takes log when every
target value is positive and the data is monthly or quarterly, the frequencies where it
was measured to help; other frequencies keep the target as is until measured (--transform
log asks for it anywhere).

Inside the model everything is in the transformed space (scaler, windows, intervals);
`to_model` and `from_model` are the crossings, at fit, forecast and update.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnncast.config import Transform
from rnncast.errors import DataError

# Month and quarter codes (month end, month start, business...): where log was measured to help.
_MEASURED = frozenset(("M", "ME", "MS", "BM", "BME", "BMS", "Q", "QE", "QS", "BQ", "BQE", "BQS"))


def choose(transform: Transform, target: np.ndarray, freq: str) -> Transform:
    """The transform a fit uses: `transform`, with "auto" decided by the data (see the module)."""
    from rnncast.frequency import parse_alias

    if transform != "auto":
        return transform
    _, code = parse_alias(freq)
    return "log" if code in _MEASURED and bool((target > 0).all()) else "none"


def to_model(transform: str, values: np.ndarray, ids: Sequence[str] | None = None,
             offsets: np.ndarray | None = None) -> np.ndarray:
    """values (..., F) with column 0, the target, transformed (a copy; `values` itself when "none").

    Log of a target that is not positive is a DataError naming the series (given `ids` and `offsets`).
    """
    if transform == "none":
        return values
    target = values[..., 0]
    bad = np.flatnonzero(~(target > 0).reshape(-1))
    if bad.size:
        row = int(bad[0])
        where = ""
        if ids is not None and offsets is not None:
            where = f" in series {ids[int(np.searchsorted(offsets, row, side='right')) - 1]!r}"
        raise DataError(f"the model forecasts the log of its target (fitted with --transform log), and the data "
                        f"has a value <= 0{where} ({float(target.reshape(-1)[row]):g}); fit again with "
                        "--transform none for data that can be zero or negative")
    out = np.array(values, dtype=np.float64, copy=True)
    out[..., 0] = np.log(target)
    return out


def from_model(transform: str, target: np.ndarray) -> np.ndarray:
    """Forecasts (or interval bounds) of the target back from the model's space."""
    if transform == "none":
        return target
    with np.errstate(over="ignore"):  # a diverged model's inf is caught by rnncast.forecaster.check_finite
        return np.exp(target)
