"""What counts as an image, and how image functions see all kinds the same way.

Three kinds of image are accepted everywhere in :mod:`ember.vision`:

* a PIL image (when Pillow is installed),
* a NumPy array of shape ``(H, W)`` or ``(H, W, C)`` (usually ``uint8`` in ``0..255``),
* an ember tensor of shape ``(C, H, W)`` or ``(..., C, H, W)`` (usually ``float32`` in
  ``[0, 1]``).

:func:`as_batch` turns any of them into one NumPy array of shape ``(N, H, W, C)`` (channels
last, so colour maths works on the last axis and geometry on axes 1 and 2) together with a
function that turns a result of the same layout back into the caller's kind, shape layout and
dtype. Each image operation is then written once, on that array.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import ember
from ember.utils.data._arrays import like_tensor, to_numpy

_PILLOW_HINT = "pip install pillow (or: pip install ember[examples])"


def import_pil_image() -> Any:
    """The ``PIL.Image`` module, or an ImportError that says how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(f"this needs Pillow: {_PILLOW_HINT}") from error
    return Image


def is_pil_image(img: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(img, Image.Image)


_backend = None  # "PIL" or "numpy"; chosen on first use when not set


def set_image_backend(backend: str) -> None:
    """Choose what datasets return as images: ``"PIL"`` (PIL images, like torchvision) or
    ``"numpy"`` (``uint8`` arrays of shape ``(H, W)`` or ``(H, W, 3)``).

    The default is ``"PIL"`` when Pillow is installed and ``"numpy"`` otherwise. Every
    transform accepts both, so only code that calls PIL methods on samples cares.
    """
    global _backend
    if backend not in ("PIL", "numpy"):
        raise ValueError(f"image backend should be 'PIL' or 'numpy', got {backend!r}")
    if backend == "PIL":
        import_pil_image()
    _backend = backend


def get_image_backend() -> str:
    """The current image backend: ``"PIL"`` or ``"numpy"`` (see :func:`set_image_backend`)."""
    global _backend
    if _backend is None:
        try:
            import_pil_image()
            _backend = "PIL"
        except ImportError:
            _backend = "numpy"
    return _backend


def array_to_image(array: np.ndarray) -> Any:
    """A dataset's ``(H, W)`` or ``(H, W, C)`` uint8 array as the current backend's image."""
    if get_image_backend() == "PIL":
        return import_pil_image().fromarray(array)
    return array


def as_batch(img: Any) -> tuple:
    """``(batch, restore)``: ``img`` as an ``(N, H, W, C)`` array, and the way back.

    ``restore(result)`` takes an ``(N, H', W', C')`` array and returns the caller's kind of
    image with the caller's dtype: integer images are rounded and clipped to their range,
    float images are only cast.
    """
    if is_pil_image(img):
        if img.mode == "P":  # palette indices cannot be interpolated: work on the colours
            img = img.convert("RGB")
        array = np.asarray(img)
        layout_2d = array.ndim == 2
        batch = array[None, :, :, None] if layout_2d else array[None]

        def restore(result: np.ndarray) -> Any:
            out = _cast(result, array.dtype)[0]
            return import_pil_image().fromarray(out[:, :, 0] if layout_2d else out)

        return batch, restore

    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"a NumPy image should be (H, W) or (H, W, C), got shape {img.shape}")
        layout_2d = img.ndim == 2

        def restore(result: np.ndarray) -> Any:
            out = _cast(result, img.dtype)[0]
            return out[:, :, 0] if layout_2d else out

        return (img[None, :, :, None] if layout_2d else img[None]), restore

    if isinstance(img, ember.Tensor):
        if len(img.shape) < 3:
            raise ValueError(f"an image tensor should be (C, H, W) or (..., C, H, W), "
                             f"got shape {tuple(img.shape)}")
        array = to_numpy(img)
        leading = array.shape[:-3]
        batch = array.reshape((-1,) + array.shape[-3:]).transpose(0, 2, 3, 1)

        def restore(result: np.ndarray) -> Any:
            chw = _cast(result, array.dtype).transpose(0, 3, 1, 2)
            return like_tensor(chw.reshape(leading + chw.shape[1:]), img)

        return batch, restore

    raise TypeError(f"expected a PIL image, a NumPy array or an ember tensor, got {type(img)}")


def apply(img: Any, kernel: Callable[[np.ndarray], np.ndarray]) -> Any:
    """Run ``kernel`` on ``img`` seen as an ``(N, H, W, C)`` array; return the caller's kind."""
    batch, restore = as_batch(img)
    return restore(kernel(batch))


def image_size(img: Any) -> tuple:
    """``(height, width)`` of any accepted kind of image."""
    if is_pil_image(img):
        return img.height, img.width
    if isinstance(img, np.ndarray):
        return img.shape[0], img.shape[1]
    if isinstance(img, ember.Tensor):
        return tuple(img.shape[-2:])
    raise TypeError(f"expected a PIL image, a NumPy array or an ember tensor, got {type(img)}")


def image_channels(img: Any) -> int:
    """Number of channels of any accepted kind of image."""
    if is_pil_image(img):
        return len(img.getbands())
    if isinstance(img, np.ndarray):
        return 1 if img.ndim == 2 else img.shape[2]
    return img.shape[-3]


def max_value(dtype: np.dtype) -> float:
    """The value of a fully bright pixel: the top of the range for integers, 1.0 for floats."""
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return 1.0


def _cast(result: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if result.dtype == dtype:
        return result
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(result), info.min, info.max).astype(dtype)
    if dtype == np.bool_:
        return result > 0.5
    return result.astype(dtype)
