"""What a frequency alias implies: default lookback and horizon, season length, calendar cycles, next timestamps.

One parser reads every pandas alias ("h", "15min", "W-SUN", "QS-JAN", "2BQE-DEC") into a
multiple and a base code; everything else here is a table keyed by the base code.
Legacy spellings (pandas < 2.2: "H", "T", "M", "Q", "A", ...) are kept because older
model files and users still carry them. Case matters as in pandas: "MS" is month
start, "ms" milliseconds.
"""

from __future__ import annotations

import re

import numpy as np

# Base codes of yearly aliases, current and legacy ("YS", "BYE", "A", ...): where the Theta
# blend (rnncast.theta) and the diff scaler (rnncast.windows) were measured to help.
YEAR_CODES = frozenset(("Y", "YE", "YS", "BY", "BYE", "BYS", "A", "AS", "BA", "BAS"))
# Base codes of hourly aliases: where the linear blend (rnncast.linear) was measured to help (ETT).
HOUR_CODES = frozenset(("h", "H"))

# multiple, base code, optional anchor: "15min", "W-SUN", "QS-JAN", "2BQE-DEC".
_ALIAS = re.compile(r"^\s*(\d*)\s*([A-Za-z]+)(?:-[A-Za-z0-9]+)?\s*$")


def parse_alias(freq: str) -> tuple[int, str | None]:
    """(multiple, base code) of a pandas alias; (1, None) when it is not one."""
    match = _ALIAS.match(freq) if isinstance(freq, str) else None
    if match is None:
        return 1, None
    return (int(match.group(1)) if match.group(1) else 1), match.group(2)


# The horizon is one natural cycle ahead (a day of hours, two weeks of days, a year of
# months); the lookback several cycles back, enough for the network to see the season.
_STEPS: dict[str, tuple[int, int]] = {
    "s": (120, 60),  # seconds: two minutes back, one ahead
    "min": (240, 60),  # minutes: four hours back, one ahead
    "h": (168, 24),  # hours: a week back, a day ahead
    "D": (56, 14),  # days: eight weeks back, two ahead
    "B": (60, 10),  # business days: twelve weeks back, two ahead
    "W": (52, 8),  # weeks: a year back, two months ahead
    "MS": (36, 12),  # months: three years back, one ahead
    "ME": (36, 12),
    "M": (36, 12),
    "QS": (16, 4),  # quarters: four years back, one ahead
    "QE": (16, 4),
    "Q": (16, 4),
    "YS": (10, 2),  # years
    "YE": (10, 2),
    "Y": (10, 2),
}
_FALLBACK_STEPS = (48, 24)


def default_steps(freq: str) -> tuple[int, int]:
    """(lookback, horizon) a forecast at this frequency usually wants."""
    _, code = parse_alias(freq)
    return _STEPS.get(code or "", _FALLBACK_STEPS)


# Hourly data is fed a day at a time: on ETTh1 and ETTh2 (lookbacks 168 and 336) 24-hour patches
# scored as well as single hours or better, at a fifth of the fit time (README, "Accuracy"). Other
# frequencies were not measured with patches and keep single steps.
_PATCHED_CODES = ("h", "H")
_MIN_PATCHES = 4  # fewer steps leave the recurrence little to run over


def default_patch(freq: str, lookback: int) -> int:
    """Values per network step for a lookback at this frequency: a day's hours on hourly data, else 1.

    1 also where a day does not divide the lookback or leaves fewer than four steps.
    """
    _, code = parse_alias(freq)
    per_day = season_length(freq) if code in _PATCHED_CODES else 1
    if per_day > 1 and lookback % per_day == 0 and lookback // per_day >= _MIN_PATCHES:
        return per_day
    return 1


# The cycles a frequency's base unit sits in, each in base units, shortest first: minutes
# repeat every hour (60), then every day (1440). A frequency with multiple m takes the
# first cycle holding a whole number > 1 of its steps: "15min" -> 4, "60min" -> 24.
_CYCLE_GROUPS: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
    (("s", "S"), (60, 3600)),  # seconds: a minute, an hour
    (("min", "T"), (60, 1440)),  # minutes: an hour, a day
    (("h", "H"), (24, 168)),  # hours: a day, a week
    (("bh", "BH", "cbh", "CBH"), (8, 40)),  # business hours (09-17): a day, a week
    (("D", "d"), (7,)),  # days: a week
    (("B", "C"), (5,)),  # business days: a week
    (("W", "w"), (52,)),  # weeks: a year (52, the usual approximation)
    (("SM", "SME", "SMS"), (24,)),  # semi-months: a year
    (("M", "ME", "MS", "BM", "BME", "BMS", "CBM", "CBME", "CBMS"), (12,)),  # months: a year
    (("Q", "QE", "QS", "BQ", "BQE", "BQS"), (4,)),  # quarters: a year
)
_CYCLES: dict[str, tuple[int, ...]] = {code: cycles for codes, cycles in _CYCLE_GROUPS for code in codes}


def season_length(freq: str) -> int:
    """Steps per natural cycle for a pandas frequency alias; 1 when unknown or acyclic.

    hourly 24, daily 7, business daily 5, weekly 52, semi-monthly 24, monthly 12,
    quarterly 4, minutes 60 (an hour), seconds 60, business hours 8; yearly and
    sub-second 1. A multiple divides the cycle ("2h" -> 12, "15min" -> 4) or moves to
    the next one ("60min" -> 24, "24h" -> 7); 1 if it divides none evenly ("7min").
    """
    multiple, code = parse_alias(freq)
    for cycle in _CYCLES.get(code or "", ()):
        if multiple >= 1 and cycle % multiple == 0 and cycle // multiple > 1:
            return cycle // multiple
    return 1


_CALENDAR_CYCLES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("s", "min", "h", "T", "S", "H"), ("hour", "weekday", "month")),
    **dict.fromkeys(("D", "B"), ("weekday", "month")),
    **dict.fromkeys(("W", "MS", "ME", "M", "SMS", "SME"), ("month",)),
}


def calendar_cycles(freq: str) -> tuple[str, ...]:
    """Which cycles matter at this frequency: hour of day, day of week, month of year."""
    _, code = parse_alias(freq)
    return _CALENDAR_CYCLES.get(code or "", ())


def future_times(last: np.ndarray, freq: str, horizon: int) -> np.ndarray:
    """(S, K) timestamps of the `horizon` steps after each series' last one."""
    import pandas as pd

    offset = pd.tseries.frequencies.to_offset(freq)
    stamps = pd.DatetimeIndex(last)
    steps = [stamps + offset * k for k in range(1, horizon + 1)]
    return np.stack([s.values for s in steps], axis=1).astype("datetime64[ns]")
