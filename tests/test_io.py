"""Reading series (formats, encodings, zones, frequencies, gaps, errors) and writing forecasts."""

from __future__ import annotations

import csv
import errno
import gzip
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import ROOT
from rnncast.errors import ConfigError, DataError
from rnncast.io import SeriesSet, read_series, write_forecast

DATA = Path(__file__).parent / "data"
SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"

DAILY = "date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n2020-01-04,4\n"


def from_text(text: str | bytes, **options: object) -> SeriesSet:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return read_series("-", stdin=io.BytesIO(raw), **options)  # type: ignore[arg-type]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def day_strings(s: SeriesSet) -> list[str]:
    return np.datetime_as_string(s.times, unit="D").tolist()


def assert_daily_1234(s: SeriesSet) -> None:
    assert s.values.shape == (4, 1) and s.values.dtype == np.float64
    np.testing.assert_array_equal(s.values[:, 0], [1, 2, 3, 4])
    assert day_strings(s) == ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"]
    assert s.times.dtype == np.dtype("datetime64[ns]")
    assert s.freq == "D" and s.tz is None and s.filled == 0
    assert s.offsets.tolist() == [0, 4] and s.offsets.dtype == np.int64


# --- formats and encodings -------------------------------------------------------------


def test_plain_csv_detects_time_and_target(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", DAILY)
    s = read_series(path)
    assert_daily_1234(s)
    assert (s.time_col, s.target, s.features, s.id_col) == ("date", "value", (), None)
    assert s.ids == ("value",) and s.source == str(path)


def test_gzip_csv(tmp_path: Path) -> None:
    assert_daily_1234(read_series(write(tmp_path, "d.csv.gz", gzip.compress(DAILY.encode()))))


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"date": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"]),
                             "value": [1, 2, 3, 4]}), path)
    assert_daily_1234(read_series(path))


