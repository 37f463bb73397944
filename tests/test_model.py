"""Engine invariants: float32 activations, batching, inference mode, dropout, chunking."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import reference
from rnncast.config import NetSpec
from rnncast.kernels.jit import kernel
from rnncast.kernels.mathfn import sigmoid, tanh
from rnncast.model import ParamLayout, Workspace, init_params, loss_and_grad, page_backed, predict, stack_forward


@kernel
def _apply_activations(x, out_tanh, out_sigmoid):
    for i in range(x.size):
        out_tanh[i] = tanh(x[i])
        out_sigmoid[i] = sigmoid(x[i])


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 5e-7), (np.float64, 1e-15)])
def test_activations_match_numpy(dtype, tolerance: float) -> None:
    x = np.concatenate([np.linspace(-30, 30, 200_001), [0.0, -0.0, 1e-8, -1e-8, 9.0, -9.0]]).astype(dtype)
    t, s = np.empty_like(x), np.empty_like(x)
    _apply_activations(x, t, s)
    x64 = x.astype(np.float64)
    assert np.max(np.abs(t - np.tanh(x64))) < tolerance
    assert np.max(np.abs(s - 1 / (1 + np.exp(-x64)))) < tolerance
    assert np.all(np.abs(t) <= 1) and np.all((s >= 0) & (s <= 1))


def _network(cell: str, layers: int = 2, dtype=np.float32, dropout: float = 0.0):
    spec = NetSpec(cell=cell, inputs=2, hidden=5, layers=layers, horizon=3, dropout=dropout)
    flat = init_params(spec, np.random.default_rng(1), dtype=dtype)
    return spec, ParamLayout.for_spec(spec), flat


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_float32_forward_close_to_float64_reference(cell: str) -> None:
    spec, layout, flat = _network(cell)
    x = np.random.default_rng(2).standard_normal((7, 20, 2))
    params64 = {k: v.astype(np.float64) for k, v in layout.views(flat).items()}
    h0 = np.zeros((spec.layers, 20, spec.hidden))
    want, *_ = reference.forward(cell, params64, x, h0, h0 if cell == "lstm" else None)
    got = stack_forward(spec, layout.views(flat), x.astype(np.float32)).hs[-1][1:]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=2e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_predict_batched_equals_one_by_one_and_training_forward(cell: str) -> None:
    spec, layout, flat = _network(cell)
    views = layout.views(flat)
    windows = np.random.default_rng(3).standard_normal((37, 6, 2)).astype(np.float32)
    batched = predict(spec, views, windows)
    singles = np.concatenate([predict(spec, views, windows[i : i + 1]) for i in range(len(windows))])
    # Equal up to float32 rounding: blocks of rows may sum in a different vector order.
    np.testing.assert_allclose(batched, singles, rtol=1e-6, atol=1e-7)
    # Inference keeps one step of state; training keeps all. Same numbers either way.
    state = stack_forward(spec, views, np.ascontiguousarray(windows.transpose(1, 0, 2)), keep=True)
    head = state.hs[-1][-1] @ views["head.weight"].T + views["head.bias"]
    np.testing.assert_allclose(batched, head, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_dropout_zero_is_identical_to_no_dropout(cell: str) -> None:
    spec, layout, flat = _network(cell, layers=3, dropout=0.0)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 16, 2)).astype(np.float32)
    y = rng.standard_normal((16, 3)).astype(np.float32)
    g_none, g_rng = np.zeros_like(flat), np.zeros_like(flat)
    views = layout.views(flat)
    a = loss_and_grad(spec, views, layout.views(g_none), x, y, "mse")
    b = loss_and_grad(spec, views, layout.views(g_rng), x, y, "mse", dropout_rng=np.random.default_rng(9))
    assert a == b
    np.testing.assert_array_equal(g_none, g_rng)


def test_dropout_is_seeded_and_changes_training_only() -> None:
    spec, layout, flat = _network("lstm", layers=2, dropout=0.5)
    views = layout.views(flat)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 16, 2)).astype(np.float32)
    y = rng.standard_normal((16, 3)).astype(np.float32)
    grads = [np.zeros_like(flat) for _ in range(3)]
    losses = [loss_and_grad(spec, views, layout.views(g), x, y, "mse", dropout_rng=np.random.default_rng(s))
              for g, s in zip(grads, (1, 1, 2))]
    assert losses[0] == losses[1] and losses[0] != losses[2]
    np.testing.assert_array_equal(grads[0], grads[1])
    # predict never drops: it equals the dropout-free network.
    plain = NetSpec(**{**spec.__dict__, "dropout": 0.0})
    windows = np.ascontiguousarray(x.transpose(1, 0, 2))
    np.testing.assert_array_equal(predict(spec, views, windows), predict(plain, views, windows))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_batch_split_over_threads_matches_single_thread(cell: str) -> None:
    spec, layout, flat = _network(cell, dtype=np.float64)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((6, 64, 2))
    y = rng.standard_normal((64, 3))
    results = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            grads = np.zeros_like(flat)
            value = loss_and_grad(spec, layout.views(flat), layout.views(grads), x, y, "huber")
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        results.append((value, grads))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-13)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("shape, dtype", [((49, 64, 256), np.float32), ((256, 1024), np.float32), ((3, 5), np.float64)])
def test_workspace_buffers_are_plain_arrays_and_the_large_ones_start_on_a_huge_page(shape, dtype) -> None:
    buf = page_backed(shape, dtype)
    assert buf.shape == shape and buf.dtype == dtype and buf.flags.c_contiguous and buf.flags.writeable
    buf[...] = 1.0
    assert buf.sum() == buf.size  # every element its own memory
    if buf.nbytes >= 256 << 10:
        assert buf.ctypes.data % (2 << 20) == 0
    workspace = Workspace()
    assert workspace.get("a", shape, dtype) is workspace.get("a", shape, dtype)
