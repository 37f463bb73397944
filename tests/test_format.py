"""The model file format: round trips, and every kind of bad file refused with ModelFileError."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnncast import format as fmt
from rnncast.errors import ModelFileError

HEADER = {"cell": "lstm", "columns": ["value"], "nested": {"lookback": 48, "ids": ["a", "b"]}, "note": "é"}


def small_model() -> tuple[dict, dict[str, np.ndarray]]:
    arrays = {
        "weight_ih_l0": np.arange(12, dtype=np.float32).reshape(3, 4),
        "bias": np.array([1.5, -2.0], dtype=np.float64),
        "steps": np.array(7, dtype=np.int64),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    return HEADER, arrays


def assert_same(loaded: dict[str, np.ndarray], original: dict[str, np.ndarray]) -> None:
    assert list(loaded) == list(original)
    for name, array in original.items():
        got = loaded[name]
        assert got.dtype == array.dtype.newbyteorder("=") and got.shape == array.shape, name
        np.testing.assert_array_equal(got, array)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_round_trip_keeps_header_arrays_and_order(tmp_path: Path) -> None:
    header, arrays = small_model()
    path = tmp_path / "m.rnncast"
    fmt.save_model(path, header, arrays)
    got_header, got_arrays = fmt.load_model(path)
    assert got_header == header
    assert_same(got_arrays, arrays)


def test_layout_magic_version_alignment_and_checksum(tmp_path: Path) -> None:
    header, arrays = small_model()
    path = tmp_path / "m.rnncast"
    fmt.save_model(path, header, arrays)
    data = path.read_bytes()
    magic, version, header_len = struct.unpack_from("<8sIQ", data)
    assert magic == b"RNNCAST\x00" and version == fmt.FORMAT_VERSION
    assert hashlib.sha256(data[:-32]).digest() == data[-32:]
    meta = json.loads(data[20 : 20 + header_len])
    assert meta["header"] == header
    data_start = -(-(20 + header_len) // 64) * 64
    for entry in meta["arrays"]:
        start = data_start + entry["offset"]
        assert start % 64 == 0
        raw = data[start : start + entry["nbytes"]]
        expected = np.ascontiguousarray(arrays[entry["name"]], dtype=np.dtype(entry["dtype"]))
        assert raw == expected.tobytes()


def test_loaded_arrays_are_writable_copies(tmp_path: Path) -> None:
    header, arrays = small_model()
    path = tmp_path / "m.rnncast"
    fmt.save_model(path, header, arrays)
    _, first = fmt.load_model(path)
    first["bias"][0] = 99.0
    _, second = fmt.load_model(path)
    assert second["bias"][0] == 1.5


def test_big_endian_input_is_stored_little_endian_and_loads_equal(tmp_path: Path) -> None:
    array = np.arange(5, dtype=">f8")
    path = tmp_path / "m.rnncast"
    fmt.save_model(path, {}, {"x": array})
    _, got = fmt.load_model(path)
    assert got["x"].dtype == np.dtype("float64")
    np.testing.assert_array_equal(got["x"], array)


dtypes = st.sampled_from(["<f4", "<f8", "<i8", "<i4", "|u1", "|b1", "<f2", "<u2", "<M8[ns]", "<c16"])


@st.composite
def array_sets(draw: st.DrawFn) -> dict[str, np.ndarray]:
    names = draw(st.lists(st.text(min_size=1, max_size=12), min_size=0, max_size=4, unique=True))
    out = {}
    for name in names:
        dtype = np.dtype(draw(dtypes))
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
        size = int(np.prod(shape)) * dtype.itemsize
        raw = draw(st.binary(min_size=size, max_size=size))
        # Arbitrary bytes: every bit pattern (NaN payloads, odd bools) must survive unchanged.
        out[name] = np.frombuffer(raw, dtype=dtype).reshape(shape)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrays=array_sets(), note=st.text(max_size=30))
def test_round_trip_property(tmp_path: Path, arrays: dict[str, np.ndarray], note: str) -> None:
    path = tmp_path / "p.rnncast"
    fmt.save_model(path, {"note": note}, arrays)
    header, got = fmt.load_model(path)
    assert header == {"note": note}
    assert list(got) == list(arrays)
    for name, array in arrays.items():
        assert got[name].shape == array.shape
        assert got[name].tobytes() == np.ascontiguousarray(array).tobytes()


def saved_small(tmp_path: Path) -> bytes:
    header, arrays = small_model()
    path = tmp_path / "good.rnncast"
    fmt.save_model(path, header, arrays)
    return path.read_bytes()


def saved_tiny(tmp_path: Path) -> bytes:
    """Two arrays and a short header: small enough to damage at every byte quickly."""
    path = tmp_path / "tiny.rnncast"
    fmt.save_model(path, {"k": 1}, {"w": np.arange(3, dtype=np.float32), "b": np.ones(2)})
    return path.read_bytes()


def test_every_truncation_is_refused(tmp_path: Path) -> None:
    data = saved_tiny(tmp_path)
    path = tmp_path / "cut.rnncast"
    for size in range(len(data)):
        path.write_bytes(data[:size])
        with pytest.raises(ModelFileError, match="cut.rnncast") as info:
            fmt.load_model(path)
        assert any(word in str(info.value) for word in ("truncated", "corrupt", "not an rnncast model"))


def test_every_flipped_byte_is_refused(tmp_path: Path) -> None:
    data = saved_tiny(tmp_path)
    path = tmp_path / "flip.rnncast"
    for i in range(len(data)):
        damaged = bytearray(data)
        damaged[i] ^= 0x41
        path.write_bytes(bytes(damaged))
        with pytest.raises(ModelFileError, match="flip.rnncast"):
            fmt.load_model(path)


def test_checksum_mismatch_says_corrupt(tmp_path: Path) -> None:
    data = bytearray(saved_small(tmp_path))
    data[-40] ^= 1  # inside the last array, before the digest
    path = tmp_path / "bad.rnncast"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupt"):
        fmt.load_model(path)


def test_truncated_says_truncated(tmp_path: Path) -> None:
    data = saved_small(tmp_path)
    path = tmp_path / "short.rnncast"
    path.write_bytes(data[:30])
    with pytest.raises(ModelFileError, match="truncated"):
        fmt.load_model(path)


def test_newer_version_is_refused_before_anything_else(tmp_path: Path) -> None:
    data = bytearray(saved_small(tmp_path))
    struct.pack_into("<I", data, 8, fmt.FORMAT_VERSION + 1)
    path = tmp_path / "new.rnncast"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="newer rnncast.*upgrade"):
        fmt.load_model(path)


def rewrite_header(data: bytes, meta: object) -> bytes:
    """A well-checksummed file whose header says `meta`: only validation can catch it."""
    _, version, header_len = struct.unpack_from("<8sIQ", data)
    old_start = -(-(20 + header_len) // 64) * 64
    arrays_part = data[old_start:-32]
    text = json.dumps(meta).encode() if not isinstance(meta, bytes) else meta
    head = struct.pack("<8sIQ", fmt.MAGIC, version, len(text)) + text
    body = head + bytes(-(-len(head) // 64) * 64 - len(head)) + arrays_part
    return body + hashlib.sha256(body).digest()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda m: b"{not json",
        lambda m: b"\xff\xfe",
        lambda m: [1, 2],
        lambda m: {"header": m["header"]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "dtype": "O"}]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "dtype": "not-a-dtype"}]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "dtype": [["a", "<f4"]]}]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "dtype": "f4,f4"}]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "dtype": "<U0", "nbytes": 0}]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "shape": [3, -4]}]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "shape": "3x4"}]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "nbytes": 4}]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "offset": 10**9}]},
        lambda m: {**m, "arrays": [{**m["arrays"][0], "offset": 3}]},
        lambda m: {**m, "arrays": [m["arrays"][0], m["arrays"][0]]},
        lambda m: {**m, "arrays": ["weights"]},
    ],
)
def test_malformed_header_is_refused(tmp_path: Path, mutate) -> None:  # noqa: ANN001
    data = saved_small(tmp_path)
    header_len = struct.unpack_from("<Q", data, 12)[0]
    meta = json.loads(data[20 : 20 + header_len])
    path = tmp_path / "odd.rnncast"
    path.write_bytes(rewrite_header(data, mutate(meta)))
    with pytest.raises(ModelFileError, match="odd.rnncast is malformed"):
        fmt.load_model(path)


class Boom:
    """Unpickling this would create a marker file: proof that load_model never unpickles."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


