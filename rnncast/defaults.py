"""Default lookback and horizon per frequency: what a forecast of this data usually wants.

The horizon is one natural cycle ahead (a day of hours, two weeks of days, a year of
months); the lookback several cycles back, enough for the network to see the season.
"""

from __future__ import annotations

# pandas offset alias prefix -> (lookback, horizon)
BY_FREQUENCY: dict[str, tuple[int, int]] = {
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
FALLBACK = (48, 24)


def for_frequency(freq: str) -> tuple[int, int]:
    """(lookback, horizon) for a pandas alias such as "h", "D", "B", "MS", "W-SUN", "15min"."""
    base = freq.lstrip("0123456789").split("-")[0]
    return BY_FREQUENCY.get(base, FALLBACK)