def test_format_is_sniffed_not_taken_from_extension(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    dates = ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"]
    pq.write_table(pa.table({"date": dates, "value": [1.0, 2, 3, 4]}), buffer)
    assert_daily_1234(read_series(write(tmp_path, "d.dat", buffer.getvalue())))
    assert_daily_1234(read_series(write(tmp_path, "d.txt", gzip.compress(DAILY.encode()))))


def test_stdin_bytes() -> None:
    s = from_text(DAILY)
    assert_daily_1234(s)
    assert s.source == "-"


def test_latin1_and_utf8_bom_and_utf16() -> None:
    latin = "date,température\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n2020-01-04,4\n".encode("latin-1")
    s = from_text(latin)
    assert s.target == "température"
    np.testing.assert_array_equal(s.values[:, 0], [1, 2, 3, 4])
    bom = b"\xef\xbb\xbf" + DAILY.encode()
    assert from_text(bom).time_col == "date"  # the BOM is not glued to the first name
    assert_daily_1234(from_text(b"\xff\xfe" + DAILY.encode("utf-16-le")))


def test_quoted_comma_number_in_comma_file_is_not_a_decimal() -> None:
    # "1,234" in a comma-separated file is more likely a thousands separator: refuse it.
    with pytest.raises(DataError, match="has '1,234', which is not a number"):
        from_text('date,value\n2020-01-01,"1,234"\n2020-01-02,5\n')


def test_semicolon_with_decimal_commas_and_tab() -> None:
    s = from_text("date;value\n2020-01-01;1,5\n2020-01-02;2,25\n2020-01-03;-3,0\n")
    np.testing.assert_array_equal(s.values[:, 0], [1.5, 2.25, -3.0])
    assert_daily_1234(from_text(DAILY.replace(",", "\t")))


def test_crlf_and_stray_spaces_in_names() -> None:
    s = from_text(DAILY.replace("\n", "\r\n").replace("date,value", " date , value "))
    assert_daily_1234(s)
    assert (s.time_col, s.target) == ("date", "value")


# --- columns -----------------------------------------------------------------------------


def test_features_follow_the_target_in_order() -> None:
    s = from_text("ds,temp,y,load\n2020-01-01,10,1,100\n2020-01-02,11,2,200\n2020-01-03,12,3,300\n",
                  target="y", features=["load", "temp"])
    assert s.features == ("load", "temp") and s.time_col == "ds"
    np.testing.assert_array_equal(s.values, [[1, 100, 10], [2, 200, 11], [3, 300, 12]])


def test_time_column_found_by_content_when_its_name_says_nothing() -> None:
    s = from_text("when,reading\n01/02/2020,1\n01/03/2020,2\n01/04/2020,3\n")
    assert s.time_col == "when"
    assert day_strings(s) == ["2020-01-02", "2020-01-03", "2020-01-04"]  # month first


def test_day_first_dates_are_read_day_first_throughout() -> None:
    # The first value is ambiguous; the third is only valid day-first. No row may be read
    # month-first while another is read day-first.
    s = from_text("date,value\n" + "".join(f"{d:02d}/02/2020,{d}\n" for d in range(1, 14)))
    assert s.freq == "D" and s.filled == 0
    assert day_strings(s) == [f"2020-02-{d:02d}" for d in range(1, 14)]
    np.testing.assert_array_equal(s.values[:, 0], np.arange(1, 14))


def test_several_numeric_columns_need_target() -> None:
    expected = r"stdin: several numeric columns could be the target \('a', 'b'\); pass --target"
    with pytest.raises(DataError, match=expected):
        from_text("date,a,b\n2020-01-01,1,2\n2020-01-02,2,3\n")


def test_no_numeric_column() -> None:
    with pytest.raises(DataError, match=r"no numeric column to forecast among 'x', 'y'; pass --target"):
        from_text("date,x,y\n2020-01-01,a,b\n2020-01-02,c,d\n")


@pytest.mark.parametrize(
    ("option", "flag"),
    [({"target": "sales"}, "--target"), ({"id_col": "store"}, "--id-col"), ({"features": ["temp"]}, "--features"),
     ({"time_col": "when"}, "--time-col")],
)
def test_unknown_column_lists_the_columns(tmp_path: Path, option: dict, flag: str) -> None:
    path = write(tmp_path, "d.csv", DAILY)
    expected = rf"d\.csv: column '\w+' \({flag}\) not found; the columns are: 'date', 'value'"
    with pytest.raises(DataError, match=expected):
        read_series(path, **option)


def test_one_column_in_two_roles_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'value' is given more than one role"):
        from_text(DAILY, target="value", features=["value"])


def test_non_numeric_target_names_file_row_column_and_value(tmp_path: Path) -> None:
    # Row numbers as the user sees them: header is row 1, blank lines count.
    path = write(tmp_path, "bad.csv", "date,value\n2020-01-01,1\n\n2020-01-02,2\n2020-01-03,n/a?\n")
    with pytest.raises(DataError, match=r"bad\.csv: row 5: column 'value' has 'n/a\?', which is not a number"):
        read_series(path)


def test_non_numeric_feature() -> None:
    with pytest.raises(DataError, match=r"row 3: column 'f' has 'high'"):
        from_text("date,value,f\n2020-01-01,1,2\n2020-01-02,2,high\n", features=["f"])


@pytest.mark.parametrize(("cell", "column", "shown"), [("inf", "value", "inf"), ("-inf", "f", "-inf")])
def test_infinite_values_are_refused(cell: str, column: str, shown: str) -> None:
    text = "date,value,f\n2020-01-01,1,1\n2020-01-02,2,2\n2020-01-03,3,3\n".replace(
        "2,2\n", f"{cell},2\n" if column == "value" else f"2,{cell}\n")
    with pytest.raises(DataError, match=rf"row 3: column '{column}' is {shown}"):
        from_text(text, features=["f"])


# --- file-level errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\n  \n", "the file is empty"),
        (b"date,value\n", "has a header but no data rows"),
        (b"PK\x03\x04\x14\x00\x00\x00", "unknown or unreadable format: .*zip"),
        (b"\x00\x01\x02binary\x00", "unknown or unreadable format: .*binary"),
        (b'[{"date": "2020-01-01"}]', "unknown or unreadable format: .*JSON"),
        (b"\x1f\x8b\x08\x00broken", "not a readable gzip file"),
        (b"value\n1\n2\n", "found a single column"),
        (b"2020-01-01,5\n2020-01-02,6\n", "looks like data, not a header"),
        (b"date,value\n2020-01-01,1\n2020-01-02,1,2\n", "cannot read it as CSV .*Expected 2 columns"),
        (b"a,b\nx,1\ny,2\n", "no column of dates or times among 'a', 'b'; pass --time-col"),
    ],
)
def test_unusable_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path, "in.csv", content)
    with pytest.raises(DataError, match=rf"in\.csv:? .*{message}"):
        read_series(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nothere\.csv: file not found"):
        read_series(tmp_path / "nothere.csv")
    with pytest.raises(DataError, match="no Parquet or CSV files there"):  # a folder is data, when it holds some
        read_series(tmp_path)


def test_parquet_extension_without_parquet_content(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"x\.parquet: has a Parquet extension but is not a Parquet file"):
        read_series(write(tmp_path, "x.parquet", DAILY))


def test_truncated_parquet(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"date": ["2020-01-01"], "value": [1.0]}), buffer)
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_series(write(tmp_path, "t.pq", buffer.getvalue()[:-20]))


