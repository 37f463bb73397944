"""A `Model` to and from one file: the header's fields, the arrays' names, the checks made on loading.

The bytes (preamble, JSON header, aligned arrays, checksum) are rnncast.format's; the
atomic replace is rnncast.atomic's. Loading never runs code from the file.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from rnncast.config import NetSpec, TrainSpec, WindowSpec
from rnncast.errors import ConfigError, ModelFileError
from rnncast.forecaster import Model
from rnncast.intervals import LEVELS
from rnncast.statics import StaticColumn
from rnncast.windows import ScalerStats

MODEL_KIND = "rnncast-model"


def save_model(model: Model, path: str | os.PathLike[str]) -> None:
    """Write the model to one file, atomically."""
    from rnncast.format import save_model as save_file

    save_file(path, *model_parts(model))


def model_bytes(model: Model) -> bytes:
    """The file save_model writes, as bytes (to send to another process)."""
    from rnncast.format import encode

    return encode(*model_parts(model))


def model_from_bytes(data: bytes, name: str = "model") -> Model:
    """load_model on model_bytes' bytes."""
    from rnncast.format import decode

    return model_from_parts(*decode(data, Path(name)), name)


def model_parts(model: Model) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The file's header and named arrays."""
    header = {
        "kind": MODEL_KIND,
        "rnncast_version": model.version,
        "net": asdict(model.net),
        "window": asdict(model.window),
        "train": asdict(model.train),
        "scaler": model.scaler.kind,
        "ids": list(model.ids),
        "columns": {"target": model.target, "features": list(model.features),
                    "time": model.time_col, "id": model.id_col, "known": list(model.known)},
        "static": [column.header() for column in model.static],
        "freq": model.freq,
        "tz": model.tz,
        "calendar": list(model.calendar),
        "interval_levels": [int(LEVELS[0]), int(LEVELS[-1])] if model.intervals is not None else None,
        "metrics": model.metrics,
        "intervals": describe_intervals(model),
        "data_fingerprint": model.data_fingerprint,
        "lineage": list(model.lineage),
        "blend": model.blend,
    }
    arrays = {f"weights/{name}": value for name, value in model.params.items()}
    arrays.update({
        "scaler/loc": model.scaler.loc,
        "scaler/scale": model.scaler.scale,
        "history/values": model.history,
        "history/last_times": model.last_times.view(np.int64),
        "history/future_times": model.future_times.view(np.int64),
    })
    if model.intervals is not None:
        arrays["intervals/offsets"] = model.intervals
    if model.static_values is not None:
        arrays["static/values"] = model.static_values
    if model.linear is not None:
        arrays["linear/coefficients"] = model.linear
    return header, arrays


def load_model(path: str | os.PathLike[str]) -> Model:
    """Read a model file written by `save_model`, or ModelFileError saying why it cannot be used."""
    from rnncast.format import load_model as load_file

    return model_from_parts(*load_file(path), path)


def model_from_parts(header: dict[str, Any], arrays: dict[str, np.ndarray], path: str | os.PathLike[str]) -> Model:
    """The Model of a file's header and arrays, or ModelFileError naming `path`."""
    from rnncast.params import ParamLayout

    try:
        if header.get("kind") != MODEL_KIND:
            raise KeyError("kind")
        net = NetSpec(**header["net"])
        layout = ParamLayout.for_spec(net)
        params = {name: arrays[f"weights/{name}"].astype(np.float32) for name in layout.names}
        for name, shape in zip(layout.names, layout.shapes):
            if params[name].shape != shape:
                raise ValueError(f"weight {name} has shape {params[name].shape}, expected {shape}")
        columns = header["columns"]
        # A file from before transforms (or blends) has none in its window: its model learnt the
        # target as is, and forecasts with the network alone.
        model = Model(
            net=net, window=WindowSpec(**{"transform": "none", "combine": "none", **header["window"]}),
            train=TrainSpec(**header["train"]),
            params=params,
            scaler=ScalerStats(header["scaler"], arrays["scaler/loc"], arrays["scaler/scale"]),
            ids=tuple(header["ids"]), target=columns["target"], features=tuple(columns["features"]),
            time_col=columns["time"], id_col=columns["id"], freq=header["freq"], tz=header["tz"],
            history=arrays["history/values"],
            last_times=arrays["history/last_times"].view("datetime64[ns]"),
            future_times=arrays["history/future_times"].view("datetime64[ns]"),
            calendar=tuple(header.get("calendar", ())),
            intervals=arrays.get("intervals/offsets"),
            metrics=header.get("metrics", {}), data_fingerprint=header.get("data_fingerprint", ""),
            lineage=tuple(header.get("lineage", ())),
            version=header.get("rnncast_version", "?"),
            known=tuple(columns.get("known", ())),
            static=tuple(StaticColumn.from_header(entry) for entry in header.get("static", ())),
            static_values=arrays.get("static/values"),
            blend=float(header.get("blend", 1.0)),
            linear=arrays.get("linear/coefficients"),
        )
        check_loaded(model)
        return model
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise ModelFileError(f"{path} is not a usable rnncast model ({exc}); fit it again") from exc


