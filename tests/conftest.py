"""Fixtures the test modules share: a working folder per module."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline: tests assert behaviour, never speed, and a busy machine (a benchmark on
# the other core) made examples of plain NumPy code exceed Hypothesis' default 200 ms.
settings.register_profile("rnncast", deadline=None)
settings.load_profile("rnncast")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")
