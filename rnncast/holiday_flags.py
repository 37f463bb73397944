"""Public holidays as a known-in-advance 0/1 input, from the `holidays` package, by country code ("US", "DE-BY").

A holiday is known years ahead, so the network reads it over the lookback and over the
forecast steps alike. Only `fit --holidays`, and forecasts from a model fitted with it,
import the package.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from rnncast.errors import ConfigError

if TYPE_CHECKING:
    from rnncast.io import SeriesSet


def column_name(code: str) -> str:
    """The name the indicator goes by among a series' known columns."""
    return f"holiday[{code}]"


def check_code(code: str) -> str:
    """The code, canonical ("de-by" -> "DE-BY"), or ConfigError naming what is wrong with it."""
    return _calendar(code, [2000])[1]


def _calendar(code: str, years: list[int]) -> tuple[Any, str]:
    """(the holidays of `code` in `years`, the code as the package spells it)."""
    try:
        import holidays
    except ImportError:  # a dependency of rnncast: only a broken install lacks it
        raise ConfigError("--holidays needs the 'holidays' package: pip install holidays") from None
    country, _, region = code.strip().partition("-")
    supported = holidays.list_supported_countries()
    country = country.upper()
    if country not in supported:
        raise ConfigError(f"--holidays {code!r}: unknown country code {country!r}; give an ISO 3166 code such as "
                          "US, GB, DE or FR, optionally with a region (DE-BY, US-CA)")
    if region:
        regions = supported[country]
        match = next((r for r in regions if r.upper() == region.upper()), None)
        if match is None:
            shown = ", ".join(regions[:30]) + (" ..." if len(regions) > 30 else "")
            raise ConfigError(f"--holidays {code!r}: {country} has no region {region!r}; its regions are: "
                              f"{shown or 'none (give the country alone)'}")
        region = match
    calendar = holidays.country_holidays(country, subdiv=region or None, years=years)
    return calendar, country + (f"-{region}" if region else "")


def flags(times: np.ndarray, code: str) -> np.ndarray:
    """1.0 where a timestamp falls on a public holiday of `code`, else 0.0; times' shape, float64."""
    days = np.asarray(times).astype("datetime64[D]")
    if days.size == 0:
        return np.zeros(days.shape)
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    calendar, _ = _calendar(code, list(range(int(years.min()), int(years.max()) + 1)))
    dates = np.array(sorted(calendar.keys()), dtype="datetime64[D]")
    return np.isin(days, dates).astype(np.float64)


def with_holidays(series: SeriesSet, code: str | None) -> SeriesSet:
    """The series with the holiday indicator of `code` as their last known column (unchanged if there or no code)."""
    if code is None or column_name(code) in series.known:
        return series
    column = flags(series.times, code)[:, None]
    return replace(series, values=np.concatenate([series.values, column], axis=1),
                   known=(*series.known, column_name(code)))
