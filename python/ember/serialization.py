"""``ember.save`` / ``ember.load``: checkpoints in PyTorch's zip format, readable by ``torch.load``.

A checkpoint is a zip archive whose entries are stored (not compressed)::

    archive/data.pkl                  the object, pickled (protocol 2 by default)
    archive/.format_version           "1"
    archive/.storage_alignment        "64"
    archive/byteorder                 "little"
    archive/data/<key>                each storage's raw little-endian bytes, starting at a multiple
                                      of 64 bytes in the file
    archive/version                   "3"
    archive/.data/serialization_id    40 random decimal digits

Inside ``data.pkl`` a tensor is the call ``torch._utils._rebuild_tensor_v2(storage, storage_offset,
size, stride, requires_grad, OrderedDict())`` and a storage is the persistent id ``('storage',
torch.FloatStorage, key, location, numel)`` (``torch.DoubleStorage``, ``torch.HalfStorage``, ...
by dtype); an ``nn.Parameter`` wraps its tensor in ``torch._utils._rebuild_parameter``. Ember
writes these globals by name, so saving never imports torch. Tensors that are views of one NumPy
array share one storage (and load sharing memory again); strides are kept.

Loading is restricted by default (``weights_only=True``): the pickle may only name the globals
PyTorch's weights-only unpickler allows (tensor rebuild functions, storages, ``OrderedDict``,
``Counter``, containers, numbers, dtypes, ``torch.Size``, ``torch.device``) plus those registered
with :func:`add_safe_globals`; anything else is refused with ``pickle.UnpicklingError`` before it
is called. ``weights_only=False`` unpickles everything (torch globals map to Ember's) and can run
arbitrary code: use it only for files from a trusted source. Every entry's CRC-32 is checked, the
memory-mapped path included. Files in Ember's earlier JSON format (magic ``EMBERCKP``) still load.

Saving to a path is atomic: the checkpoint goes to an unnamed temporary file in the destination's
directory (``O_TMPFILE`` on Linux; elsewhere a file named ``.<target>.<random>.tmp``), is flushed to
disk, then linked and renamed over the destination, so an interrupted save leaves the previous
checkpoint intact. Temporaries that a killed save left beside the target are removed by the next
save of that target.
"""
from __future__ import annotations

import _compat_pickle
import contextlib
import io
import json
import math
import os
import pickle
import re
import secrets
import stat
import struct
import sys
import zipfile
import zlib
from collections import Counter, OrderedDict
from typing import Any, Callable

import numpy as np

from . import _dtype, backend
from ._device import device as _device
from .nn.parameter import Parameter
from .tensor import Size, Tensor

ALIGNMENT = 64
MAGIC = b"EMBERCKP"  # Ember's earlier format, still read
VERSION = 1
_PREFIX = struct.Struct("<8sIQ")  # magic, version, header length of that format
_MARKERS = ("__tensor__", "__tuple__", "__dict__", "__odict__", "__float__")
_DTYPES = {d.name: d for d in _dtype.ALL}
# PyTorch's typed storage class for each dtype.
_STORAGE_OF = {"float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
               "int8": "CharStorage", "int16": "ShortStorage", "int32": "IntStorage", "int64": "LongStorage",
               "uint8": "ByteStorage", "bool": "BoolStorage"}
# torch's storages and dtypes Ember has no dtype for: loading them says which dtype is missing.
_UNSUPPORTED_STORAGES = {"BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64",
                         "ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8",
                         "QUInt8Storage": "quint8", "QInt32Storage": "qint32"}
_UNSUPPORTED_DTYPES = ("bfloat16", "complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf",
                       "float8_e4m3fn", "float8_e5m2", "uint16", "uint32", "uint64", "qint8", "quint8", "qint32")
UNSAFE_MESSAGE = ("Re-running `ember.load` with `weights_only` set to `False` will likely succeed, but it "
                  "can result in arbitrary code execution. Do it only if you got the file from a trusted "
                  "source.")

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "load", "safe_globals", "save"]


