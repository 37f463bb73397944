"""The one-file model format: a JSON header and named arrays, versioned and checksummed.

Layout (all integers little-endian):

    offset 0    8 bytes   magic b"RNNCAST\\x00"
    offset 8    uint32    format version
    offset 12   uint64    header length H in bytes
    offset 20   H bytes   UTF-8 JSON: {"header": <caller's header>, "arrays": [entry, ...]}
                          entry = {"name", "dtype" (NumPy dtype str, e.g. "<f4"),
                                   "shape" (list of ints), "offset", "nbytes"}
    zero padding to the next multiple of 64: the data section starts there
    array bytes, C order, little-endian; each array starts 64-byte aligned, and
                          its "offset" counts from the start of the data section
    last 32     SHA-256 of every byte before it

Loading never runs code: json.loads for the header and np.frombuffer for the arrays, with
every dtype checked against an allowlist of plain numeric, datetime and fixed-width string
kinds. Nothing is pickled, ever.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rnncast.atomic import atomic_write
from rnncast.errors import ModelFileError

FORMAT_VERSION = 1
MAGIC = b"RNNCAST\x00"

_PREAMBLE = struct.Struct("<8sIQ")  # magic, version, header length
_ALIGN = 64
_DIGEST_SIZE = hashlib.sha256().digest_size
# bool, signed, unsigned, float, complex, timedelta, datetime, bytes, unicode:
# kinds np.frombuffer reads without any object construction.
_SAFE_KINDS = frozenset("biufcmMSU")


def save_model(path: str | os.PathLike[str], header: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Write `header` (JSON-serialisable) and `arrays` to `path` atomically.

    The file at `path` is replaced in one step: a crash or error leaves the previous file
    (or none) in place, never a partial one. A file-system failure (permission denied,
    read-only folder, disk full, missing folder) raises ModelFileError naming the path.
    A header that is not strict JSON (no NaN or infinity; only dicts, lists, str, numbers,
    bools, None) or an array of an unsupported dtype (object, structured) is a programming
    error and raises TypeError.
    """
    atomic_write(path, _encoded(header, arrays), error=ModelFileError, what="the model")