# --- time ------------------------------------------------------------------------------------


def test_unparseable_date_names_column_row_and_value() -> None:
    with pytest.raises(DataError, match=r"row 4: column 'date' has '2020-13-45', which is not a date"):
        from_text("date,value\n2020-01-01,1\n2020-01-02,2\n2020-13-45,3\n")


def test_missing_timestamp() -> None:
    with pytest.raises(DataError, match="row 3: column 'date' has no timestamp"):
        from_text("date,value\n2020-01-01,1\n,2\n")


def test_numbers_are_not_dates() -> None:
    with pytest.raises(DataError, match="column 'time' holds int64 values, not dates"):
        from_text("time,value\n1,5\n2,6\n", time_col="time")


def test_rows_are_sorted_by_time_and_values_follow() -> None:
    s = from_text("date,value\n2020-01-03,3\n2020-01-01,1\n2020-01-04,4\n2020-01-02,2\n")
    assert_daily_1234(s)


def test_duplicate_timestamps_name_the_rows() -> None:
    with pytest.raises(DataError, match=r"duplicate timestamps: 2020-01-02 \(rows 3 and 5\).*pass --id-col"):
        from_text("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n2020-01-02,9\n")


def test_offsets_across_daylight_saving_become_the_first_rows_zone() -> None:
    # Hourly Paris time over the March switch: the offset changes from +01:00 to +02:00.
    s = from_text("time,value\n2020-03-29T00:00:00+01:00,0\n2020-03-29T01:00:00+01:00,1\n"
                  "2020-03-29T03:00:00+02:00,2\n2020-03-29T04:00:00+02:00,3\n")
    assert s.tz == "+01:00" and s.freq == "h" and s.filled == 0
    assert np.datetime_as_string(s.times, unit="m").tolist() == [
        "2020-03-29T00:00", "2020-03-29T01:00", "2020-03-29T02:00", "2020-03-29T03:00"]


def test_zoned_midnights_keep_their_calendar_dates() -> None:
    s = from_text("time,value\n2020-03-28T00:00:00+01:00,1\n2020-03-29T00:00:00+01:00,2\n"
                  "2020-03-30T00:00:00+02:00,3\n2020-03-31T00:00:00+02:00,4\n")
    assert s.freq == "D" and s.tz == "+01:00"
    assert day_strings(s) == ["2020-03-28", "2020-03-29", "2020-03-30", "2020-03-31"]


def test_utc_and_other_fixed_offsets() -> None:
    utc = from_text("t,v\n2020-01-01T10:00Z,1\n2020-01-01T11:00Z,2\n2020-01-01T12:00Z,3\n")
    assert utc.tz == "UTC" and np.datetime_as_string(utc.times[0], unit="m") == "2020-01-01T10:00"
    # Different spellings of one offset; -05:30 wall clock is kept as written.
    india = from_text("t,v\n2020-01-01 10:00:00-0530,1\n2020-01-01 11:00:00-05:30,2\n2020-01-01 12:00-05:30,3\n")
    assert india.tz == "-05:30" and india.freq == "h"
    assert np.datetime_as_string(india.times[-1], unit="m") == "2020-01-01T12:00"