# ---- the torch names Ember writes and reads ----------------------------------------------------------
class _TorchGlobal:
    """A global of torch's namespace, pickled by name (``torch._utils._rebuild_tensor_v2``)."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce insists on a callable
        raise TypeError(f"{self.module}.{self.name} is a torch name Ember only writes into checkpoints")


_REBUILD_TENSOR = _TorchGlobal("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _TorchGlobal("torch._utils", "_rebuild_parameter")
_STORAGE_GLOBALS = {name: _TorchGlobal("torch", storage) for name, storage in _STORAGE_OF.items()}
_DTYPE_GLOBALS = {name: _TorchGlobal("torch", name) for name in _STORAGE_OF}
_SIZE = _TorchGlobal("torch", "Size")
_DEVICE = _TorchGlobal("torch", "device")


class _StorageType:
    """What ``torch.FloatStorage`` and friends unpickle to: the dtype of the storage's elements."""

    __slots__ = ("dtype",)

    def __init__(self, dt: _dtype.dtype) -> None:
        self.dtype = dt


# ---- save -------------------------------------------------------------------------------------------
def save(obj: Any, f, pickle_module=pickle, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Save ``obj`` to ``f`` (a path, written atomically, or a binary file object) in PyTorch's zip
    checkpoint format, as ``torch.save``: ``torch.load(f, weights_only=True)`` opens state dicts,
    optimizer states, tensors and containers of them; any other picklable object (whole modules,
    NumPy arrays, user classes) needs ``weights_only=False``.

    Args:
        pickle_module: must be the standard :mod:`pickle` (Ember's pickler extends its Pickler).
        pickle_protocol: the pickle protocol of ``data.pkl`` (2 to ``pickle.HIGHEST_PROTOCOL``).
        _use_new_zipfile_serialization: must be True; Ember writes only the zip format.
    """
    if pickle_module is not pickle:
        raise ValueError(f"ember.save: pickle_module must be the standard pickle module, got {pickle_module!r}")
    if not isinstance(pickle_protocol, int) or not 2 <= pickle_protocol <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"ember.save: pickle_protocol must be an int from 2 to {pickle.HIGHEST_PROTOCOL}, "
                         f"got {pickle_protocol!r}")
    if not _use_new_zipfile_serialization:
        raise RuntimeError("ember.save: the legacy (pre-zip) PyTorch format is not supported; "
                           "use _use_new_zipfile_serialization=True")
    pickled = io.BytesIO()
    pickler = _Pickler(pickled, pickle_protocol)
    pickler.dump(obj)
    if hasattr(f, "write"):
        _write_zip(f, "archive", pickled.getvalue(), pickler.storages)
        return
    path = os.fspath(f)
    archive = os.path.splitext(os.path.basename(path))[0] or "archive"
    _atomic_write(path, lambda fh: _write_zip(fh, archive, pickled.getvalue(), pickler.storages))


class _Pickler(pickle._Pickler):
    """The standard pure-Python pickler, plus: tensors reduce to torch's rebuild calls, storages become
    persistent ids, and Ember's dtypes/Size/device and the torch names are written as torch globals."""

    def __init__(self, file, protocol: int) -> None:
        super().__init__(file, protocol)
        self.storages: list[np.ndarray] = []  # index = key; C-contiguous 1-D arrays
        self._keys: dict[int, int] = {}  # id(root array) -> key
        self._roots: list[np.ndarray] = []

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _dtype.dtype):
            obj = _DTYPE_GLOBALS[obj.name]
        if isinstance(obj, _TorchGlobal):
            memo = self.memo.get(id(obj))
            if memo is not None:
                self.write(self.get(memo[0]))
                return
            if self.proto >= 4:
                self.save(obj.module)
                self.save(obj.name)
                self.write(pickle.STACK_GLOBAL)
            else:
                self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            self.memoize(obj)
            return
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            return ("storage", _STORAGE_GLOBALS[obj.dtype], str(obj.key), obj.location,
                    int(self.storages[obj.key].size))
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Parameter):
            return (_REBUILD_PARAMETER, (Tensor._make(obj._data), bool(obj.requires_grad), OrderedDict()))
        if isinstance(obj, Tensor):
            return (_REBUILD_TENSOR, self._tensor_args(obj))
        if isinstance(obj, Size):
            return (_SIZE, (tuple(obj),))
        if isinstance(obj, _device):
            return (_DEVICE, (str(obj),))
        return NotImplemented

    def _tensor_args(self, t: Tensor) -> tuple:
        arr = backend.to_host(t._data)  # CUDA tensors: a host copy, their own storage
        root, offset, strides = _storage_of(arr)
        key = self._keys.get(id(root))
        if key is None:
            key = self._keys[id(root)] = len(self.storages)
            self.storages.append(root.reshape(-1))
            self._roots.append(root)  # alive until the end, so that no id is reused
        return (_StorageRef(key, t.dtype.name, str(t.device)), offset, tuple(arr.shape), strides,
                bool(t.requires_grad), OrderedDict())


