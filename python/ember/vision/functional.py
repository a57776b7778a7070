"""Deterministic image operations behind :mod:`ember.vision.transforms`.

Every function accepts a PIL image, a NumPy ``(H, W[, C])`` array or an ember ``(..., C, H, W)``
tensor and returns the same kind (see :mod:`ember.vision._image`). The maths is NumPy on an
``(N, H, W, C)`` array, written out here: resampling builds explicit interpolation weights,
geometric warps map every output pixel back to a source position and interpolate there.

Coordinates: pixel ``(row i, column j)`` has its centre at ``x = j``, ``y = i``; the image
centre is ``((W - 1) / 2, (H - 1) / 2)``. Angles are in degrees, positive counter-clockwise as
the image is displayed (y pointing down).
"""
from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import ember
from ember.utils.data._arrays import to_numpy

from ._image import (
    apply,
    image_channels,
    image_size,
    import_pil_image,
    is_pil_image,
    max_value,
)

__all__ = [
    "InterpolationMode",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "affine",
    "center_crop",
    "crop",
    "erase",
    "gaussian_blur",
    "hflip",
    "normalize",
    "pad",
    "pil_to_tensor",
    "resize",
    "resized_crop",
    "rgb_to_grayscale",
    "rotate",
    "to_pil_image",
    "to_tensor",
    "vflip",
]


class InterpolationMode(str, enum.Enum):
    """How to read a pixel value between pixel centres (``"nearest"`` or ``"bilinear"``)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _interpolation(mode: str | InterpolationMode) -> str:
    return InterpolationMode(mode).value


def _pair(value: float | Sequence, name: str) -> tuple:
    """``value`` as a pair: a number ``v`` becomes ``(v, v)``."""
    if isinstance(value, (int, float)):
        return (value, value)
    if len(value) == 1:
        return (value[0], value[0])
    if len(value) != 2:
        raise ValueError(f"{name} should be a number or a pair, got {value!r}")
    return tuple(value)


def _float_dtype(dtype: np.dtype) -> np.dtype:
    """The float type to compute in: float64 for float64 images, float32 for everything else."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _fill_vector(fill: float | Sequence[float] | None, channels: int) -> np.ndarray:
    """``fill`` as one value per channel."""
    values = np.zeros(1) if fill is None else np.atleast_1d(np.asarray(fill, dtype=np.float64))
    if values.size not in (1, channels):
        raise ValueError(f"fill should be one value or one per channel ({channels}), got {fill!r}")
    return np.broadcast_to(values, (channels,))


# ----------------------------------------------------------------------------- conversions


def to_tensor(pic: Any) -> ember.Tensor:
    """A PIL image or ``(H, W[, C])`` array as a ``(C, H, W)`` tensor.

    ``uint8`` data (every 8-bit PIL mode) is scaled to ``float32`` in ``[0, 1]``; ``bool`` becomes
    ``float32`` 0/1; other dtypes keep their dtype and values, as in torchvision.
    """
    array = _host_hwc(pic, "to_tensor")
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        chw = chw.astype(np.float32) / np.float32(255)
    elif chw.dtype == np.bool_:
        chw = chw.astype(np.float32)
    return ember.from_numpy(chw)


