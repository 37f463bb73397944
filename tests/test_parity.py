"""The engine matches PyTorch: `rnncast.parity.evaluate` reproduces every shipped fixture
and agrees with the NumPy reference on shapes no fixture has."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import reference as ref

TOL = 1e-9

Evaluate = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


@pytest.fixture(scope="module")
def evaluate() -> Evaluate:
    # Imported here, not at module level, so a missing or broken rnncast.parity fails these
    # tests one by one instead of aborting the collection of the whole suite.
    from rnncast.parity import evaluate

    return evaluate


def _assert_matches(got: dict[str, np.ndarray], want: dict[str, np.ndarray], label: str) -> None:
    missing = sorted(set(want) - set(got))
    assert not missing, f"{label}: evaluate() returned no {', '.join(missing)}"
    for key, expected in want.items():
        assert np.shape(got[key]) == expected.shape, (
            f"{label}: {key} has shape {np.shape(got[key])}, expected {expected.shape}"
        )
        err = ref.scaled_error(got[key], expected)
        assert err <= TOL, f"{label}: {key} is off by {err:.3e}"


@pytest.mark.parametrize("path", ref.fixture_paths(), ids=lambda p: p.stem)
def test_fixture(evaluate: Evaluate, path: Path) -> None:
    fixture = ref.load_fixture(path)
    got = evaluate({k: v for k, v in fixture.items() if ref.is_input_key(k)})
    want = {k: v for k, v in fixture.items() if not ref.is_input_key(k)}
    _assert_matches(got, want, path.name)


SHAPES = [  # (T, B, I, H, L), none of them shipped as a fixture
    (5, 3, 4, 7, 2),
    (9, 1, 2, 3, 3),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}_B{}_I{}_H{}_L{}".format(*s))
@pytest.mark.parametrize("cell", sorted(ref.GATES))
def test_agrees_with_reference(evaluate: Evaluate, cell: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng([sorted(ref.GATES).index(cell), *shape])
    arrays = ref.random_inputs(rng, cell, *shape)
    want = ref.evaluate_fixture(arrays)
    # Hand over copies, so an evaluate that writes into its inputs cannot fool the check.
    got = evaluate({k: v.copy() for k, v in arrays.items()})
    _assert_matches(got, want, "{} T{} B{} I{} H{} L{}".format(cell, *shape))