class _StorageRef:
    __slots__ = ("dtype", "key", "location")

    def __init__(self, key: int, dt: str, location: str) -> None:
        self.key, self.dtype, self.location = key, dt, location


def _root(arr: np.ndarray) -> np.ndarray:
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _storage_of(arr: np.ndarray) -> tuple[np.ndarray, int, tuple[int, ...]]:
    """``(root, offset, strides)``, offset and strides in elements: the C-contiguous array of
    ``arr``'s dtype that ``arr`` views (with non-negative strides), else a contiguous copy of it."""
    root, size = _root(arr), arr.itemsize
    if root.dtype == arr.dtype and root.flags.c_contiguous and arr.size:
        begin = arr.ctypes.data - root.ctypes.data
        if begin >= 0 and begin % size == 0 and all(s >= 0 and s % size == 0 for s in arr.strides):
            strides = tuple(s // size for s in arr.strides)
            last = begin // size + sum((n - 1) * s for n, s in zip(arr.shape, strides))
            if last < root.size:
                return root, begin // size, strides
    strides, step = [], 1  # row-major, as torch gives even empty tensors (NumPy may not)
    for n in reversed(arr.shape):
        strides.insert(0, step)
        step *= max(n, 1)
    return np.ascontiguousarray(arr), 0, tuple(strides)


def _write_zip(fh, archive: str, data_pkl: bytes, storages: list[np.ndarray]) -> None:
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        _write_entry(zf, f"{archive}/data.pkl", data_pkl)
        _write_entry(zf, f"{archive}/.format_version", b"1")
        _write_entry(zf, f"{archive}/.storage_alignment", str(ALIGNMENT).encode())
        _write_entry(zf, f"{archive}/byteorder", b"little")
        for key, storage in enumerate(storages):
            _write_entry(zf, f"{archive}/data/{key}", storage, align=True)
        _write_entry(zf, f"{archive}/version", b"3\n")
        _write_entry(zf, f"{archive}/.data/serialization_id", str(secrets.randbelow(10 ** 40)).zfill(40).encode())


def _write_entry(zf: zipfile.ZipFile, name: str, data, align: bool = False) -> None:
    """One stored entry; with ``align``, its data starts at a multiple of ALIGNMENT (the padding is
    an extra field of the local header, as PyTorch writes it)."""
    payload = _little_endian_bytes(data) if isinstance(data, np.ndarray) else memoryview(data)
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = payload.nbytes
    zip64 = payload.nbytes * 1.05 > zipfile.ZIP64_LIMIT
    if align:
        header = 30 + len(name.encode("utf-8")) + (20 if zip64 else 0)
        pad = -(zf.fp.tell() + header + 4) % ALIGNMENT  # 4: the padding field's own id and length
        info.extra = b"FB" + pad.to_bytes(2, "little") + b"Z" * pad
    with zf.open(info, "w", force_zip64=zip64) as out:
        _write_storage(out, payload)


def _little_endian_bytes(arr: np.ndarray) -> memoryview:
    little = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    return memoryview(little.reshape(-1).view(np.uint8))


def _write_storage(out, payload: memoryview) -> None:
    step = 1 << 26  # bounded chunks: zipfile's CRC update and the OS write see at most 64 MiB at once
    for begin in range(0, payload.nbytes, step):
        out.write(payload[begin:begin + step])


# ---- atomic writes ------------------------------------------------------------------------------------
def _atomic_write(path: str, write: Callable) -> None:
    """Write ``path`` through a temporary file in its directory: fsync, then rename over ``path``. On
    any failure ``path`` is untouched and no temporary file stays."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    _remove_stale_temporaries(directory, base)
    tmp = os.path.join(directory, f".{base}.{secrets.token_hex(8)}.tmp")
    fd, linked = _open_unnamed(directory)
    if fd is None:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
            if linked:  # a dst_dir_fd makes Python call linkat with AT_SYMLINK_FOLLOW, as /proc needs
                dir_fd = os.open(directory, os.O_RDONLY)
                try:
                    os.link(f"/proc/self/fd/{fh.fileno()}", os.path.basename(tmp), dst_dir_fd=dir_fd)
                finally:
                    os.close(dir_fd)
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


def _open_unnamed(directory: str) -> tuple[int | None, bool]:
    """An unnamed file in ``directory`` (Linux ``O_TMPFILE``): nothing is left if the process dies."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None, False
    try:
        return os.open(directory, flag | os.O_WRONLY, 0o600), True
    except OSError:  # the file system does not support it
        return None, False


def _remove_stale_temporaries(directory: str, base: str) -> None:
    pattern = re.compile(re.escape(f".{base}.") + r"[0-9a-f]{16}\.tmp\Z")
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            if pattern.match(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, name))


