"""Parameter names, shapes and initialization: the network's tensors as PyTorch names them.

No Numba here: loading a model file and forecasting import this without the kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnncast.config import NetSpec


def layer_names(layer: int) -> tuple[str, str, str, str]:
    """PyTorch's names for layer k's tensors."""
    return (f"weight_ih_l{layer}", f"weight_hh_l{layer}", f"bias_ih_l{layer}", f"bias_hh_l{layer}")


@dataclass(frozen=True)
class ParamLayout:
    """Names, shapes and offsets of every tensor in the flat parameter buffer."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]
    size: int

    @classmethod
    def for_spec(cls, spec: NetSpec) -> ParamLayout:
        G, H = spec.gates, spec.hidden
        names: list[str] = []
        shapes: list[tuple[int, ...]] = []
        for k in range(spec.layers):
            inputs = spec.inputs if k == 0 else H
            names += layer_names(k)
            shapes += [(G * H, inputs), (G * H, H), (G * H,), (G * H,)]
        names += ["head.weight", "head.bias"]
        shapes += [(spec.horizon, H + spec.head_extra), (spec.horizon,)]
        sizes = [int(np.prod(s)) for s in shapes]
        offsets = tuple(int(o) for o in np.concatenate([[0], np.cumsum(sizes)[:-1]]))
        return cls(tuple(names), tuple(shapes), offsets, int(sum(sizes)))

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Named views into `flat` (writes through)."""
        return {
            name: flat[off : off + int(np.prod(shape))].reshape(shape)
            for name, shape, off in zip(self.names, self.shapes, self.offsets)
        }

    def flatten(self, params: dict[str, np.ndarray], dtype=np.float32) -> np.ndarray:
        """A new flat buffer holding `params` (every name required, shapes checked)."""
        flat = np.empty(self.size, dtype)
        for name, view in self.views(flat).items():
            if name not in params:
                raise KeyError(f"missing parameter {name!r}")
            value = np.asarray(params[name])
            if value.shape != view.shape:
                raise ValueError(f"parameter {name!r} has shape {value.shape}, expected {view.shape}")
            view[...] = value
        return flat


def init_params(spec: NetSpec, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """A flat buffer initialized as PyTorch does.

    Recurrent layers: U(-1/sqrt(H), 1/sqrt(H)) (torch.nn.LSTM/GRU/RNN). Head: torch.nn.Linear's
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = H + E, so a wide head (the lookback
    window as extra inputs) starts as small as a linear model over those inputs would.
    """
    layout = ParamLayout.for_spec(spec)
    flat = np.empty(layout.size, dtype)
    for name, view in layout.views(flat).items():
        fan_in = spec.hidden + spec.head_extra if name.startswith("head.") else spec.hidden
        bound = 1.0 / np.sqrt(fan_in)
        view[...] = rng.uniform(-bound, bound, view.shape)
    return flat