def encode(header: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes save_model would write: to send a model to another process (decode reads them)."""
    return b"".join(bytes(chunk) for chunk in _encoded(header, arrays))


def _encoded(header: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> Iterator[bytes | memoryview]:
    if not isinstance(header, dict):
        raise TypeError(f"the model header must be a dict, got {type(header).__name__}")
    prepared = [(name, _little_endian(name, array)) for name, array in arrays.items()]
    table = []
    offset = 0
    for name, array in prepared:
        entry = {"name": name, "dtype": array.dtype.str, "shape": list(array.shape), "offset": offset}
        table.append({**entry, "nbytes": array.nbytes})
        offset = _aligned(offset + array.nbytes)
    try:
        # allow_nan=False: NaN is not JSON, and the header must be readable by any JSON tool.
        text = json.dumps(
            {"header": header, "arrays": table}, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the model header is not JSON-serialisable: {exc}") from exc
    return _chunks(text.encode("utf-8"), prepared)


def load_model(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file: (the caller's header, {name: array}) in the order they were saved.

    Arrays are fresh, writable copies in native byte order, independent of each other and
    of the file. Every problem with the file (missing, not an rnncast model, truncated,
    corrupt, written by a newer rnncast, malformed) raises ModelFileError naming it.
    """
    target = Path(path)
    return decode(_read(target), target)


def decode(data: bytes, target: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """load_model on bytes (encode's, or a file's): messages name `target`."""
    if data[: len(MAGIC)] != MAGIC:
        raise ModelFileError(_not_a_model(target, data[: len(MAGIC)]))
    if len(data) < _PREAMBLE.size:
        raise ModelFileError(f"{target} is truncated ({len(data)} bytes): fit it again or restore a backup")
    _, version, header_len = _PREAMBLE.unpack_from(data)
    # The version comes before the checksum: a newer format may checksum differently.
    if version > FORMAT_VERSION:
        # If this format's checksum holds, the version field is intact; if not, the file
        # may be newer or damaged (a flipped bit in the version), and we cannot tell which.
        intact = len(data) >= _PREAMBLE.size + _DIGEST_SIZE and (
            hashlib.sha256(memoryview(data)[:-_DIGEST_SIZE]).digest() == data[-_DIGEST_SIZE:])
        newer = (f"{target} was written by a newer rnncast (model format {version}; this rnncast reads up to "
                 f"{FORMAT_VERSION})")
        if intact:
            raise ModelFileError(f"{newer}: upgrade rnncast")
        raise ModelFileError(f"{newer}, or it is damaged: upgrade rnncast, or fit it again or restore a backup")
    if version < 1:
        raise ModelFileError(
            f"{target} is not a valid rnncast model (format version {version}): fit it again or restore a backup"
        )
    header_end = _PREAMBLE.size + header_len
    if header_end + _DIGEST_SIZE > len(data):
        raise ModelFileError(
            f"{target} is truncated ({len(data)} bytes, the header alone needs {header_end + _DIGEST_SIZE}): "
            "fit it again or restore a backup"
        )
    body = memoryview(data)[:-_DIGEST_SIZE]
    if hashlib.sha256(body).digest() != data[-_DIGEST_SIZE:]:
        expected = _described_size(data, header_end)
        if expected is not None and len(data) < expected:
            raise ModelFileError(
                f"{target} is truncated ({len(data)} bytes of the {expected} its header describes): "
                "fit it again or restore a backup"
            )
        raise ModelFileError(
            f"{target} is corrupt (checksum mismatch: damaged or cut short): fit it again or restore a backup"
        )
    meta = _parse_header(target, data[_PREAMBLE.size : header_end])
    data_start = _aligned(header_end)
    arrays: dict[str, np.ndarray] = {}
    for entry in meta["arrays"]:
        name, dtype, shape, start, nbytes = _check_entry(target, entry, arrays)
        begin = data_start + start
        if begin + nbytes > len(body):
            raise ModelFileError(f"{target} is malformed: array {name!r} runs past the end of the data")
        flat = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=begin)
        arrays[name] = flat.reshape(shape).astype(dtype.newbyteorder("="), copy=True)
    return meta["header"], arrays


def _described_size(data: bytes, header_end: int) -> int | None:
    """The file size an intact header describes, or None if the header does not parse.

    Only to word an error (truncated or corrupt): nothing read here is trusted or used.
    """
    try:
        meta = json.loads(data[_PREAMBLE.size : header_end].decode("utf-8"))
        ends = [int(entry["offset"]) + int(entry["nbytes"]) for entry in meta["arrays"]]
    except (UnicodeDecodeError, ValueError, TypeError, KeyError, RecursionError):
        return None
    return _aligned(header_end) + max(ends, default=0) + _DIGEST_SIZE


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _little_endian(name: str, array: np.ndarray) -> np.ndarray:
    if not isinstance(name, str):
        raise TypeError(f"array names must be strings, got {name!r}")
    array = np.asarray(array)
    dtype = array.dtype
    if dtype.kind not in _SAFE_KINDS or dtype.fields is not None or dtype.subdtype is not None or not dtype.itemsize:
        raise TypeError(f"array {name!r} has dtype {dtype}, which the model format does not store")
    # np.asarray, not ascontiguousarray: the latter turns 0-d arrays into 1-d ones.
    return np.asarray(array, dtype=dtype.newbyteorder("<"), order="C")


def _chunks(header_bytes: bytes, prepared: list[tuple[str, np.ndarray]]) -> Iterator[bytes | memoryview]:
    """The file's bytes in order, hashing as they go; the last chunk is the digest."""
    digest = hashlib.sha256()
    written = 0

    def emit(chunk: bytes | memoryview) -> bytes | memoryview:
        nonlocal written
        digest.update(chunk)
        written += memoryview(chunk).nbytes
        return chunk

    yield emit(_PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(header_bytes)))
    yield emit(header_bytes)
    for _, array in prepared:
        yield emit(bytes(_aligned(written) - written))
        # A uint8 view of the contiguous array: no copy of possibly large weights.
        yield emit(memoryview(array.reshape(-1).view(np.uint8).data))
    yield digest.digest()