# ---- the allow-list -----------------------------------------------------------------------------------
_safe_globals: dict[str, Any] = {}  # "module.name" -> object, added by the user


def _qualified_name(obj) -> str:
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[1], str):
        obj = obj[0]  # (object, "module.name"), as PyTorch accepts
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals: list) -> None:
    """Allow ``weights_only`` loading to use these classes/functions (or ``(obj, "module.name")``
    pairs), as ``torch.serialization.add_safe_globals``."""
    for obj in safe_globals:
        if isinstance(obj, tuple):
            if len(obj) != 2 or not isinstance(obj[1], str):
                raise TypeError(f"add_safe_globals: expected a callable or an (object, 'module.name') pair, "
                                f"got {obj!r}")
            _safe_globals[obj[1]] = obj[0]
        else:
            _safe_globals[_qualified_name(obj)] = obj


def get_safe_globals() -> list:
    """The globals :func:`add_safe_globals` allowed, as ``torch.serialization.get_safe_globals``."""
    return list(_safe_globals.values())


def clear_safe_globals() -> None:
    """Forget every global :func:`add_safe_globals` allowed, as ``torch.serialization.clear_safe_globals``."""
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list):
    """Allow these globals for ``weights_only`` loading inside the ``with`` block only, as
    ``torch.serialization.safe_globals``."""
    before = dict(_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe_globals.clear()
        _safe_globals.update(before)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None) -> Tensor:
    """A tensor viewing ``storage`` (a :class:`_LoadedStorage`), as ``torch._utils._rebuild_tensor_v2``."""
    if not isinstance(storage, _LoadedStorage):
        raise pickle.UnpicklingError(f"_rebuild_tensor_v2 expects a storage, got {type(storage).__name__}")
    if not (_is_count(storage_offset) and all(_is_count(n) for n in size) and len(stride) == len(size)
            and all(_is_count(s) for s in stride)):
        raise pickle.UnpicklingError(f"invalid tensor geometry: offset {storage_offset!r}, size {size!r}, "
                                     f"stride {stride!r}")
    data = storage.data
    if math.prod(size) and storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) >= data.size:
        raise pickle.UnpicklingError(f"a tensor of size {tuple(size)}, stride {tuple(stride)} and offset "
                                     f"{storage_offset} reaches past its storage of {data.size} elements")
    xp = backend.xp_of(data)
    item = data.itemsize
    view = xp.lib.stride_tricks.as_strided(data[storage_offset:] if data.size else data, tuple(size),
                                           tuple(s * item for s in stride))
    t = Tensor._make(view)
    if requires_grad:
        t.requires_grad = True
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks=None) -> Parameter:
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state) -> Parameter:
    p = Parameter(data, requires_grad)
    if isinstance(state, dict):  # attributes the user set on the parameter
        p.__dict__.update(state)
    return p