def test_zoned_and_naive_mixed_is_refused() -> None:
    with pytest.raises(DataError, match=r"mixes timestamps with a time zone \(row 2\) and without one \(row 3\)"):
        from_text("t,v\n2020-01-01T00:00Z,1\n2020-01-02,2\n")


def test_parquet_zone_is_kept_by_name(tmp_path: Path) -> None:
    stamps = pd.date_range("2021-06-01", periods=48, freq="h", tz="America/New_York")
    path = tmp_path / "z.parquet"
    pq.write_table(pa.table({"ts": stamps, "load": np.arange(48.0)}), path)
    s = read_series(path)
    assert s.tz == "America/New_York" and s.freq == "h"
    assert np.datetime_as_string(s.times[0], unit="m") == "2021-06-01T00:00"  # local wall clock


# --- frequency, gaps and filling -----------------------------------------------------------


def test_gap_is_inserted_and_interpolated_linearly_in_time() -> None:
    s = from_text("date,value\n2020-01-01,0\n2020-01-02,10\n2020-01-05,40\n2020-01-06,50\n")
    assert s.freq == "D"
    assert day_strings(s) == [f"2020-01-0{d}" for d in range(1, 7)]
    np.testing.assert_allclose(s.values[:, 0], [0, 10, 20, 30, 40, 50])
    assert s.filled == 2


def test_filled_counts_cells_of_inserted_rows_and_empty_cells() -> None:
    s = from_text("date,value,f\n2020-01-01,0,1\n2020-01-02,,2\n2020-01-04,3,\n2020-01-05,4,5\n", features=["f"])
    # Inserted row 2020-01-03: 2 cells; empty cells: 2.
    assert s.filled == 4
    np.testing.assert_allclose(s.values, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])


def test_interpolation_start_takes_the_nearest_value_and_rows_after_the_last_target_are_the_future() -> None:
    s = from_text("date,value\n2020-01-01,\n2020-01-02,5\n2020-01-03,7\n2020-01-04,\n2020-01-05,\n")
    np.testing.assert_array_equal(s.values[:, 0], [5, 5, 7])  # the history ends at its last value
    assert s.future is not None
    np.testing.assert_array_equal(s.future.times, np.array(["2020-01-04", "2020-01-05"], dtype="datetime64[ns]"))
    assert s.filled == 1


def test_ffill_then_bfill_at_start() -> None:
    s = from_text("date,value\n2020-01-01,\n2020-01-02,5\n2020-01-04,\n2020-01-05,7\n", fill="ffill")
    np.testing.assert_array_equal(s.values[:, 0], [5, 5, 5, 5, 7])
    assert s.filled == 3


def test_ffill_never_carries_a_value_across_series() -> None:
    text = "id,date,value\na,2020-01-01,1\na,2020-01-02,2\nb,2020-01-01,\nb,2020-01-02,9\n"
    s = from_text(text, id_col="id", fill="ffill")
    np.testing.assert_array_equal(s.values[:, 0], [1, 2, 9, 9])


def test_fill_error_names_the_gap_or_the_empty_cell() -> None:
    with pytest.raises(DataError, match="has no row for 2020-01-03, a gap.*--fill interpolate"):
        from_text("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-04,4\n2020-01-05,5\n", fill="error")
    with pytest.raises(DataError, match=r"row 3: column 'value' is empty; pass --fill"):
        from_text("date,value\n2020-01-01,1\n2020-01-02,\n2020-01-03,3\n", fill="error")


def test_column_without_any_value() -> None:
    with pytest.raises(DataError, match="has no values in column 'f'"):
        from_text("date,value,f\n2020-01-01,1,\n2020-01-02,2,\n", features=["f"])


def test_business_days_with_a_holiday() -> None:
    s = read_series(DATA / "wti_2020_spring.csv")
    assert s.freq == "B"
    assert s.filled == 1  # Good Friday, 2020-04-10
    good_friday = day_strings(s).index("2020-04-10")
    # Linear in time, not in rows: Friday is 1 of the 4 days from Thursday (22.9) to Monday (22.36).
    assert s.values[good_friday, 0] == pytest.approx(22.9 + (22.36 - 22.9) / 4)
    assert s.values[:, 0].min() == -36.98  # the real negative price survives
    assert not np.isin(pd.DatetimeIndex(s.times).day_of_week.to_numpy(), [5, 6]).any()