def test_pickle_is_refused_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / "evil.rnncast"
    path.write_bytes(pickle.dumps(Boom(marker)))
    with pytest.raises(ModelFileError, match="not an rnncast model.*pickle"):
        fmt.load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        (b"date,value\n2020-01-01,1\n", "text file"),
        (b"PK\x03\x04" + bytes(40), "zip"),
        (b"", "empty"),
    ],
)
def test_foreign_files_are_refused(tmp_path: Path, content: bytes, hint: str) -> None:
    path = tmp_path / "other.bin"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=f"not an rnncast model.*{hint}"):
        fmt.load_model(path)


def test_npz_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    np.savez(path, w=np.ones(3))
    with pytest.raises(ModelFileError, match="weights.npz is not an rnncast model"):
        fmt.load_model(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="nope.rnncast not found"):
        fmt.load_model(tmp_path / "nope.rnncast")
    with pytest.raises(ModelFileError, match="is a folder"):
        fmt.load_model(tmp_path)


def test_save_replaces_existing_file_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "m.rnncast"
    fmt.save_model(path, {"v": 1}, {"a": np.ones(2)})
    fmt.save_model(path, {"v": 2}, {"a": np.zeros(3)})
    header, arrays = fmt.load_model(path)
    assert header == {"v": 2} and arrays["a"].shape == (3,)
    assert leftovers(tmp_path) == []