def _rebuild_from_type_v2(func, new_type, args, state):
    t = func(*args)
    if new_type is Parameter and not isinstance(t, Parameter):
        t = Parameter(t, t.requires_grad)
    if isinstance(state, dict) and state:
        t.__dict__.update(state)
    return t


def _encode(obj, encoding="utf-8", errors="strict"):
    if not isinstance(obj, str):
        raise pickle.UnpicklingError("_codecs.encode is allowed only on strings (pickled bytes)")
    return obj.encode(encoding, errors)


def _unsupported_dtype(name: str):
    raise RuntimeError(f"ember.load: the checkpoint holds a {name} tensor, and Ember has no {name} dtype "
                       f"(Ember's dtypes: {', '.join(d.name for d in _dtype.ALL)})")


def _torch_globals() -> dict[str, Any]:
    """PyTorch's weights-only allow-list, each name mapped to what it means in Ember."""
    table: dict[str, Any] = {
        "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
        "builtins.set": set, "builtins.bytearray": bytearray, "builtins.complex": complex,
        "_codecs.encode": _encode,
        "torch.Size": Size, "torch.device": _device, "torch.Tensor": Tensor,
        "torch.nn.parameter.Parameter": Parameter,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.storage.UntypedStorage": _StorageType(_dtype.uint8),
    }
    for name, storage in _STORAGE_OF.items():
        table[f"torch.{storage}"] = _StorageType(_DTYPES[name])
        table[f"torch.{name}"] = _DTYPES[name]
    return table


_TORCH_GLOBALS = _torch_globals()


class _Unpickler(pickle.Unpickler):
    """Maps torch's globals to Ember's; with ``weights_only`` refuses every other global."""

    def __init__(self, file, weights_only: bool, load_storage: Callable) -> None:
        super().__init__(file, encoding="utf-8")
        self.weights_only = weights_only
        self.load_storage = load_storage

    def find_class(self, module: str, name: str):
        if (module, name) in _compat_pickle.NAME_MAPPING:  # Python 2 spellings, as protocol 2 writes
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f"{module}.{name}"
        if full in _TORCH_GLOBALS:
            return _TORCH_GLOBALS[full]
        if module == "torch" and (name in _UNSUPPORTED_DTYPES or name in _UNSUPPORTED_STORAGES):
            _unsupported_dtype(_UNSUPPORTED_STORAGES.get(name, name))
        if full in _safe_globals:
            return _safe_globals[full]
        if self.weights_only:
            raise pickle.UnpicklingError(
                f"Weights only load failed. Unsupported global: GLOBAL {full} was not an allowed global by "
                f"default. Please use `ember.serialization.add_safe_globals([{full}])` or the "
                f"`ember.serialization.safe_globals([{full}])` context manager to allowlist this global if "
                f"you trust this class/function. {UNSAFE_MESSAGE}")
        if module == "torch" or module.startswith("torch."):
            raise pickle.UnpicklingError(f"ember.load: the checkpoint uses {full}, which has no Ember "
                                         f"equivalent")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str) and isinstance(pid[3], str)
                and _is_count(pid[4])):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r} (expected a storage)")
        return self.load_storage(pid[1].dtype, pid[2], pid[3], pid[4])


class _LoadedStorage:
    """A storage read from a checkpoint: a flat array on its device."""

    __slots__ = ("data",)

    def __init__(self, data) -> None:
        self.data = data


# ---- load ---------------------------------------------------------------------------------------------
class _Invalid(Exception):
    """A reason why a file is not a valid checkpoint (turned into a RuntimeError naming the file)."""