def read_model_bytes(path: str | os.PathLike[str]) -> bytes:
    """A model file's bytes, unchecked (decode checks them), or ModelFileError when it cannot be read."""
    return _read(Path(path))


def _read(target: Path) -> bytes:
    try:
        with open(target, "rb") as f:
            head = f.read(len(MAGIC))
            if head != MAGIC:
                raise ModelFileError(_not_a_model(target, head))
            return head + f.read()
    except FileNotFoundError:
        raise ModelFileError(f"model file {target} not found: check the path or fit a model first") from None
    except IsADirectoryError:
        raise ModelFileError(f"{target} is a folder, not a model file") from None
    except PermissionError:
        raise ModelFileError(f"cannot read model file {target}: permission denied") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {target}: {exc.strerror or exc}") from None


def _not_a_model(target: Path, head: bytes) -> str:
    if head and MAGIC.startswith(head):
        return f"{target} is truncated ({len(head)} bytes): fit it again or restore a backup"
    looks = _looks_like(head)
    return f"{target} is not an rnncast model{looks}: give the file written by `rnncast fit`"


def _looks_like(head: bytes) -> str:
    """A hint at what a foreign file is, so the user knows which file they passed."""
    if not head:
        return " (it is empty)"
    if head[:1] == b"\x80":  # the PROTO opcode that starts every pickle since protocol 2
        return " (it looks like a Python pickle, which rnncast never loads)"
    kinds = {
        b"PK": "a zip archive (.npz?)",
        b"\x93NUMPY": "a NumPy .npy file",
        b"PAR1": "a Parquet file",
        b"\x1f\x8b": "a gzip file",
        b"\x89HDF": "an HDF5 file",
    }
    for magic, kind in kinds.items():
        if head.startswith(magic):
            return f" (it looks like {kind})"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return " (it looks like a text file, perhaps a CSV)"
    return ""


def _parse_header(target: Path, raw: bytes) -> dict[str, Any]:
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{target} is malformed: its header is not valid JSON ({exc})") from None
    if not (isinstance(meta, dict) and isinstance(meta.get("header"), dict) and isinstance(meta.get("arrays"), list)):
        raise ModelFileError(f"{target} is malformed: its header lacks the 'header' object or the 'arrays' list")
    return meta


def _check_entry(
    target: Path, entry: object, seen: Mapping[str, np.ndarray]
) -> tuple[str, np.dtype[Any], tuple[int, ...], int, int]:
    """Validate one array-table entry completely before any byte is interpreted."""

    def bad(why: str) -> ModelFileError:
        return ModelFileError(f"{target} is malformed: {why}")

    if not isinstance(entry, dict):
        raise bad("an array entry is not an object")
    name, dtype_str, shape, start, nbytes = (entry.get(k) for k in ("name", "dtype", "shape", "offset", "nbytes"))
    if not isinstance(name, str) or name in seen:
        raise bad(f"array name {name!r} is missing or repeated")
    if not isinstance(dtype_str, str):
        raise bad(f"array {name!r} has no dtype")
    try:
        dtype = np.dtype(dtype_str)
    except (TypeError, ValueError, SyntaxError):
        raise bad(f"array {name!r} has an unknown dtype {dtype_str!r}") from None
    if dtype.kind not in _SAFE_KINDS or dtype.fields is not None or dtype.subdtype is not None or not dtype.itemsize:
        raise bad(f"array {name!r} has a dtype rnncast does not load ({dtype_str!r})")
    ints = (shape if isinstance(shape, list) else [None]) + [start, nbytes]
    if not all(type(v) is int and v >= 0 for v in ints):
        raise bad(f"array {name!r} has an invalid shape, offset or size")
    assert isinstance(shape, list) and isinstance(start, int) and isinstance(nbytes, int)  # checked just above
    if start % _ALIGN or nbytes != math.prod(shape) * dtype.itemsize:
        raise bad(f"array {name!r}: offset or size does not match its dtype and shape")
    return name, dtype, tuple(shape), start, nbytes
