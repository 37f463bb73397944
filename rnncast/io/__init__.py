"""Files in, arrays out; forecasts out.

`read_series` turns a CSV (plain, gzip-compressed or on stdin) or a Parquet file into a
`SeriesSet`: every series stacked in one float64 array, sorted by time, on a regular grid,
with gaps filled. `write_forecast` writes columns as CSV, JSON or Parquet.

The steps live in their own modules, in the order `read_series` (series) runs them:
sources (bytes and formats), columns (roles and values), times (timestamps and zones),
cadence (the frequency), grid (the regular grid and filling); writing holds
`write_forecast`. The choices FILLS and OUTPUT_FORMATS live in rnncast.config.

pandas and pyarrow are imported inside the functions that need them, never at the top of
these modules: importing rnncast and writing a CSV forecast must stay fast.

Row numbers in messages are the ones a user sees: for CSV the line in the file (header =
row 1, blank lines counted); for Parquet the 1-based row of the table.
"""

from __future__ import annotations

from rnncast.config import FILLS, OUTPUT_FORMATS
from rnncast.io.series import SeriesSet, read_series
from rnncast.io.writing import write_forecast

__all__ = ["FILLS", "OUTPUT_FORMATS", "SeriesSet", "read_series", "write_forecast"]
