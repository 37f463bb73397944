"""What a frequency alias implies: season length, calendar cycles, default steps, next timestamps."""

from __future__ import annotations

import numpy as np
import pytest

from rnncast.config import WindowSpec
from rnncast.frequency import calendar_cycles, default_patch, default_steps, future_times, parse_alias, season_length


@pytest.mark.parametrize(
    ("freq", "season"),
    [
        ("h", 24), ("H", 24), ("2h", 12), ("5h", 1), ("24h", 7),
        ("D", 7), ("B", 5), ("C", 5), ("W", 52), ("W-SUN", 52), ("W-MON", 52), ("2W", 26),
        ("MS", 12), ("ME", 12), ("M", 12), ("BMS", 12), ("3MS", 4), ("SMS", 24),
        ("QS-JAN", 4), ("QE-DEC", 4), ("Q", 4), ("2BQE-DEC", 2),
        ("YS", 1), ("YE-DEC", 1), ("A", 1),
        ("min", 60), ("T", 60), ("15min", 4), ("60min", 24), ("90min", 16), ("7min", 1),
        ("s", 60), ("10s", 6), ("bh", 8),
        ("ms", 1), ("us", 1), ("ns", 1),
        ("", 1), ("fortnightly", 1), ("1D1h", 1), ("0D", 1), ("W-", 1),
    ],
)
def test_season_length(freq: str, season: int) -> None:
    assert season_length(freq) == season


@pytest.mark.parametrize("freq, columns", [("h", ("hour", "weekday", "month")), ("D", ("weekday", "month")),
                                           ("B", ("weekday", "month")), ("MS", ("month",)), ("YS", ())])
def test_calendar_cycles_by_frequency(freq: str, columns: tuple[str, ...]) -> None:
    assert calendar_cycles(freq) == columns


@pytest.mark.parametrize("freq, steps", [
    ("h", (168, 24)), ("2h", (168, 24)), ("D", (56, 14)), ("B", (60, 10)), ("W-SUN", (52, 8)),
    ("MS", (36, 12)), ("QS-JAN", (16, 4)), ("YE-DEC", (10, 2)), ("15min", (240, 60)), ("ms", (48, 24)),
    ("", (48, 24)),
])
def test_default_steps_by_frequency(freq: str, steps: tuple[int, int]) -> None:
    assert default_steps(freq) == steps


@pytest.mark.parametrize("freq, lookback, patch", [
    ("h", 168, 24), ("h", 336, 24), ("H", 96, 24), ("2h", 168, 12),
    ("h", 84, 1),  # a day does not divide the lookback
    ("h", 72, 1),  # three days: too few steps for the recurrence
    ("5h", 100, 1),  # no whole number of steps in a day
    ("D", 56, 1), ("B", 60, 1), ("MS", 36, 1), ("min", 240, 1), ("60min", 168, 1), ("", 48, 1),
])
def test_default_patch_is_a_day_on_hourly_data_only(freq: str, lookback: int, patch: int) -> None:
    assert default_patch(freq, lookback) == patch


def test_resolved_window_fills_the_patch_by_frequency_and_keeps_a_given_one() -> None:
    assert WindowSpec().resolved("h").patch == 24  # the default hourly lookback, 168, is a week
    assert WindowSpec(lookback=100).resolved("h").patch == 1
    assert WindowSpec().resolved("D").patch == 1
    assert WindowSpec(patch=1).resolved("h").patch == 1
    assert WindowSpec(lookback=48, patch=8).resolved("h").patch == 8
    with pytest.raises(ValueError, match="resolve"):
        _ = WindowSpec().patch_size


def test_parse_alias_reads_multiple_and_code() -> None:
    assert parse_alias("15min") == (15, "min")
    assert parse_alias("W-SUN") == (1, "W")
    assert parse_alias("SMS-15") == (1, "SMS")
    assert parse_alias("1D1h") == (1, None)


def test_future_times_continue_each_series_at_its_frequency() -> None:
    last = np.array(["2024-01-31", "2024-02-29"], dtype="datetime64[ns]")
    ahead = future_times(last, "MS", 2)
    assert ahead.shape == (2, 2) and ahead.dtype == np.dtype("datetime64[ns]")
    # Month start after a month's last day: the next month's first, then the one after.
    assert list(ahead[0].astype("datetime64[D]").astype(str)) == ["2024-02-01", "2024-03-01"]
    assert list(ahead[1].astype("datetime64[D]").astype(str)) == ["2024-03-01", "2024-04-01"]