def load(f, map_location=None, pickle_module=None, *, weights_only: bool = True, mmap: bool = False):
    """Load an object saved by :func:`save` or ``torch.save`` (zip format) from a path or a binary
    file object, as ``torch.load``.

    Args:
        map_location: where to put the tensors: ``None`` (where they were saved), a device or device
            string (all of them there), a dict mapping saved locations to devices (``{'cuda:0':
            'cpu'}``), or a callable ``fn(storage, location)`` that gets each storage as a 1-D CPU
            tensor and returns the tensor to use (or None for the default).
        pickle_module: must be None or the standard :mod:`pickle`.
        weights_only: True (the default) allows only tensors, containers, numbers, strings, dtypes,
            ``Size``, ``device`` and the globals added by :func:`add_safe_globals`; False unpickles any
            object and can run arbitrary code: only for files from a trusted source.
        mmap: map the storages read-only from the file instead of reading them (``f`` must be a path;
            files in Ember's earlier format are always read into memory).

    Raises:
        pickle.UnpicklingError: with ``weights_only``, for a global outside the allow-list.
        RuntimeError: "<file> is not a valid checkpoint: <reason>" for anything else that is not a
            well-formed checkpoint (other formats, legacy PyTorch files, truncated, crafted or
            corrupted files, CRC-32 mismatches).
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError(f"ember.load: pickle_module must be None or the standard pickle module, got "
                         f"{pickle_module!r}")
    if weights_only is None:
        weights_only = True
    if mmap and hasattr(f, "read"):
        raise ValueError("ember.load: mmap=True needs f to be a path, not a file object")
    place = _placement(map_location)
    with _open_for_reading(f) as (fh, name):
        start = fh.tell()
        head = fh.read(8)
        fh.seek(start)
        try:
            if head.startswith(MAGIC):
                header = _read_header(fh)
                arrays = _read_tensors(fh, header)
                return _Decoder(header["tensors"], arrays, place).decode(header["object"])
            if head.startswith(b"PK"):
                return _load_zip(fh, os.fspath(f) if mmap else None, place, bool(weights_only))
            if head[:1] == b"\x80":
                raise _Invalid("it is a legacy (pre-1.6, non-zip) PyTorch checkpoint, which Ember does not "
                               "read; re-save it with torch.save in PyTorch >= 1.6")
            raise _Invalid(f"it is neither a zip checkpoint nor an ember checkpoint (starts with {head!r})")
        except _Invalid as exc:
            raise RuntimeError(f"{name} is not a valid checkpoint: {exc}") from None


@contextlib.contextmanager
def _open_for_reading(f):
    if hasattr(f, "read"):
        name = repr(f.name) if hasattr(f, "name") else "the file object"
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        yield f, name
        return
    path = os.fspath(f)
    if os.path.isdir(path):
        raise IsADirectoryError(f"ember.load: {path!r} is a directory, not a checkpoint file")
    with open(path, "rb") as fh:
        yield fh, repr(path)


def _load_zip(fh, mmap_path: str | None, place: Callable, weights_only: bool):
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _Invalid(f"it is not a readable zip archive ({exc}; truncated?)") from None
    with zf:
        entries = _check_entries(zf)
        archive = entries["data.pkl"].filename[:-len("data.pkl")]
        order = _read_entry(zf, entries, "byteorder", limit=16) if "byteorder" in entries else b"little"
        if order not in (b"little", b"big"):
            raise _Invalid(f"unknown byteorder {order!r}")
        storages: dict[str, _LoadedStorage] = {}

        def load_storage(dt: _dtype.dtype, key: str, location: str, numel: int) -> _LoadedStorage:
            if key in storages:
                return storages[key]
            info = entries.get(f"data/{key}")
            if info is None:
                raise _Invalid(f"the pickle refers to storage {key!r}, but there is no entry {archive}data/{key}")
            if info.file_size != numel * dt.itemsize:
                raise _Invalid(f"entry {info.filename} holds {info.file_size} bytes, but its storage of "
                               f"{numel} {dt.name} elements needs {numel * dt.itemsize}")
            np_dt = dt.np.newbyteorder("<" if order == b"little" else ">")
            if mmap_path is not None and numel:
                arr = _mapped_entry(zf, info, mmap_path, np_dt, numel)
            else:
                arr = np.empty(numel, dtype=np_dt)
                _read_entry_into(zf, info, memoryview(arr.view(np.uint8)))
            if np_dt != dt.np:  # a big-endian file on a little-endian machine, or the reverse
                arr = arr.astype(dt.np)
            if dt.np == np.bool_ and (arr.view(np.uint8) > 1).any():
                raise _Invalid(f"entry {info.filename} is a bool storage but holds bytes other than 0 and 1")
            storages[key] = _LoadedStorage(place(arr, location))
            return storages[key]

        pkl = _read_entry(zf, entries, "data.pkl")
        try:
            return _Unpickler(io.BytesIO(pkl), weights_only, load_storage).load()
        except pickle.UnpicklingError:
            raise
        except _Invalid:
            raise
        except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError, RecursionError,
                struct.error) as exc:
            if not weights_only:
                raise
            raise _Invalid(f"data.pkl is not a valid checkpoint pickle ({type(exc).__name__}: {exc})") from None


def _check_entries(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The entries by name relative to the archive folder, after checking the names and methods."""
    infos = zf.infolist()
    pkls = [i.filename for i in infos if i.filename.endswith("data.pkl") and i.filename.count("/") == 1]
    if len(pkls) != 1:
        raise _Invalid("the zip has no single <archive>/data.pkl entry (not a PyTorch checkpoint)")
    prefix = pkls[0][:-len("data.pkl")]
    entries = {}
    for info in infos:
        parts = info.filename.split("/")
        if (not info.filename.startswith(prefix) or "\\" in info.filename or info.filename.startswith("/")
                or any(p in ("", ".", "..") for p in parts)):
            raise _Invalid(f"the zip entry {info.filename!r} lies outside the archive folder {prefix!r}")
        if info.compress_type != zipfile.ZIP_STORED:
            raise _Invalid(f"the zip entry {info.filename!r} is compressed; checkpoints store entries as they are")
        entries[info.filename[len(prefix):]] = info
    return entries