@pytest.mark.parametrize(
    ("dates", "alias"),
    [
        (["2020-01-01", "2020-02-01", "2020-04-01", "2020-05-01"], "MS"),
        (["2020-01-31", "2020-02-29", "2020-04-30", "2020-05-31"], "ME"),
        (["2020-01-05", "2020-01-12", "2020-01-26", "2020-02-02"], "W-SUN"),
        (["2020-01-01 00:00", "2020-01-01 00:15", "2020-01-01 00:45", "2020-01-01 01:00"], "15min"),
    ],
)
def test_frequency_inferred_despite_a_gap(dates: list[str], alias: str) -> None:
    s = from_text("date,value\n" + "".join(f"{d},{i}\n" for i, d in enumerate(dates)))
    assert s.freq == alias and s.filled == 1 and len(s.times) == 5


def test_given_frequency_is_used_and_checked() -> None:
    s = from_text("date,value\n2020-01-01,1\n2020-01-03,3\n2020-01-05,5\n", freq="D")
    assert s.freq == "D" and s.filled == 2
    with pytest.raises(DataError, match=r"row 3: timestamp 2020-01-02 does not fit frequency MS"):
        from_text(DAILY, freq="MS")
    with pytest.raises(ConfigError, match="--freq 'H' is not a pandas frequency alias"):
        from_text(DAILY, freq="H")


def test_a_far_off_timestamp_does_not_explode_the_grid() -> None:
    text = "date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n2220-01-04,4\n"
    with pytest.raises(DataError, match="more than twice as many; check --freq"):
        from_text(text, freq="h")
    with pytest.raises(DataError, match="cannot infer the frequency .* pass --freq"):
        from_text(text)


def test_series_with_different_frequencies_are_refused() -> None:
    text = ("id,date,value\na,2020-01-01,1\na,2020-01-02,2\na,2020-01-03,3\n"
            "b,2020-01-01 00:00,1\nb,2020-01-01 01:00,2\nb,2020-01-01 02:00,3\n")
    with pytest.raises(DataError, match="series 'a' has frequency D but series 'b' has h"):
        from_text(text, id_col="id")


def test_fill_policy_is_checked() -> None:
    with pytest.raises(ConfigError, match="--fill must be one of"):
        from_text(DAILY, fill="mean")


# --- many series ------------------------------------------------------------------------------