def test_failure_midway_keeps_old_file_and_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.rnncast"
    fmt.save_model(path, {"v": 1}, {"a": np.ones(2)})
    before = path.read_bytes()
    real_write = os.write
    calls = {"n": 0}

    def failing_write(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", failing_write)
    with pytest.raises(ModelFileError, match=r"m\.rnncast.*no space left"):
        fmt.save_model(path, {"v": 2}, {"a": np.zeros(1000), "b": np.ones(10)})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_non_os_error_midway_propagates_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.rnncast"
    fmt.save_model(path, {"v": 1}, {"a": np.ones(2)})
    before = path.read_bytes()

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fmt.save_model(path, {"v": 2}, {"a": np.zeros(3)})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_permission_denied_is_a_model_file_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated: tests may run as root, for whom chmod does not deny anything.
    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(ModelFileError, match="permission denied; choose a folder you can write to"):
        fmt.save_model(tmp_path / "m.rnncast", {}, {})


def test_read_only_file_system_is_a_model_file_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(ModelFileError, match="read-only"):
        fmt.save_model(tmp_path / "m.rnncast", {}, {})


def test_missing_folder_is_a_model_file_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        fmt.save_model(tmp_path / "no" / "such" / "m.rnncast", {}, {})


def test_saving_onto_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="is a folder"):
        fmt.save_model(tmp_path, {}, {})


def test_unsupported_inputs_are_programming_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="dtype object"):
        fmt.save_model(tmp_path / "m", {}, {"x": np.array([{}], dtype=object)})
    with pytest.raises(TypeError, match="JSON"):
        fmt.save_model(tmp_path / "m", {"x": object()}, {})
    with pytest.raises(TypeError, match="JSON"):
        fmt.save_model(tmp_path / "m", {"loss": float("nan")}, {})
    assert not (tmp_path / "m").exists()


def test_model_bytes_round_trip_and_damage(tmp_path):
    """A model sent as bytes (to a Dask worker) loads as the file does; damaged bytes are refused."""
    from helpers import daily_csv, fit_tiny
    from rnncast.errors import ModelFileError as Refused
    from rnncast.modelfile import load_model, model_bytes, model_from_bytes, save_model

    fit_tiny(daily_csv(tmp_path / "d.csv"), tmp_path / "m.rnncast")
    model = load_model(tmp_path / "m.rnncast")
    save_model(model, tmp_path / "m.rnncast")
    data = model_bytes(model)
    assert data == (tmp_path / "m.rnncast").read_bytes()
    again = model_from_bytes(data, "sent")
    assert again.ids == load_model(tmp_path / "m.rnncast").ids
    for name, weights in model.params.items():
        assert (again.params[name] == weights).all()
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 1
    with pytest.raises(Refused, match="sent is corrupt"):
        model_from_bytes(bytes(damaged), "sent")
