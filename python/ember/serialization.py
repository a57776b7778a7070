"""``ember.save`` / ``ember.load``: checkpoints in a documented, pickle-free format.

Loading never executes code from the file: the structure is JSON and the tensors are raw bytes.

File layout (integers little-endian)::

    offset 0        8 bytes   magic b"EMBERCKP"
    offset 8        4 bytes   uint32 format version (1)
    offset 12       8 bytes   uint64 H, the header's length in bytes
    offset 20       H bytes   the header: UTF-8 JSON, padded with spaces so that the data section
                              starts at a multiple of 64 bytes
    offset 20 + H   data_size bytes: the tensors' bytes, each tensor C-ordered and little-endian,
                              starting at a multiple of 64 from the data section's start

The header is ``{"format": "ember", "version": 1, "data_size": int, "tensors": [...], "object": v}``.
``tensors[i]`` is ``{"dtype": "float32", "shape": [2, 3], "device": "cpu", "requires_grad": false,
"data_offsets": [begin, end]}`` (offsets into the data section; ``end - begin`` is the tensor's size
in bytes). ``v`` encodes the saved object:

    None, bools, ints, strings   themselves
    finite floats                JSON numbers (written with a "." or an exponent)
    inf, -inf, nan               {"__float__": "inf" | "-inf" | "nan"}
    lists                        JSON arrays
    tuples                       {"__tuple__": [...]}
    dicts with string keys       JSON objects (unless the dict's only key is one of these markers)
    other dicts                  {"__dict__": [[key, value], ...]}
    OrderedDicts                 {"__odict__": [[key, value], ...]}
    tensors                      {"__tensor__": i}; a tensor saved twice is stored once and loads as
                                 one tensor

Saving to a path is atomic: the checkpoint is written to a temporary file in the same directory,
flushed to disk, then renamed over the destination, so that an interrupted save leaves the previous
checkpoint intact.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import numbers
import os
import stat
import struct
import sys
import tempfile
from collections import OrderedDict
from typing import Any, BinaryIO, Callable

import numpy as np

from . import _dtype, backend
from ._device import device as _device
from .tensor import Tensor

MAGIC = b"EMBERCKP"
VERSION = 1
ALIGNMENT = 64
_PREFIX = struct.Struct("<8sIQ")  # magic, version, header length
_MARKERS = ("__tensor__", "__tuple__", "__dict__", "__odict__", "__float__")
_DTYPES = {d.name: d for d in _dtype.ALL}

__all__ = ["load", "save"]


# ---- save ----------------------------------------------------------------------------------------
def save(obj: Any, f) -> None:
    """Save ``obj`` (a state dict, or any nest of dicts/lists/tuples of tensors, numbers, strings,
    bools and None) to ``f``, a path (written atomically) or a binary file object."""
    header, arrays = _Encoder().encode_checkpoint(obj)
    if hasattr(f, "write"):
        _write_checkpoint(f, header, arrays)
        return
    _atomic_write(os.fspath(f), lambda fh: _write_checkpoint(fh, header, arrays))


class _Encoder:
    """Turns an object into the JSON-able header value and the list of tensor arrays."""

    def __init__(self) -> None:
        self.tensors: list[dict] = []
        self.arrays: list[np.ndarray] = []
        self._index: dict[int, int] = {}  # id(tensor) -> position in self.tensors
        self._open: set[int] = set()  # containers being encoded, to reject cycles
        self._data_size = 0

    def encode_checkpoint(self, obj) -> tuple[bytes, list[np.ndarray]]:
        value = self.encode(obj, "obj")
        header = {"format": "ember", "version": VERSION, "data_size": self._data_size,
                  "tensors": self.tensors, "object": value}
        text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
        pad = _aligned(_PREFIX.size + len(text)) - _PREFIX.size - len(text)
        return text + b" " * pad, self.arrays

    def encode(self, value, where: str):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, Tensor):
            return {"__tensor__": self._tensor(value)}
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            value = float(value)
            if math.isfinite(value):
                return value
            return {"__float__": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
        if isinstance(value, (list, tuple, dict)):
            if id(value) in self._open:
                raise ValueError(f"ember.save: {where} contains itself; cannot save a cyclic structure")
            self._open.add(id(value))
            try:
                return self._container(value, where)
            finally:
                self._open.discard(id(value))
        raise TypeError(f"ember.save: cannot save {where} of type {type(value).__name__}; checkpoints "
                        "hold tensors, numbers, strings, bools, None and dicts/lists/tuples of them")

    def _container(self, value, where: str):
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        pairs = [[self.encode(k, f"key of {where}"), self.encode(v, f"{where}[{k!r}]")]
                 for k, v in value.items()]
        if isinstance(value, OrderedDict):
            return {"__odict__": pairs}
        looks_marked = len(value) == 1 and next(iter(value)) in _MARKERS
        if all(isinstance(k, str) for k in value) and not looks_marked:
            return dict(pairs)
        return {"__dict__": pairs}

    def _tensor(self, t: Tensor) -> int:
        i = self._index.get(id(t))
        if i is not None:
            return i
        arr = np.asarray(backend.to_host(t._data), order="C")  # keeps 0-d shapes
        begin = _aligned(self._data_size)
        self._data_size = begin + arr.nbytes
        self.tensors.append({"dtype": t.dtype.name, "shape": list(arr.shape), "device": str(t.device),
                             "requires_grad": bool(t.requires_grad),
                             "data_offsets": [begin, self._data_size]})
        self.arrays.append(arr)
        i = self._index[id(t)] = len(self.tensors) - 1
        return i


def _write_checkpoint(fh: BinaryIO, header: bytes, arrays: list[np.ndarray]) -> None:
    fh.write(_PREFIX.pack(MAGIC, VERSION, len(header)))
    fh.write(header)
    written = 0
    for arr in arrays:
        begin = _aligned(written)
        fh.write(b"\0" * (begin - written))
        _write_array(fh, arr)
        written = begin + arr.nbytes


def _aligned(offset: int) -> int:
    """The first multiple of ALIGNMENT at or after ``offset``."""
    return -(-offset // ALIGNMENT) * ALIGNMENT


def _write_array(fh: BinaryIO, arr: np.ndarray) -> None:
    """Write ``arr``'s bytes, C order, little-endian."""
    little = np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")
    fh.write(little.reshape(-1).view(np.uint8).data)