def long_table(n_series: int, n_rows: int, seed: int = 0, gaps: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for s in range(n_series):
        stamps = pd.date_range("2021-01-01", periods=n_rows + 3, freq="h")
        keep = np.sort(rng.choice(n_rows + 3, n_rows, replace=False)) if gaps else np.arange(n_rows)
        frames.append(pd.DataFrame({"store": f"s{s:03d}", "time": stamps[keep], "sales": rng.normal(size=n_rows)}))
    return pd.concat(frames, ignore_index=True)


def test_id_column_many_series_shuffled() -> None:
    df = long_table(60, 50)
    shuffled = df.sample(frac=1.0, random_state=1)
    raw = shuffled.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S").encode()
    s = from_text(raw, id_col="store")
    assert s.freq == "h" and len(s.ids) == 60
    assert set(s.ids) == set(df["store"])
    filled = 0
    for k, name in enumerate(s.ids):
        part = df[df["store"] == name].set_index("time")["sales"]
        times = s.times[s.offsets[k] : s.offsets[k + 1]]
        got = pd.Series(s.values[s.offsets[k] : s.offsets[k + 1], 0], index=times)
        assert (np.diff(times) == np.timedelta64(1, "h")).all()
        assert times[0] == part.index.min() and times[-1] == part.index.max()
        np.testing.assert_array_equal(got.loc[part.index].to_numpy(), part.to_numpy())
        filled += len(times) - len(part)
    assert s.filled == filled


def test_numeric_ids_stay_as_written() -> None:
    s = from_text("id,date,value\n007,2020-01-01,1\n007,2020-01-02,2\n12,2020-01-01,3\n12,2020-01-02,4\n", id_col="id")
    assert s.ids == ("007", "12") and s.offsets.tolist() == [0, 2, 4]


def test_duplicates_within_one_series_of_many() -> None:
    with pytest.raises(DataError, match=r"2020-01-02 in series 'b' \(rows 4 and 6\)"):
        from_text("id,date,value\na,2020-01-02,1\nb,2020-01-01,1\nb,2020-01-02,2\na,2020-01-03,2\nb,2020-01-02,3\n",
                  id_col="id")


def test_missing_series_id() -> None:
    with pytest.raises(DataError, match="row 3: column 'id' .* is empty"):
        from_text("id,date,value\na,2020-01-01,1\n,2020-01-02,2\n", id_col="id")


def test_thousand_series_of_two_thousand_rows_is_fast() -> None:
    n_series, n_rows = 1000, 2000
    stamps = pd.date_range("2015-01-01", periods=n_rows, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    table = pa.table({
        "id": np.repeat(np.array([f"s{i}" for i in range(n_series)], dtype=object), n_rows),
        "time": np.tile(np.asarray(stamps, dtype=object), n_series),
        "y": np.random.default_rng(0).normal(size=n_series * n_rows),
    })
    sink = pa.BufferOutputStream()
    pcsv.write_csv(table, sink)
    raw = sink.getvalue().to_pybytes()
    start = time.perf_counter()
    s = read_series("-", stdin=io.BytesIO(raw), id_col="id")
    elapsed = time.perf_counter() - start
    assert s.values.shape == (n_series * n_rows, 1) and len(s.ids) == n_series and s.freq == "h"
    # Generous: measured about 1-2 s; per-row Python would take minutes.
    assert elapsed < 15, f"read_series took {elapsed:.1f}s for 2M rows"


# --- real data ----------------------------------------------------------------------------------


def test_bundled_sample_data() -> None:
    # The project's own copy of the EIA Brent series (sample_data/README.md), not ../shared.
    path = SAMPLE_DATA / "brent_crude_daily.csv"
    s = read_series(path)
    raw = pd.read_csv(path, parse_dates=["timestamp"])
    assert s.freq == "B" and (s.time_col, s.target) == ("timestamp", "value")
    assert len(s.times) == 9_958 + s.filled  # every file row kept, holidays inserted
    kept = pd.Series(s.values[:, 0], index=s.times).loc[raw["timestamp"]]
    np.testing.assert_array_equal(kept.to_numpy(), raw["value"].to_numpy())
    assert np.isfinite(s.values).all()


def test_bundled_long_format_sample() -> None:
    s = read_series(SAMPLE_DATA / "oil_prices_long.csv", id_col="series")
    assert s.ids == ("brent", "wti") and s.freq == "B" and s.target == "price"
    assert s.values.min() < 0  # WTI's real -36.98 of 2020-04-20 is kept, not "cleaned"


# --- writing forecasts -----------------------------------------------------------------------


def forecast_table() -> dict[str, np.ndarray]:
    return {
        "id": np.array(["a", "b,c", 'q"uote']),
        "time": np.array(["2020-01-01T00:00", "2020-01-01T01:00", "2020-01-01T02:30"], dtype="datetime64[ns]"),
        "forecast": np.array([1.0, 1 / 3, np.nan]),
        "step": np.array([1, 2, 3]),
    }


def test_csv_output() -> None:
    out = io.BytesIO()
    write_forecast(forecast_table(), "csv", out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode())))
    assert rows[0] == ["id", "time", "forecast", "step"]
    assert rows[1] == ["a", "2020-01-01T00:00:00", "1", "1"]
    assert rows[2] == ["b,c", "2020-01-01T01:00:00", format(1 / 3, ".10g"), "2"]
    assert rows[3] == ['q"uote', "2020-01-01T02:30:00", "", "3"]
    assert len(rows) == 4


