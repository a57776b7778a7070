"""Hugging Face safetensors files for Ember tensors: the API of ``safetensors.torch``.

``from safetensors.torch import save_file, load_file`` becomes ``from ember.safetensors import
save_file, load_file``. The format is written and read by the real ``safetensors`` library (its
NumPy front end), so the files are the ones every safetensors tool reads; CUDA tensors go through
host memory. The library is an optional dependency (``pip install ember[interop]``).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._device import device as _device
from .ops.creation import from_numpy
from .tensor import Tensor

try:
    import safetensors as _safetensors
    import safetensors.numpy as _st_numpy
except ImportError:  # an optional dependency: the functions say how to get it
    _safetensors = _st_numpy = None

__all__ = ["load", "load_file", "safe_open", "save", "save_file"]


def _library():
    if _st_numpy is None:
        raise ModuleNotFoundError("ember.safetensors needs the safetensors package: "
                                  "pip install safetensors (or ember[interop])")
    return _st_numpy


def _host_arrays(tensors: dict[str, Tensor]) -> dict[str, np.ndarray]:
    """Checks ``tensors`` as safetensors.torch does and returns their values as host arrays."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, ember.Tensor] but received {type(tensors).__name__}")
    arrays, spans = {}, []
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise ValueError(f"Key `{name!r}` is invalid, expected str but received {type(name).__name__}")
        if not isinstance(t, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected ember.Tensor but received {type(t).__name__}")
        if not t.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It either "
                "means you are trying to save tensors which are reference of each other in which case it's "
                "recommended to save only the full tensors, and reslice at load time, or simply call "
                "`.contiguous()` on your tensor to pack it before saving.")
        data = t._data
        if t.numel() and t.device.type == "cpu":
            start = data.__array_interface__["data"][0]
            spans.append((start, start + data.nbytes, name))
        arrays[name] = np.asarray(t.detach().cpu().numpy(), order="C")  # 0-d stays 0-d
    spans.sort()
    for (_, end, a), (start, _, b) in zip(spans, spans[1:]):
        if start < end:  # two entries over one memory: written twice, loaded as two tensors
            raise RuntimeError(
                f"Some tensors share memory, this will lead to duplicate memory on disk and potential "
                f"differences when loading them again: [{a!r}, {b!r}]. Save clones of them "
                "(tensor.clone()) or only one of them.")
    return arrays


def _metadata(metadata):
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise ValueError("metadata must be a dict of str to str")
    return metadata


def _to_tensors(arrays: dict[str, np.ndarray], device) -> dict[str, Tensor]:
    dev = _device(device) if not isinstance(device, int) else _device("cuda", device)
    out = {}
    for name, a in arrays.items():
        t = from_numpy(np.array(a, copy=True) if not a.flags.writeable else a)
        out[name] = t if dev.type == "cpu" else t.to(dev)
    return out


def save_file(tensors: dict[str, Tensor], filename: str | os.PathLike, metadata: dict[str, str] | None = None):
    """As safetensors.torch.save_file: writes ``tensors`` (contiguous, not sharing memory) to
    ``filename`` with optional str->str ``metadata``."""
    _library().save_file(_host_arrays(tensors), os.fspath(filename), metadata=_metadata(metadata))


def save(tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """As safetensors.torch.save: the safetensors file of ``tensors`` as bytes."""
    return _library().save(_host_arrays(tensors), metadata=_metadata(metadata))


def _checked_load(read, source: str):
    try:
        return read()
    except TypeError as e:  # a dtype NumPy lacks (BF16, F8): name it rather than NumPy's words
        raise TypeError(f"{source}: holds a tensor of a dtype Ember cannot represent ({e})") from None


def load_file(filename: str | os.PathLike, device: str | int = "cpu") -> dict[str, Tensor]:
    """As safetensors.torch.load_file: the tensors of the file, on ``device``."""
    path = os.fspath(filename)
    return _to_tensors(_checked_load(lambda: _library().load_file(path), path), device)


def load(data: bytes) -> dict[str, Tensor]:
    """As safetensors.torch.load: the tensors of a safetensors file given as bytes, on the CPU."""
    return _to_tensors(_checked_load(lambda: _library().load(data), "safetensors bytes"), "cpu")


class safe_open:  # noqa: N801  (the library's name)
    """As ``safetensors.safe_open(filename, framework="pt", device=...)``: a context manager reading
    one tensor at a time (``keys()``, ``get_tensor(name)``, ``metadata()``) without loading the rest."""

    def __init__(self, filename: str | os.PathLike, framework: str = "pt", device: str | int = "cpu"):
        if framework not in ("pt", "torch", "ember", "np", "numpy"):
            raise ValueError(f"framework {framework!r} is not supported by ember.safetensors.safe_open: "
                             "use 'pt'")
        _library()
        self._path, self._device = os.fspath(filename), device
        self._file: Any = _safetensors.safe_open(self._path, framework="numpy")

    def __enter__(self):
        self._file.__enter__()
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)

    def keys(self) -> list[str]:
        """The tensor names, in the file's order."""
        return list(self._file.keys())

    def metadata(self) -> dict[str, str] | None:
        """The file's str->str metadata, or None."""
        return self._file.metadata()

    def get_tensor(self, name: str) -> Tensor:
        """The tensor ``name`` on the device given to safe_open."""
        array = _checked_load(lambda: self._file.get_tensor(name), f"{self._path}[{name!r}]")
        return _to_tensors({name: array}, self._device)[name]
