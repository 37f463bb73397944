"""A ModelGroup to and from one model file, and reading a file that holds either a Model or a ModelGroup.

The container is rnncast.format's, as for one model: the header lists each member's own
header (rnncast.modelfile's), and member i's arrays are named "group{i}/<name>". Loading
checks every member exactly as a single model is checked, and never runs code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from rnncast.errors import ModelFileError
from rnncast.forecaster import Model
from rnncast.groups import ModelGroup
from rnncast.modelfile import model_from_parts, model_parts, save_model

GROUP_KIND = "rnncast-model-group"


def group_parts(group: ModelGroup) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The file's header and named arrays."""
    headers, arrays = [], {}
    for i, model in enumerate(group.models):
        header, named = model_parts(model)
        headers.append(header)
        arrays.update({f"group{i}/{name}": value for name, value in named.items()})
    return {"kind": GROUP_KIND, "by": group.by, "groups": list(group.values), "models": headers}, arrays


def group_from_parts(header: dict[str, Any], arrays: dict[str, np.ndarray],
                     path: str | os.PathLike[str]) -> ModelGroup:
    """The ModelGroup of a file's header and arrays, or ModelFileError naming `path` (and the group)."""
    by, values, headers = header.get("by"), header.get("groups"), header.get("models")
    if not (isinstance(by, str) and isinstance(values, list) and isinstance(headers, list)
            and all(isinstance(v, str) for v in values) and all(isinstance(h, dict) for h in headers)
            and len(values) == len(headers) and len(set(values)) == len(values) and values):
        raise ModelFileError(f"{path} is not a usable rnncast model group (its 'by', 'groups' or 'models' are "
                             "missing or do not match); fit it again")
    models = []
    for i, (value, member) in enumerate(zip(values, headers)):
        prefix = f"group{i}/"
        own = {name[len(prefix):]: array for name, array in arrays.items() if name.startswith(prefix)}
        models.append(model_from_parts(member, own, f"{path} (group {value!r})"))
    return ModelGroup(by, tuple(values), tuple(models))


def save_model_or_group(model: Model | ModelGroup, path: str | os.PathLike[str]) -> None:
    """Write a model or a group of them to one file, atomically."""
    if not isinstance(model, ModelGroup):
        save_model(model, path)
        return
    from rnncast.format import save_model as save_file

    save_file(path, *group_parts(model))


def load_model_or_group(path: str | os.PathLike[str]) -> Model | ModelGroup:
    """What a model file holds: a Model, or a ModelGroup (a file of `fit --by`); ModelFileError if neither."""
    from rnncast.format import load_model as load_file

    return model_or_group_from_parts(*load_file(path), path)


def model_or_group_from_parts(header: dict[str, Any], arrays: dict[str, np.ndarray],
                              path: str | os.PathLike[str]) -> Model | ModelGroup:
    """A file's header and arrays as what they hold: a ModelGroup when its kind says so, else a Model."""
    if header.get("kind") == GROUP_KIND:
        return group_from_parts(header, arrays, path)
    return model_from_parts(header, arrays, path)


def group_bytes(group: ModelGroup) -> bytes:
    """The file save_model_or_group writes for a group, as bytes (to send to another process)."""
    from rnncast.format import encode

    return encode(*group_parts(group))


def group_from_bytes(data: bytes, name: str = "model group") -> ModelGroup:
    """A group from group_bytes' bytes, checked as a file is."""
    from rnncast.format import decode

    header, arrays = decode(data, Path(name))
    if header.get("kind") != GROUP_KIND:
        raise ModelFileError(f"{name} is not an rnncast model group (kind {header.get('kind')!r})")
    return group_from_parts(header, arrays, name)
