"""rnncast: time-series forecasting with LSTM/GRU networks on Numba kernels.

    import rnncast
    model = rnncast.fit("prices.csv")
    rnncast.save(model, "prices.rnncast")
    table = rnncast.forecast(rnncast.load("prices.rnncast"))

The API (rnncast.api) is loaded on first use (PEP 562), so `import rnncast` and
`rnncast --help` stay fast: NumPy, pandas and Numba are imported only when a function
that needs them runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnncast.errors import ConfigError, DataError, ModelFileError, RnncastError, TrainingError
from rnncast.version import __version__

# Names served by rnncast.api on first access.
_API = ("Model", "ModelGroup", "backtest", "describe", "fit", "fit_groups", "forecast", "load", "read", "save",
        "save_report", "write_forecast")
# The specs, from the pure-Python rnncast.config.
_SPECS = ("BacktestSpec", "NetSpec", "ReadSpec", "TrainSpec", "WindowSpec")

__all__ = [
    "BacktestSpec", "ConfigError", "DataError", "Model", "ModelFileError", "ModelGroup", "NetSpec", "ReadSpec",
    "RnncastError", "TrainSpec", "TrainingError", "WindowSpec", "__version__", "backtest", "describe", "fit",
    "fit_groups", "forecast", "load", "read", "save", "save_report", "write_forecast",
]

if TYPE_CHECKING:
    from rnncast.api import (
        Model,
        ModelGroup,
        backtest,
        describe,
        fit,
        fit_groups,
        forecast,
        load,
        read,
        save,
        save_report,
        write_forecast,
    )
    from rnncast.config import BacktestSpec, NetSpec, ReadSpec, TrainSpec, WindowSpec


def __getattr__(name: str) -> Any:
    if name in _API:
        from rnncast import api

        return getattr(api, name)
    if name in _SPECS:
        from rnncast import config

        return getattr(config, name)
    raise AttributeError(f"module 'rnncast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