def _atomic_write(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Write through a temporary file in ``path``'s directory, fsync it, then rename it over
    ``path``; on any failure the temporary file is removed and ``path`` is untouched."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ---- load ----------------------------------------------------------------------------------------
class _Invalid(Exception):
    """A reason why a file is not a valid checkpoint (turned into a RuntimeError naming the file)."""


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None):
    """Load an object saved by :func:`save` from a path or a binary file object.

    Args:
        map_location: where to put the tensors: ``None`` (where they were saved), a device or
            device string (all of them there), a dict mapping saved device strings to devices
            (``{'cuda:1': 'cuda:0'}``), or a callable ``fn(tensor_on_cpu, saved_device_str)``
            returning the tensor to use (or None for the default).
        weights_only: accepted for PyTorch compatibility; ember checkpoints only ever hold data,
            so loading is always as safe as ``weights_only=True``.
        mmap: accepted for PyTorch compatibility; tensors are always read into memory.

    Raises:
        RuntimeError: "<file> is not a valid ember checkpoint: <reason>" for anything that is not a
            well-formed checkpoint (other formats, pickles, truncated or corrupted files).
    """
    if pickle_module is not None:
        raise ValueError("ember.load does not use pickle; pickle_module is not supported")
    place = _placement(map_location)
    with _open_for_reading(f) as (fh, name):
        try:
            header = _read_header(fh)
            arrays = _read_tensors(fh, header)
            return _Decoder(header["tensors"], arrays, place).decode(header["object"])
        except _Invalid as exc:
            raise RuntimeError(f"{name} is not a valid ember checkpoint: {exc}") from None


