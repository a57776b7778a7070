"""Looking at images: tile a batch into one grid, save it as a PNG.

``save_image(batch, "samples.png", nrow=8)`` writes PNG files without any extra package (the
encoder is a few lines of ``zlib`` below); other formats go through Pillow.
"""
from __future__ import annotations

import math
import os
import struct
import zlib
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np

import ember
from ember.utils.data._arrays import like_tensor, to_numpy

from ._image import import_pil_image

__all__ = ["make_grid", "save_image"]


def _as_batch_array(tensor: ember.Tensor | Sequence[ember.Tensor]) -> np.ndarray:
    """A ``(B, C, H, W)`` float array from a 4-D tensor, a 3-D/2-D image, or a list of images."""
    if isinstance(tensor, (list, tuple)):
        array = np.stack([to_numpy(t) for t in tensor])
    else:
        array = to_numpy(tensor)
    if array.ndim == 2:  # one (H, W) image
        array = array[None, None]
    elif array.ndim == 3:  # one (C, H, W) image
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"expected (B, C, H, W), (C, H, W) or (H, W), got shape {array.shape}")
    return array.astype(np.float32)


def make_grid(tensor: ember.Tensor | Sequence[ember.Tensor], nrow: int = 8,
              padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> ember.Tensor:
    """Tile a batch of images ``(B, C, H, W)`` into one ``(C, H', W')`` image.

    Images go left to right, ``nrow`` per row, separated by ``padding`` pixels of
    ``pad_value``. One-channel images are repeated to 3 channels. With ``normalize``, values are
    shifted and scaled from ``value_range`` (default: the min and max of the batch, or of each
    image with ``scale_each``) to [0, 1].
    """
    batch = _as_batch_array(tensor)
    if batch.shape[1] == 1:
        batch = np.repeat(batch, 3, axis=1)
    if normalize:
        if value_range is not None:
            low, high = value_range
        elif scale_each:
            low = batch.min(axis=(1, 2, 3), keepdims=True)
            high = batch.max(axis=(1, 2, 3), keepdims=True)
        else:
            low, high = batch.min(), batch.max()
        batch = np.clip((batch - low) / np.maximum(high - low, 1e-5), 0.0, 1.0)
    count, channels, height, width = batch.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    cell_height, cell_width = height + padding, width + padding
    grid = np.full((channels, rows * cell_height + padding, columns * cell_width + padding),
                   pad_value, dtype=np.float32)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * cell_height + padding, column * cell_width + padding
        grid[:, top:top + height, left:left + width] = batch[index]
    reference = tensor[0] if isinstance(tensor, (list, tuple)) else tensor
    if isinstance(reference, ember.Tensor):
        return like_tensor(grid, reference)
    return ember.from_numpy(grid)


def _png_bytes(pixels: np.ndarray) -> bytes:
    """Encode an ``(H, W, C)`` uint8 array (C = 1, 3 or 4) as a PNG file.

    A PNG is a signature and three chunks: IHDR (size and pixel format), IDAT (the rows, each
    prefixed by a filter-type byte, here 0 = none, zlib-compressed) and IEND.
    """
    height, width, channels = pixels.shape
    color_type = {1: 0, 3: 2, 4: 6}[channels]  # grayscale, RGB, RGBA

    def chunk(tag: bytes, data: bytes) -> bytes:
        checksum = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", checksum)

    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def save_image(tensor: ember.Tensor | Sequence[ember.Tensor],
               fp: str | os.PathLike[str] | BinaryIO, format: str | None = None,
               **grid_options: Any) -> None:
    """Save a tensor of images in [0, 1] (tiled with :func:`make_grid`) to a file.

    PNG (the format for ``.png`` names, file objects and ``format="png"``) needs nothing
    extra; any other format is written by Pillow.
    """
    grid = to_numpy(make_grid(tensor, **grid_options))
    pixels = np.clip(np.rint(grid * 255), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    name = os.fspath(fp) if isinstance(fp, (str, os.PathLike)) else None
    as_png = (format or "").lower() == "png" or (
        format is None and (name is None or name.lower().endswith(".png")))
    if as_png:
        data = _png_bytes(np.ascontiguousarray(pixels))
        if name is None:
            fp.write(data)
        else:
            with open(name, "wb") as stream:
                stream.write(data)
        return
    import_pil_image().fromarray(pixels).save(fp, format=format)