def pil_to_tensor(pic: Any) -> ember.Tensor:
    """A PIL image or ``(H, W[, C])`` array as a ``(C, H, W)`` tensor, values and dtype kept."""
    array = _host_hwc(pic, "pil_to_tensor")
    return ember.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def _host_hwc(pic: Any, caller: str) -> np.ndarray:
    if is_pil_image(pic):
        array = np.array(pic.convert("RGB") if pic.mode == "P" else pic)
    elif isinstance(pic, np.ndarray):
        array = pic
    else:
        raise TypeError(f"{caller} expects a PIL image or a NumPy array, got {type(pic)}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"{caller} expects an (H, W) or (H, W, C) image, got shape {array.shape}")
    return array


def to_pil_image(pic: Any, mode: str | None = None) -> Any:
    """A ``(C, H, W)`` tensor or ``(H, W[, C])`` array as a PIL image (needs Pillow).

    Float data in ``[0, 1]`` is scaled to ``0..255`` and rounded to ``uint8``.
    """
    Image = import_pil_image()
    if isinstance(pic, ember.Tensor):
        array = to_numpy(pic)
        if array.ndim != 3:
            raise ValueError(f"to_pil_image expects a (C, H, W) tensor, got shape {array.shape}")
        array = array.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        array = pic if pic.ndim == 3 else pic[:, :, None]
    else:
        raise TypeError(f"to_pil_image expects a tensor or a NumPy array, got {type(pic)}")
    if np.issubdtype(array.dtype, np.floating) and mode != "F":
        array = np.clip(np.rint(array * 255), 0, 255).astype(np.uint8)
    if array.shape[2] == 1:
        array = array[:, :, 0]
    image = Image.fromarray(np.ascontiguousarray(array))
    return image if mode is None else image.convert(mode)


def normalize(tensor: ember.Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> ember.Tensor:
    """``(tensor - mean[c]) / std[c]`` for each channel ``c`` of a ``(..., C, H, W)`` tensor.

    Written with ember tensor arithmetic, so it keeps the device and is differentiable (it
    can sit inside a model, in front of the first layer).
    """
    if not isinstance(tensor, ember.Tensor):
        raise TypeError(f"normalize expects a tensor (apply ToTensor first), got {type(tensor)}")
    std_array = np.asarray(std, dtype=np.float64)
    if (std_array == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to float, got {std!r}")
    shape = (-1, 1, 1)  # one value per channel, broadcast over H and W
    mean_t = ember.tensor(np.asarray(mean, dtype=np.float64).reshape(shape), dtype=tensor.dtype,
                          device=tensor.device)
    std_t = ember.tensor(std_array.reshape(shape), dtype=tensor.dtype, device=tensor.device)
    result = (tensor - mean_t) / std_t
    if inplace:
        tensor[...] = result
        return tensor
    return result


# ------------------------------------------------------------------------ crops and flips


def hflip(img: Any) -> Any:
    """Mirror left-right."""
    return apply(img, lambda batch: batch[:, :, ::-1])


def vflip(img: Any) -> Any:
    """Mirror top-bottom."""
    return apply(img, lambda batch: batch[:, ::-1])


def pad(img: Any, padding: int | Sequence[int], fill: float | Sequence[float] = 0,
        padding_mode: str = "constant") -> Any:
    """Add a border.

    ``padding`` is one number for all sides, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``. ``padding_mode`` is ``"constant"`` (``fill``), ``"edge"``
    (repeat the last pixel), ``"reflect"`` (mirror without repeating the edge) or
    ``"symmetric"`` (mirror repeating the edge).
    """
    if isinstance(padding, int):
        left = top = right = bottom = padding
    elif len(padding) == 2:
        left, top = right, bottom = padding
    elif len(padding) == 4:
        left, top, right, bottom = padding
    else:
        raise ValueError(f"padding should be 1, 2 or 4 numbers, got {padding!r}")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"padding_mode should be constant, edge, reflect or symmetric, "
                         f"got {padding_mode!r}")

    def kernel(batch: np.ndarray) -> np.ndarray:
        widths = ((0, 0), (top, bottom), (left, right), (0, 0))
        if padding_mode != "constant":
            return np.pad(batch, widths, mode=padding_mode)
        fill_vector = _fill_vector(fill, batch.shape[3]).astype(batch.dtype)
        out = np.empty((batch.shape[0], batch.shape[1] + top + bottom,
                        batch.shape[2] + left + right, batch.shape[3]), dtype=batch.dtype)
        out[...] = fill_vector
        out[:, top:top + batch.shape[1], left:left + batch.shape[2]] = batch
        return out

    return apply(img, kernel)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The ``height x width`` region whose top-left pixel is ``(top, left)``.

    Parts of the region outside the image are filled with zeros.
    """
    img_height, img_width = image_size(img)
    pad_top, pad_left = max(0, -top), max(0, -left)
    pad_bottom = max(0, top + height - img_height)
    pad_right = max(0, left + width - img_width)
    if pad_top or pad_left or pad_bottom or pad_right:
        img = pad(img, (pad_left, pad_top, pad_right, pad_bottom))
        top, left = top + pad_top, left + pad_left
    return apply(img, lambda batch: batch[:, top:top + height, left:left + width])


def center_crop(img: Any, output_size: int | Sequence[int]) -> Any:
    """The central ``(height, width)`` region (zero-padded when larger than the image)."""
    height, width = _pair(output_size, "output_size")
    img_height, img_width = image_size(img)
    top = round((img_height - height) / 2.0)
    left = round((img_width - width) / 2.0)
    return crop(img, top, left, height, width)


# ---------------------------------------------------------------------------- resampling


def _nearest_indices(in_size: int, out_size: int) -> np.ndarray:
    """For each output pixel, the input pixel under its centre (pixel edges line up)."""
    positions = (np.arange(out_size) + 0.5) * (in_size / out_size)
    return np.minimum(np.floor(positions).astype(np.int64), in_size - 1)


def _bilinear_weights(in_size: int, out_size: int, antialias: bool) -> np.ndarray:
    """The ``(out_size, in_size)`` matrix that resamples one axis bilinearly.

    Output pixel ``o`` sits at input coordinate ``(o + 0.5) * in_size / out_size``; its weight
    on input pixel ``i`` falls off linearly with the distance to that pixel's centre
    ``i + 0.5``. When shrinking with ``antialias`` the fall-off is stretched by the shrink
    factor so that every input pixel contributes (a triangle filter), which avoids aliasing.
    Rows are normalised to sum to 1, which also clamps reads at the image border.
    """
    scale = in_size / out_size
    positions = (np.arange(out_size) + 0.5) * scale
    radius = max(scale, 1.0) if antialias else 1.0
    distance = (np.arange(in_size) + 0.5)[None, :] - positions[:, None]
    weights = np.maximum(0.0, 1.0 - np.abs(distance) / radius)
    return weights / weights.sum(axis=1, keepdims=True)


def _resize_batch(batch: np.ndarray, height: int, width: int, interpolation: str = "bilinear",
                  antialias: bool = True) -> np.ndarray:
    """Resize an ``(N, H, W, C)`` array to ``(N, height, width, C)`` (float for bilinear)."""
    if interpolation == "nearest":
        rows = _nearest_indices(batch.shape[1], height)
        cols = _nearest_indices(batch.shape[2], width)
        return batch[:, rows][:, :, cols]
    working = _float_dtype(batch.dtype)
    rows = _bilinear_weights(batch.shape[1], height, antialias).astype(working)
    cols = _bilinear_weights(batch.shape[2], width, antialias).astype(working)
    nchw = batch.astype(working).transpose(0, 3, 1, 2)
    return (rows @ nchw @ cols.T).transpose(0, 2, 3, 1)


def _output_size(img: Any, size: int | Sequence[int], max_size: int | None) -> tuple:
    """torchvision's rule: an int sets the shorter edge (aspect ratio kept), a pair is (h, w)."""
    height, width = image_size(img)
    if not isinstance(size, int):
        if len(size) == 2:
            return tuple(size)
        size = size[0]
    short, long = sorted((height, width))
    new_short, new_long = size, int(size * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_short, new_long) if height <= width else (new_long, new_short)


def resize(img: Any, size: int | Sequence[int],
           interpolation: str | InterpolationMode = "bilinear",
           max_size: int | None = None, antialias: bool = True) -> Any:
    """Resize to ``size``: ``(height, width)``, or an int for the shorter edge.

    Bilinear resampling with antialiasing (when shrinking) by default; ``"nearest"`` picks the
    input pixel under each output pixel's centre.
    """
    height, width = _output_size(img, size, max_size)
    mode = _interpolation(interpolation)
    return apply(img, lambda batch: _resize_batch(batch, height, width, mode, antialias))


def resized_crop(img: Any, top: int, left: int, height: int, width: int,
                 size: int | Sequence[int],
                 interpolation: str | InterpolationMode = "bilinear",
                 antialias: bool = True) -> Any:
    """Crop the region, then resize it to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def _sample(batch: np.ndarray, source_x: np.ndarray, source_y: np.ndarray, interpolation: str,
            fill: float | Sequence[float] | None) -> np.ndarray:
    """Read ``batch`` (N, H, W, C) at the source positions (H', W') of every output pixel.

    The image is surrounded by a one-pixel frame of ``fill``; positions are clamped into the
    frame, so anything that maps outside the image reads ``fill`` (and bilinear reads blend
    smoothly into it at the border).
    """
    n, height, width, channels = batch.shape
    working = _float_dtype(batch.dtype)
    framed = np.empty((n, height + 2, width + 2, channels), dtype=working)
    framed[...] = _fill_vector(fill, channels)
    framed[:, 1:-1, 1:-1] = batch
    x = np.clip(source_x + 1.0, 0.0, width + 1.0)
    y = np.clip(source_y + 1.0, 0.0, height + 1.0)
    if interpolation == "nearest":
        return framed[:, np.rint(y).astype(np.int64), np.rint(x).astype(np.int64)]
    x0 = np.minimum(np.floor(x).astype(np.int64), width)
    y0 = np.minimum(np.floor(y).astype(np.int64), height)
    wx = (x - x0)[None, :, :, None].astype(working)
    wy = (y - y0)[None, :, :, None].astype(working)
    top = framed[:, y0, x0] * (1 - wx) + framed[:, y0, x0 + 1] * wx
    bottom = framed[:, y0 + 1, x0] * (1 - wx) + framed[:, y0 + 1, x0 + 1] * wx
    return top * (1 - wy) + bottom * wy


def _affine_matrix(angle: float, scale: float, shear: Sequence[float]) -> np.ndarray:
    """The 2x2 linear part ``scale * R(angle) @ S(shear)`` in (x, y) pixel coordinates.

    ``R`` turns counter-clockwise on screen; ``S`` shears x by ``tan(shear_x) * y`` and y by
    ``tan(shear_y) * x``.
    """
    theta = math.radians(angle)
    rotation = np.array([[math.cos(theta), math.sin(theta)],
                         [-math.sin(theta), math.cos(theta)]])
    shear_x, shear_y = (math.radians(s) for s in shear)
    shearing = np.array([[1.0, math.tan(shear_x)], [math.tan(shear_y), 1.0]])
    return scale * rotation @ shearing


def _warp(batch: np.ndarray, matrix: np.ndarray, center_in: Sequence[float],
          center_out: Sequence[float], out_size: tuple, translate: Sequence[float],
          interpolation: str, fill: Any) -> np.ndarray:
    """Apply ``out = center_out + translate + matrix @ (in - center_in)`` to ``batch``.

    Every output pixel is mapped back through the inverse and sampled there.
    """
    out_height, out_width = out_size
    ys, xs = np.meshgrid(np.arange(out_height, dtype=np.float64),
                         np.arange(out_width, dtype=np.float64), indexing="ij")
    inverse = np.linalg.inv(matrix)
    dx = xs - center_out[0] - translate[0]
    dy = ys - center_out[1] - translate[1]
    source_x = center_in[0] + inverse[0, 0] * dx + inverse[0, 1] * dy
    source_y = center_in[1] + inverse[1, 0] * dx + inverse[1, 1] * dy
    return _sample(batch, source_x, source_y, interpolation, fill)


def affine(img: Any, angle: float, translate: Sequence[float], scale: float,
           shear: float | Sequence[float],
           interpolation: str | InterpolationMode = "nearest",
           fill: float | Sequence[float] | None = 0,
           center: Sequence[float] | None = None) -> Any:
    """Rotate by ``angle``, scale, shear (degrees, one value or ``(x, y)``) about ``center``
    (the image centre by default), then shift by ``translate = (dx, dy)`` pixels.

    The output has the input's size; uncovered pixels take ``fill``.
    """
    height, width = image_size(img)
    if center is None:
        center = ((width - 1) / 2.0, (height - 1) / 2.0)
    shear_xy = (shear, 0.0) if isinstance(shear, (int, float)) else _pair(shear, "shear")
    matrix = _affine_matrix(angle, scale, shear_xy)
    mode = _interpolation(interpolation)
    return apply(img, lambda batch: _warp(batch, matrix, center, center, (height, width),
                                          translate, mode, fill))


def rotate(img: Any, angle: float, interpolation: str | InterpolationMode = "nearest",
           expand: bool = False, center: Sequence[float] | None = None,
           fill: float | Sequence[float] | None = 0) -> Any:
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (the image centre).

    With ``expand=True`` the output grows to hold the whole rotated image (rotation about
    the centre only).
    """
    height, width = image_size(img)
    default_center = ((width - 1) / 2.0, (height - 1) / 2.0)
    matrix = _affine_matrix(angle, 1.0, (0.0, 0.0))
    out_size, center_out = (height, width), center or default_center
    if expand:
        # The bounding box of the rotated image rectangle; a tiny tolerance keeps exact
        # multiples of 90 degrees from growing by a pixel through rounding error.
        out_width = math.ceil(abs(matrix[0, 0]) * width + abs(matrix[0, 1]) * height - 1e-6)
        out_height = math.ceil(abs(matrix[1, 0]) * width + abs(matrix[1, 1]) * height - 1e-6)
        out_size = (out_height, out_width)
        center, center_out = default_center, ((out_width - 1) / 2.0, (out_height - 1) / 2.0)
    center_in = center or default_center
    mode = _interpolation(interpolation)
    return apply(img, lambda batch: _warp(batch, matrix, center_in, center_out, out_size,
                                          (0.0, 0.0), mode, fill))


# -------------------------------------------------------------------------------- colour

# ITU-R 601 luma weights, the ones PIL and torchvision use for RGB -> grayscale.
_LUMA = np.array([0.299, 0.587, 0.114])


def _check_color_channels(channels: int, operation: str) -> None:
    if channels not in (1, 3):
        raise ValueError(f"{operation} expects 1 (grayscale) or 3 (RGB) channels, got {channels}")


def _gray(batch: np.ndarray) -> np.ndarray:
    """Luma of an RGB ``(N, H, W, 3)`` batch as ``(N, H, W, 1)``; a 1-channel batch as is."""
    working = _float_dtype(batch.dtype)
    if batch.shape[3] == 1:
        return batch.astype(working)
    return (batch.astype(working) @ _LUMA.astype(working))[..., None]


def _blend(batch: np.ndarray, other: np.ndarray, factor: float) -> np.ndarray:
    """``factor * batch + (1 - factor) * other``, clipped to the valid pixel range."""
    top = max_value(batch.dtype)
    blended = factor * batch.astype(_float_dtype(batch.dtype)) + (1 - factor) * other
    return np.clip(blended, 0.0, top)


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """Multiply every pixel by ``brightness_factor`` (0: black, 1: unchanged)."""
    return apply(img, lambda batch: _blend(batch, 0.0, brightness_factor))


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """Blend with the image's mean gray level (0: flat gray, 1: unchanged)."""
    _check_color_channels(image_channels(img), "adjust_contrast")
    return apply(img, lambda batch: _blend(
        batch, _gray(batch).mean(axis=(1, 2, 3), keepdims=True), contrast_factor))


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """Blend with the grayscale image (0: gray, 1: unchanged); grayscale images are unchanged."""
    _check_color_channels(image_channels(img), "adjust_saturation")
    return apply(img, lambda batch: _blend(batch, _gray(batch), saturation_factor))


def _rgb_to_hsv(rgb: np.ndarray) -> tuple:
    """Hue in [0, 1), saturation and value of RGB values in [0, 1] (last axis: 3)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value = rgb.max(axis=-1)
    chroma = value - rgb.min(axis=-1)
    safe_chroma = np.where(chroma > 0, chroma, 1.0)
    saturation = np.where(value > 0, chroma / np.where(value > 0, value, 1.0), 0.0)
    # The hue sector depends on which channel is largest.
    hue = np.where(value == r, (g - b) / safe_chroma,
                   np.where(value == g, 2.0 + (b - r) / safe_chroma, 4.0 + (r - g) / safe_chroma))
    hue = np.where(chroma > 0, (hue / 6.0) % 1.0, 0.0)
    return hue, saturation, value


def _hsv_to_rgb(hue: np.ndarray, saturation: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_rgb_to_hsv`: each channel is ``v - v s clamp(min(k, 4 - k), 0, 1)``
    with ``k = (n + 6 h) mod 6`` and ``n = 5, 3, 1`` for red, green, blue."""
    channels = []
    for n in (5.0, 3.0, 1.0):
        k = (n + hue * 6.0) % 6.0
        channels.append(value - value * saturation * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0))
    return np.stack(channels, axis=-1)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    """Rotate every pixel's hue by ``hue_factor`` turns (in ``[-0.5, 0.5]``)."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor should be in [-0.5, 0.5], got {hue_factor}")
    channels = image_channels(img)
    _check_color_channels(channels, "adjust_hue")
    if channels == 1:
        return img

    def kernel(batch: np.ndarray) -> np.ndarray:
        top = max_value(batch.dtype)
        hue, saturation, value = _rgb_to_hsv(batch.astype(_float_dtype(batch.dtype)) / top)
        return _hsv_to_rgb((hue + hue_factor) % 1.0, saturation, value) * top

    return apply(img, kernel)


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """Luma ``0.299 R + 0.587 G + 0.114 B``, as 1 channel or repeated to 3."""
    if num_output_channels not in (1, 3):
        raise ValueError(f"num_output_channels should be 1 or 3, got {num_output_channels}")
    _check_color_channels(image_channels(img), "rgb_to_grayscale")
    return apply(img, lambda batch: np.repeat(_gray(batch), num_output_channels, axis=3))


# -------------------------------------------------------------------- blur and erasing


def _gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum()


def _convolve_axis(batch: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Correlate ``batch`` with the 1-D ``weights`` along ``axis``, reflecting at the edges."""
    radius = len(weights) // 2
    widths = [(0, 0)] * batch.ndim
    widths[axis] = (radius, radius)
    padded = np.pad(batch, widths, mode="reflect")
    windows = sliding_window_view(padded, len(weights), axis=axis)  # window on a new last axis
    return windows @ weights


def gaussian_blur(img: Any, kernel_size: int | Sequence[int],
                  sigma: float | Sequence[float] | None = None) -> Any:
    """Blur with a Gaussian of odd ``kernel_size = (kx, ky)`` and ``sigma = (sx, sy)``.

    The default sigma is torchvision's ``0.3 * ((k - 1) * 0.5 - 1) + 0.8``. The 2-D kernel is
    separable, so the image is filtered along rows, then along columns.
    """
    size_x, size_y = _pair(kernel_size, "kernel_size")
    if size_x <= 0 or size_y <= 0 or size_x % 2 == 0 or size_y % 2 == 0:
        raise ValueError(f"kernel_size should be odd and positive, got {kernel_size!r}")
    if sigma is None:
        sigma_x, sigma_y = (0.3 * ((k - 1) * 0.5 - 1) + 0.8 for k in (size_x, size_y))
    else:
        sigma_x, sigma_y = _pair(sigma, "sigma")
    if sigma_x <= 0 or sigma_y <= 0:
        raise ValueError(f"sigma should be positive, got {sigma!r}")
    kernel_x, kernel_y = _gaussian_kernel(size_x, sigma_x), _gaussian_kernel(size_y, sigma_y)

    def kernel(batch: np.ndarray) -> np.ndarray:
        working = _float_dtype(batch.dtype)
        rows_blurred = _convolve_axis(batch.astype(working), kernel_x.astype(working), axis=2)
        return _convolve_axis(rows_blurred, kernel_y.astype(working), axis=1)

    return apply(img, kernel)


def erase(img: Any, top: int, left: int, height: int, width: int,
          value: float | Sequence[float] | np.ndarray | ember.Tensor,
          inplace: bool = False) -> Any:
    """Overwrite the ``height x width`` box at ``(top, left)`` with ``value``.

    ``value`` is a number, one number per channel, or a ``(C, height, width)`` array/tensor.
    ``inplace=True`` writes into a NumPy image's own memory (tensors and PIL images always
    come back as new objects).
    """
    patch = to_numpy(value).astype(np.float64)
    if patch.ndim == 3:  # (C, h, w) as for tensors -> (h, w, C) as the kernel sees it
        patch = patch.transpose(1, 2, 0)

    def kernel(batch: np.ndarray) -> np.ndarray:
        out = batch if inplace and isinstance(img, np.ndarray) else batch.copy()
        out[:, top:top + height, left:left + width] = patch
        return out

    return apply(img, kernel)