def check_loaded(model: Model) -> None:
    """ValueError unless the arrays agree in shape and hold finite numbers and real times.

    The checksum proves the file is as written, not that what was written makes sense
    (a bug, or a file edited through the API): never forecast from such a model.
    """
    S, R, K, F = len(model.ids), model.history_rows, model.net.horizon, len(model.columns)
    if model.window.patch is None:  # a stored window is resolved
        raise ValueError("the window has no patch size")
    if not 0.0 <= model.blend <= 1.0:
        raise ValueError(f"the blend weight is {model.blend}, outside 0..1")
    for name, array, shape in [("history/values", model.history, (S, R, F)),
                               ("history/last_times", model.last_times, (S,)),
                               ("history/future_times", model.future_times, (S, K)),
                               ("scaler/loc", model.scaler.loc, (S, F))]:
        if array.shape != shape:
            raise ValueError(f"{name} has shape {array.shape}, expected {shape} for {S} series")
    if model.static and (model.static_values is None or model.static_values.shape != (S, model.static_width)):
        got = None if model.static_values is None else model.static_values.shape
        raise ValueError(f"static/values has shape {got}, expected {(S, model.static_width)}")
    if model.intervals is not None and model.intervals.shape != (2, len(LEVELS), K):
        raise ValueError(f"intervals/offsets has shape {model.intervals.shape}, expected {(2, len(LEVELS), K)}")
    if (model.window.combine == "linear" and model.blend < 1.0) != (model.linear is not None):
        raise ValueError("a linear blend needs its coefficients (linear/coefficients), and only it has them")
    if model.linear is not None and model.linear.shape != (model.lookback + 1, K):
        raise ValueError(f"linear/coefficients has shape {model.linear.shape}, expected {(model.lookback + 1, K)}")
    for name, weights in [*model.params.items(), *([("linear/coefficients", model.linear)] if model.linear is not None
                                                   else [])]:
        if not np.isfinite(weights).all():
            raise ValueError(f"weight {name} holds NaN or infinity")
    if not np.isfinite(model.history).all():
        raise ValueError("the stored history holds NaN or infinity")
    if np.isnat(model.last_times).any() or np.isnat(model.future_times).any():
        raise ValueError("a stored timestamp is missing (NaT)")


def describe_intervals(model: Model) -> dict[str, Any] | None:
    """Calibrated 80 % and 95 % interval offsets per horizon step for series 0's stored history."""
    from rnncast.features import volatility

    if model.intervals is None:
        return None
    from rnncast.transform import to_model

    history = model.scaler.windows(to_model(model.window.transform, model.history[:1, -model.lookback :]), np.arange(1))
    scale = float(model.scaler.scale[0, 0]) * float(volatility(history)[0])
    relative = model.window.transform == "log"  # offsets of log(target): factors of the forecast
    described = {
        "method": "split conformal on validation residuals per horizon step, scaled by each window's volatility; "
                  "with newer data, also by their misses on it (adaptive conformal)",
        "levels": _available_levels(model.intervals),
        **{f"{lv}%": {"lower": [_json_offset(v, scale, relative) for v in model.intervals[0, lv - 1]],
                      "upper": [_json_offset(v, scale, relative) for v in model.intervals[1, lv - 1]]}
           for lv in (80, 95)},
    }
    if relative:
        described["offsets"] = "relative: the bound is the forecast x (1 + offset)"
    return described


def _available_levels(offsets: np.ndarray) -> str:
    """The levels (in %) that `offsets` calibrated, as ranges: "1..99 %", or "1..94 %" with too few windows for more."""
    finite = [int(level) for level in LEVELS if np.isfinite(offsets[:, level - 1]).all()]
    if not finite:
        return "none (too few validation windows)"
    ranges, start = [], finite[0]
    for previous, level in zip(finite, finite[1:] + [None]):
        if level != previous + 1:
            ranges.append(f"{start}..{previous}" if previous != start else f"{start}")
            start = level if level is not None else start
    return ", ".join(ranges) + " %"


def _json_offset(value: float, scale: float, relative: bool = False) -> float | None:
    # Too few validation windows leave a level unbounded (+-inf, see rnncast.intervals);
    # JSON has no infinity, so the header says null.
    if not np.isfinite(value):
        return None
    return round(float(np.expm1(float(value) * scale)) if relative else float(value) * scale, 6)