def test_csv_dates_and_zones() -> None:
    out = io.BytesIO()
    write_forecast({"date": np.array(["2020-03-28", "2020-03-29"], dtype="datetime64[ns]")}, "csv", out, tz="+01:00")
    assert out.getvalue().decode().split() == ["date", "2020-03-28", "2020-03-29"]
    hours = np.array(["2020-03-29T01:00", "2020-03-29T03:00"], dtype="datetime64[ns]")
    out = io.BytesIO()
    write_forecast({"t": hours}, "csv", out, tz="Europe/Paris")
    assert out.getvalue().decode().split() == ["t", "2020-03-29T01:00:00+01:00", "2020-03-29T03:00:00+02:00"]
    out = io.BytesIO()
    write_forecast({"t": hours}, "csv", out, tz="-05:30")
    assert out.getvalue().decode().split()[1] == "2020-03-29T01:00:00-05:30"


def test_json_output() -> None:
    out = io.BytesIO()
    write_forecast(forecast_table(), "json", out, tz="UTC")
    records = json.loads(out.getvalue())
    assert records[0] == {"id": "a", "time": "2020-01-01T00:00:00+00:00", "forecast": 1.0, "step": 1}
    assert records[1]["forecast"] == 1 / 3 and records[2]["forecast"] is None
    empty = io.BytesIO()
    write_forecast({"x": np.array([], dtype=float)}, "json", empty)
    assert json.loads(empty.getvalue()) == []


def test_parquet_output_keeps_types_and_instants() -> None:
    out = io.BytesIO()
    write_forecast(forecast_table(), "parquet", out, tz="Europe/Paris")
    back = pq.read_table(io.BytesIO(out.getvalue()))
    assert back.column_names == ["id", "time", "forecast", "step"]
    assert back.column("id").to_pylist() == ["a", "b,c", 'q"uote']
    first = back.column("time")[0].as_py()
    assert first.isoformat() == "2020-01-01T00:00:00+01:00"
    np.testing.assert_array_equal(back.column("forecast").to_numpy(zero_copy_only=False), forecast_table()["forecast"])


def test_written_csv_reads_back(tmp_path: Path) -> None:
    times = pd.date_range("2020-01-01", periods=30, freq="D").to_numpy()
    values = np.random.default_rng(3).normal(size=30) * 1e3
    path = tmp_path / "out.csv"
    write_forecast({"date": times, "value": values}, "csv", path)
    s = read_series(path)
    np.testing.assert_allclose(s.values[:, 0], values, rtol=1e-9)
    assert s.freq == "D" and (s.times == times).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=3, max_size=40))
def test_csv_round_trip_property(values: list[float]) -> None:
    times = pd.date_range("2001-01-01", periods=len(values), freq="h").to_numpy()
    out = io.BytesIO()
    write_forecast({"time": times, "value": np.array(values)}, "csv", out)
    s = read_series("-", stdin=io.BytesIO(out.getvalue()))
    expected = [float(format(v, ".10g")) if abs(v) < 1e308 else v for v in values]
    np.testing.assert_array_equal(s.values[:, 0], expected)


def test_writing_a_path_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.csv"
    write_forecast({"x": np.arange(3.0)}, "csv", path)
    before = path.read_bytes()

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(ConfigError, match=r"cannot write the forecast to .*f\.csv: no space left"):
        write_forecast({"x": np.arange(1e5)}, "csv", path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["f.csv"]


def test_unknown_zone_on_output() -> None:
    t = np.array(["2020-01-01T01:00"], dtype="datetime64[ns]")
    for kind in ("csv", "parquet"):
        with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
            write_forecast({"t": t}, kind, io.BytesIO(), tz="Mars/Olympus")


def test_unknown_output_format() -> None:
    with pytest.raises(ConfigError, match="--format must be one of csv, json, parquet"):
        write_forecast({"x": np.arange(2.0)}, "xlsx", io.BytesIO())


def test_csv_output_needs_neither_pandas_nor_pyarrow() -> None:
    code = (
        "import io, sys, numpy as np\n"
        "from rnncast.io import write_forecast\n"
        "t = np.array(['2020-01-01'], dtype='datetime64[ns]')\n"
        "write_forecast({'time': t, 'y': np.ones(1)}, 'csv', io.BytesIO(), tz='Europe/Paris')\n"
        "write_forecast({'time': t, 'y': np.ones(1)}, 'json', io.BytesIO())\n"
        "heavy = sorted(m for m in ('pandas', 'pyarrow', 'numba') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
