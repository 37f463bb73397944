"""rnncast: time-series forecasting with LSTM/GRU networks on Numba kernels.

The public API is loaded lazily so that `import rnncast` (and `rnncast --help`) stays
fast: NumPy, pandas and Numba are imported only when a function that needs them runs.
"""

from __future__ import annotations

from rnncast.errors import ConfigError, DataError, ModelFileError, RnncastError, TrainingError

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "ModelFileError",
    "RnncastError",
    "TrainingError",
    "__version__",
]
