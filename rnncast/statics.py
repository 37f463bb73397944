"""Per-series attributes (--static) as numbers a network can use: text one-hot, numbers standardised.

Fitted once on the training series and stored in the model file as plain JSON
(categories, mean, spread), so predict encodes new series the same way. A category the
fit never saw encodes as all zeros (no known category), and the caller is told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rnncast.errors import DataError


@dataclass(frozen=True)
class StaticColumn:
    """How one attribute is encoded: `categories` for text (one input each), else loc/scale."""

    name: str
    categories: tuple[str, ...] | None = None  # None: a number
    loc: float = 0.0
    scale: float = 1.0

    @property
    def width(self) -> int:
        return len(self.categories) if self.categories is not None else 1

    def header(self) -> dict[str, Any]:
        """As JSON for the model file."""
        return {**asdict(self), "categories": None if self.categories is None else list(self.categories)}

    @classmethod
    def from_header(cls, entry: Mapping[str, Any]) -> StaticColumn:
        categories = entry.get("categories")
        return cls(str(entry["name"]), None if categories is None else tuple(str(c) for c in categories),
                   float(entry.get("loc", 0.0)), float(entry.get("scale", 1.0)))


def is_category(values: np.ndarray) -> bool:
    """Text attributes are categories; numbers (and booleans) are numbers."""
    return values.dtype.kind in "OUS"


def fit_statics(statics: Mapping[str, np.ndarray]) -> tuple[StaticColumn, ...]:
    """One StaticColumn per attribute, from the (S,) values of the training series."""
    out = []
    for name, values in statics.items():
        if is_category(values):
            out.append(StaticColumn(name, tuple(sorted({str(v) for v in values}))))
        else:
            numbers = values.astype(np.float64)
            spread = float(numbers.std())
            out.append(StaticColumn(name, None, float(numbers.mean()), spread if spread > 0 else 1.0))
    return tuple(out)


def encode(columns: Sequence[StaticColumn], statics: Mapping[str, np.ndarray], ids: Sequence[str],
           notes: list[str] | None = None) -> np.ndarray:
    """(S, sum of widths) float32 inputs for the S series; unseen categories noted in `notes`."""
    parts = [np.zeros((len(ids), 0), np.float32)]
    for column in columns:
        values = statics[column.name]
        if column.categories is None:
            if is_category(values):
                raise DataError(f"static column {column.name!r} was numeric in the fit but holds text "
                                f"({str(values[0])!r} for series {ids[0]!r}); give it as numbers")
            parts.append(((values.astype(np.float64) - column.loc) / column.scale)[:, None].astype(np.float32))
            continue
        text = np.array([str(v) for v in values], dtype=object)
        onehot = (text[:, None] == np.array(column.categories, dtype=object)[None, :]).astype(np.float32)
        unseen = np.flatnonzero(onehot.sum(axis=1) == 0)
        if unseen.size and notes is not None:
            s = int(unseen[0])
            more = f" and {unseen.size - 1} more series" if unseen.size > 1 else ""
            notes.append(f"static {column.name!r}: {text[s]!r} of series {ids[s]!r}{more} was not seen in the fit; "
                         "forecast as of no known category")
        parts.append(onehot)
    return np.concatenate(parts, axis=1)