@contextlib.contextmanager
def _open_for_reading(f):
    if hasattr(f, "read"):
        name = repr(f.name) if hasattr(f, "name") else "the file object"
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        yield f, name
        return
    path = os.fspath(f)
    with open(path, "rb") as fh:
        yield fh, repr(path)


def _remaining(fh) -> int:
    here = fh.tell()
    end = fh.seek(0, io.SEEK_END)
    fh.seek(here)
    return end - here


def _read_header(fh) -> dict:
    available = _remaining(fh)
    prefix = fh.read(_PREFIX.size)
    if len(prefix) < _PREFIX.size:
        raise _Invalid(f"the file holds {available} bytes, fewer than the {_PREFIX.size}-byte prefix")
    magic, version, header_len = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        hint = ""
        if prefix.startswith(b"PK\x03\x04") or prefix[:1] == b"\x80":
            hint = " (it looks like a PyTorch/pickle file; ember never unpickles)"
        raise _Invalid(f"bad magic bytes {magic!r}, expected {MAGIC!r}{hint}")
    if version != VERSION:
        raise _Invalid(f"unsupported format version {version} (this ember reads version {VERSION})")
    if header_len > available - _PREFIX.size:
        raise _Invalid(f"the header length {header_len} exceeds the file size ({available} bytes)")
    try:
        header = json.loads(fh.read(header_len).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Invalid(f"the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != "ember" or \
            not isinstance(header.get("tensors"), list) or "object" not in header or \
            not _is_count(header.get("data_size")):
        raise _Invalid("the header lacks the format/data_size/tensors/object fields")
    if header["data_size"] > available - _PREFIX.size - header_len:
        raise _Invalid(f"the data section ({header['data_size']} bytes) extends past the end of the "
                       f"file (truncated?)")
    return header


def _is_count(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _read_tensors(fh, header: dict) -> list[np.ndarray]:
    """Validate every tensor entry against the data section, then read the tensors in file order."""
    metas = header["tensors"]
    for i, meta in enumerate(metas):
        _check_tensor_meta(i, meta, header["data_size"])
    data_start = fh.tell()
    arrays: list[np.ndarray | None] = [None] * len(metas)
    end_of_previous = 0
    for i in sorted(range(len(metas)), key=lambda j: metas[j]["data_offsets"][0]):
        begin, end = metas[i]["data_offsets"]
        if begin < end_of_previous:
            raise _Invalid(f"the bytes of tensor {i} overlap another tensor's")
        fh.seek(data_start + begin)
        dt = _DTYPES[metas[i]["dtype"]].np
        arr = np.empty(metas[i]["shape"], dtype=dt.newbyteorder("<"))
        view = memoryview(arr.reshape(-1).view(np.uint8))
        got = 0
        while got < len(view):
            n = fh.readinto(view[got:])
            if not n:
                raise _Invalid(f"the file ends inside tensor {i} (truncated?)")
            got += n
        if dt == np.bool_ and (arr.view(np.uint8) > 1).any():
            raise _Invalid(f"tensor {i} is bool but holds bytes other than 0 and 1")
        arrays[i] = arr.astype(dt, copy=False) if sys.byteorder != "little" else arr
        end_of_previous = end
    return arrays


def _check_tensor_meta(i: int, meta, data_size: int) -> None:
    if not isinstance(meta, dict):
        raise _Invalid(f"tensor entry {i} is not an object")
    dtype_name = meta.get("dtype")
    if dtype_name not in _DTYPES:
        raise _Invalid(f"tensor {i} has dtype {dtype_name!r}, not one of {sorted(_DTYPES)}")
    shape, offsets = meta.get("shape"), meta.get("data_offsets")
    if not isinstance(shape, list) or not all(_is_count(s) for s in shape):
        raise _Invalid(f"tensor {i} has an invalid shape {shape!r}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets):
        raise _Invalid(f"tensor {i} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    nbytes = math.prod(shape) * _DTYPES[dtype_name].itemsize
    if end - begin != nbytes:
        raise _Invalid(f"tensor {i} of shape {shape} and dtype {dtype_name} needs {nbytes} bytes but "
                       f"its data_offsets span {end - begin}")
    if end > data_size:
        raise _Invalid(f"the bytes of tensor {i} ([{begin}, {end})) lie outside the data section "
                       f"({data_size} bytes)")
    try:
        _device(meta.get("device"))
    except (TypeError, RuntimeError, ValueError):
        raise _Invalid(f"tensor {i} has an invalid device {meta.get('device')!r}") from None


def _placement(map_location) -> Callable[[np.ndarray, str], Any]:
    """``place(host_array, saved_device) -> array`` on the device map_location asks for."""

    def to(arr: np.ndarray, dev) -> Any:
        dev = _device(dev) if not isinstance(dev, int) else _device("cuda", dev)
        if dev.type == "cuda" and not backend.cuda_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                               "ember.cuda.is_available() is False. If you are running on a "
                               "CPU-only machine, please use ember.load with map_location='cpu' to "
                               "map your tensors to the CPU.")
        return backend.to_device_array(arr, dev)

    if map_location is None:
        return to
    if isinstance(map_location, (str, _device, int)):
        return lambda arr, saved: to(arr, map_location)
    if isinstance(map_location, dict):
        table = {str(_device(k)): v for k, v in map_location.items()}
        return lambda arr, saved: to(arr, table.get(saved, saved))
    if callable(map_location):
        def call(arr: np.ndarray, saved: str):
            result = map_location(Tensor._make(arr), saved)
            if result is None:
                return to(arr, saved)
            if not isinstance(result, Tensor):
                raise TypeError(f"map_location callable must return a Tensor or None, got "
                                f"{type(result).__name__}")
            return result._data
        return call
    raise TypeError(f"map_location must be None, a device, a str, a dict or a callable, got "
                    f"{type(map_location).__name__}")


class _Decoder:
    """Rebuilds the saved object from the header value, creating each tensor once."""

    def __init__(self, metas: list, arrays: list, place: Callable) -> None:
        self.metas, self.arrays, self.place = metas, arrays, place
        self.made: dict[int, Tensor] = {}

    def decode(self, value):
        try:
            return self._value(value)
        except RecursionError:
            raise _Invalid("the object is nested too deeply") from None

    def _value(self, v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return [self._value(x) for x in v]
        if not isinstance(v, dict):
            raise _Invalid(f"unexpected JSON value of type {type(v).__name__}")
        if len(v) == 1:
            (key, payload), = v.items()
            if key in _MARKERS:
                return self._marked(key, payload)
        return {k: self._value(x) for k, x in v.items()}

    def _marked(self, key: str, payload):
        if key == "__tensor__":
            if not (_is_count(payload) and payload < len(self.metas)):
                raise _Invalid(f"tensor reference {payload!r} is out of range")
            return self._tensor(payload)
        if key == "__float__":
            if payload not in ("inf", "-inf", "nan"):
                raise _Invalid(f"invalid special float {payload!r}")
            return float(payload)
        if not isinstance(payload, list):
            raise _Invalid(f"{key} holds a {type(payload).__name__}, not a list")
        if key == "__tuple__":
            return tuple(self._value(x) for x in payload)
        if not all(isinstance(p, list) and len(p) == 2 for p in payload):
            raise _Invalid(f"{key} must hold [key, value] pairs")
        out = OrderedDict() if key == "__odict__" else {}
        for k, x in payload:
            k = self._value(k)
            try:
                out[k] = self._value(x)
            except TypeError:
                raise _Invalid(f"unhashable dict key {k!r}") from None
        return out

    def _tensor(self, i: int) -> Tensor:
        t = self.made.get(i)
        if t is None:
            meta = self.metas[i]
            t = Tensor._make(self.place(self.arrays[i], meta["device"]))
            if meta.get("requires_grad") is True and t.is_floating_point():
                t.requires_grad = True
            self.made[i] = t
        return t