def _read_entry(zf: zipfile.ZipFile, entries: dict, name: str, limit: int | None = None) -> bytes:
    info = entries[name]
    if limit is not None and info.file_size > limit:
        raise _Invalid(f"entry {info.filename} holds {info.file_size} bytes, more than the {limit} expected")
    try:
        return zf.read(info)  # checks the CRC-32
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
        raise _Invalid(f"cannot read entry {info.filename} ({exc})") from None


def _read_entry_into(zf: zipfile.ZipFile, info: zipfile.ZipInfo, out: memoryview) -> None:
    """Read the whole entry into ``out`` (its exact size); zipfile checks the CRC-32 at the end."""
    try:
        with zf.open(info) as entry:
            got = 0
            while got < out.nbytes:
                n = entry.readinto(out[got:])
                if not n:
                    raise _Invalid(f"the file ends inside entry {info.filename} (truncated?)")
                got += n
            if entry.read(1):
                raise _Invalid(f"entry {info.filename} holds more than its declared {info.file_size} bytes")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
        raise _Invalid(f"cannot read entry {info.filename} ({exc})") from None


def _mapped_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, np_dt, numel: int) -> np.ndarray:
    """The entry's bytes mapped read-only from the file, after checking their CRC-32."""
    fp = zf.fp
    fp.seek(info.header_offset)
    local = fp.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise _Invalid(f"entry {info.filename} has a bad local header")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    begin = info.header_offset + 30 + name_len + extra_len
    if begin + info.file_size > os.path.getsize(path):
        raise _Invalid(f"entry {info.filename} extends past the end of the file (truncated?)")
    arr = np.memmap(path, dtype=np_dt, mode="r", offset=begin, shape=(numel,))
    raw = arr.view(np.uint8)
    crc = 0
    for start in range(0, raw.size, 1 << 24):
        crc = zlib.crc32(raw[start:start + (1 << 24)], crc)
    if crc != info.CRC:
        raise _Invalid(f"Bad CRC-32 for entry {info.filename}")
    return arr


# ---- Ember's earlier format (read only) -------------------------------------------------------
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
    _, version, header_len = _PREFIX.unpack(prefix)  # the caller checked the magic
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
