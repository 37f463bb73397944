"""The frequency of the series: a --freq as given, normalised, or one inferred from the timestamps."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np

from rnncast.errors import ConfigError, DataError
from rnncast.io.grid import grid_ticks
from rnncast.io.sources import Table
from rnncast.io.times import DAY_NS

# Windows of this many points are long enough for pandas to recognise a pattern (a
# business-day week, a month) and short enough that some miss every holiday and gap.
_STRETCH = 16
# Checked against an already chosen frequency, a series may miss this share of its grid
# and still be taken as sharing it without a full inference of its own.
_FAST_MISSING = 0.1


def normalise_freq(freq: str) -> str:
    from pandas.tseries.frequencies import to_offset

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(to_offset(freq).freqstr)
    except (ValueError, TypeError):
        raise ConfigError(
            f"--freq {freq!r} is not a pandas frequency alias; use e.g. D (daily), B (business days), h (hourly), "
            "min, W (weekly), MS (month start), ME (month end), QS, YS"
        ) from None


def _pandas_infer(ticks: np.ndarray) -> str | None:
    import pandas as pd

    with warnings.catch_warnings():
        # pandas 3 announces that infer_freq will return an offset; both are handled.
        warnings.simplefilter("ignore")
        found = pd.infer_freq(pd.DatetimeIndex(ticks.view("datetime64[ns]")))
    return None if found is None else str(getattr(found, "freqstr", found))


def infer_frequency(table: Table, ticks: np.ndarray, offsets: np.ndarray, ids: tuple[str, ...]) -> str:
    """One frequency for all series; identical time indexes are inferred once."""
    chosen: str | None = None
    chosen_by = 0
    seen: dict[bytes, str | None] = {}
    for s in range(len(ids)):
        t = ticks[offsets[s] : offsets[s + 1]]
        if len(t) < 2:
            continue
        key = t.tobytes()
        if key not in seen:
            seen[key] = _infer_one(t, chosen)
        found = seen[key]
        if found is None:
            raise DataError(
                f"{table.name}: cannot infer the frequency of series {ids[s]!r}: its timestamps are irregular; "
                "pass --freq (e.g. D, B, h, MS)"
            )
        if chosen is None:
            chosen, chosen_by = found, s
        elif found != chosen:
            raise DataError(
                f"{table.name}: series {ids[chosen_by]!r} has frequency {chosen} but series {ids[s]!r} has "
                f"{found}; all series must share one: pass --freq to choose it"
            )
    if chosen is None:
        raise DataError(
            f"{table.name}: every series has a single timestamp, so no frequency can be inferred; pass --freq"
        )
    return chosen


def _infer_one(t: np.ndarray, candidate: str | None) -> str | None:
    """A frequency for one series: whole, an already chosen one, clean stretches, common step."""
    if len(t) >= 3 and (found := _pandas_infer(t)):
        return found
    if candidate is not None and _fits(t, candidate, _FAST_MISSING):
        return candidate
    if len(t) > _STRETCH:
        firsts = np.unique(np.linspace(0, len(t) - _STRETCH, num=min(64, len(t) - _STRETCH + 1)).astype(np.int64))
        votes = Counter(f for i in firsts if (f := _pandas_infer(t[i : i + _STRETCH])))
        if votes:
            found = votes.most_common(1)[0][0]
            if _fits(t, found, 0.5):
                return found
    found = _from_common_step(t)
    return found if found is not None and _fits(t, found, 0.5) else None


def _from_common_step(t: np.ndarray) -> str | None:
    """Map the most common difference between timestamps to an alias."""
    import pandas as pd
    from pandas.tseries.frequencies import to_offset

    steps, counts = np.unique(np.diff(t), return_counts=True)
    step = int(steps[np.argmax(counts)])
    if step % DAY_NS:
        return str(to_offset(pd.Timedelta(step, unit="ns")).freqstr)
    days = step // DAY_NS
    stamps = pd.DatetimeIndex(t.view("datetime64[ns]"))
    if days == 7:
        return f"W-{stamps[0].day_name()[:3].upper()}"
    period = "M" if 28 <= days <= 31 else "Q" if 89 <= days <= 92 else "Y" if 365 <= days <= 366 else None
    if period is None:
        return "D" if days == 1 else f"{days}D"
    if (stamps.day == 1).all():
        edge = "S"
    elif stamps.is_month_end.all():
        edge = "E"
    else:
        return None  # e.g. monthly on the 15th: no alias; the user must regularise
    if period == "M":
        return f"M{edge}"
    # Quarters and years are anchored on a month; the first timestamp's month is one.
    return f"{period}{edge}-{stamps[0].month_name()[:3].upper()}"


def _fits(t: np.ndarray, alias: str, max_missing: float) -> bool:
    """All of t on the alias grid from t[0] to t[-1], missing at most that share of it."""
    grid = grid_ticks(int(t[0]), int(t[-1]), alias, limit=int(len(t) / (1.0 - max_missing)) + 2)
    if grid is None or not len(grid):  # empty: t[0] is not on an anchored alias (W-SUN, ...)
        return False
    pos = np.minimum(np.searchsorted(grid, t), len(grid) - 1)
    return bool((grid[pos] == t).all())
