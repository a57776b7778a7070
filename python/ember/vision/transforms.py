"""Image transforms with torchvision's names, for dataset pipelines and data augmentation.

Each transform is a callable object: ``Compose([RandomCrop(32, padding=4), ToTensor()])(img)``.
They accept PIL images, NumPy ``(H, W[, C])`` arrays and ``(..., C, H, W)`` tensors and return
the same kind (``ToTensor`` and friends convert). The deterministic work is in
:mod:`ember.vision.functional`; a random transform only draws its parameters, from
``ember.random.numpy_generator()``, so ``ember.manual_seed(s)`` makes a pipeline reproducible.
A batched tensor ``(N, C, H, W)`` gets one draw for the whole batch.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

import ember

from . import functional as F
from ._image import image_channels, image_size
from .functional import InterpolationMode

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "GaussianBlur",
    "Grayscale",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "PILToTensor",
    "Pad",
    "RandomAffine",
    "RandomApply",
    "RandomCrop",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToPILImage",
    "ToTensor",
]


def _rng() -> np.random.Generator:
    """The global random generator that ``ember.manual_seed`` reseeds."""
    return ember.random.numpy_generator()


def _size_pair(size: int | Sequence[int]) -> tuple:
    """An output size: ``s`` means ``(s, s)``; otherwise ``(height, width)``."""
    if isinstance(size, numbers.Number):
        return (int(size), int(size))
    if len(size) == 1:
        return (size[0], size[0])
    return tuple(size)


def _symmetric_range(value: float | Sequence[float], name: str,
                     center: float = 0.0, lowest: float = -math.inf) -> tuple:
    """A number ``v`` becomes ``(center - v, center + v)`` (clipped at ``lowest``); a pair is
    taken as it is."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{name} should be non-negative, got {value}")
        return (max(center - value, lowest), center + value)
    if len(value) != 2 or value[0] > value[1]:
        raise ValueError(f"{name} should be a number or a (min, max) pair, got {value!r}")
    return (float(value[0]), float(value[1]))


class Transform:
    """Base class: a callable with a readable ``repr`` built from its attributes."""

    def __call__(self, img: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __call__")

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__name__}({arguments})"


class Compose(Transform):
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {transform}" for transform in self.transforms)
        return f"Compose({lines}\n)"


class Lambda(Transform):
    """Apply a user function: ``Lambda(lambda y: one_hot(y, 10))``."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda expects a callable, got {type(lambd)}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)


class ToTensor(Transform):
    """PIL image or ``(H, W[, C])`` uint8 array -> ``float32`` ``(C, H, W)`` tensor in [0, 1]."""

    def __call__(self, pic: Any) -> ember.Tensor:
        return F.to_tensor(pic)


class PILToTensor(Transform):
    """PIL image or ``(H, W[, C])`` array -> ``(C, H, W)`` tensor with the same dtype and values."""

    def __call__(self, pic: Any) -> ember.Tensor:
        return F.pil_to_tensor(pic)


class ToPILImage(Transform):
    """``(C, H, W)`` tensor or ``(H, W[, C])`` array -> PIL image (needs Pillow)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return F.to_pil_image(pic, self.mode)


class Normalize(Transform):
    """Per-channel ``(x - mean) / std`` on a ``(..., C, H, W)`` tensor."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: ember.Tensor) -> ember.Tensor:
        return F.normalize(tensor, self.mean, self.std, self.inplace)


class Resize(Transform):
    """Resize to ``size`` (``(h, w)``, or an int for the shorter edge, aspect ratio kept)."""

    def __init__(self, size: int | Sequence[int],
                 interpolation: str | InterpolationMode = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool = True) -> None:
        self.size = size
        self.interpolation = InterpolationMode(interpolation)
        self.max_size = max_size
        self.antialias = antialias

    def __call__(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)


class CenterCrop(Transform):
    """Crop the central ``size`` region."""

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _size_pair(size)

    def __call__(self, img: Any) -> Any:
        return F.center_crop(img, self.size)


class Pad(Transform):
    """Add a border (see :func:`ember.vision.functional.pad` for the argument forms)."""

    def __init__(self, padding: int | Sequence[int], fill: float | Sequence[float] = 0,
                 padding_mode: str = "constant") -> None:
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img: Any) -> Any:
        return F.pad(img, self.padding, self.fill, self.padding_mode)


class RandomCrop(Transform):
    """Crop a ``size`` region at a random position, after optional padding.

    ``RandomCrop(32, padding=4)`` is the classic CIFAR augmentation: pad to 40x40, then crop a
    random 32x32 window. ``pad_if_needed`` pads images smaller than ``size`` first.
    """

    def __init__(self, size: int | Sequence[int],
                 padding: int | Sequence[int] | None = None, pad_if_needed: bool = False,
                 fill: float | Sequence[float] = 0, padding_mode: str = "constant") -> None:
        self.size = _size_pair(size)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img: Any) -> Any:
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        crop_height, crop_width = self.size
        height, width = image_size(img)
        if self.pad_if_needed and (height < crop_height or width < crop_width):
            extra_x, extra_y = max(0, crop_width - width), max(0, crop_height - height)
            img = F.pad(img, (extra_x, extra_y), self.fill, self.padding_mode)
            height, width = image_size(img)
        if height < crop_height or width < crop_width:
            raise ValueError(f"crop size {self.size} is larger than the (padded) image size "
                             f"{(height, width)}")
        top = int(_rng().integers(0, height - crop_height + 1))
        left = int(_rng().integers(0, width - crop_width + 1))
        return F.crop(img, top, left, crop_height, crop_width)


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        return F.hflip(img) if _rng().random() < self.p else img


class RandomVerticalFlip(Transform):
    """Mirror top-bottom with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        return F.vflip(img) if _rng().random() < self.p else img


class RandomApply(Transform):
    """Apply the list of ``transforms`` (in order) with probability ``p``, else nothing."""

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        self.transforms = list(transforms)
        self.p = p

    def __call__(self, img: Any) -> Any:
        if _rng().random() >= self.p:
            return img
        for transform in self.transforms:
            img = transform(img)
        return img


class Grayscale(Transform):
    """Convert RGB to luma, with 1 or 3 (repeated) output channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def __call__(self, img: Any) -> Any:
        return F.rgb_to_grayscale(img, self.num_output_channels)


class RandomGrayscale(Transform):
    """Convert to grayscale with probability ``p``, keeping the number of channels."""

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        if _rng().random() >= self.p:
            return img
        return F.rgb_to_grayscale(img, image_channels(img))


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number ``d`` means ``(-d, d)``)."""

    def __init__(self, degrees: float | Sequence[float],
                 interpolation: str | InterpolationMode = InterpolationMode.NEAREST,
                 expand: bool = False, center: Sequence[float] | None = None,
                 fill: float | Sequence[float] = 0) -> None:
        self.degrees = _symmetric_range(degrees, "degrees")
        self.interpolation = InterpolationMode(interpolation)
        self.expand = expand
        self.center = center
        self.fill = fill

    def __call__(self, img: Any) -> Any:
        angle = float(_rng().uniform(*self.degrees))
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)


class RandomAffine(Transform):
    """A random rotation, translation, scaling and shear about the image centre.

    Args:
        degrees: rotation range (a number ``d`` means ``(-d, d)``).
        translate: ``(a, b)``: shift by up to ``a * width`` horizontally, ``b * height``
            vertically.
        scale: ``(lo, hi)`` range of the scale factor.
        shear: ``s`` (x shear in ``(-s, s)``), ``(lo, hi)`` (x shear range) or
            ``(x_lo, x_hi, y_lo, y_hi)``; in degrees.
    """

    def __init__(self, degrees: float | Sequence[float],
                 translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None,
                 shear: float | Sequence[float] | None = None,
                 interpolation: str | InterpolationMode = InterpolationMode.NEAREST,
                 fill: float | Sequence[float] = 0,
                 center: Sequence[float] | None = None) -> None:
        self.degrees = _symmetric_range(degrees, "degrees")
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError(f"translate fractions should be in [0, 1], got {translate!r}")
        self.translate = translate
        if scale is not None and not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale should be a positive (min, max) pair, got {scale!r}")
        self.scale = scale
        if shear is None or isinstance(shear, numbers.Number) or len(shear) == 2:
            self.shear = (None if shear is None else _symmetric_range(shear, "shear"), None)
        elif len(shear) == 4:
            self.shear = (tuple(shear[:2]), tuple(shear[2:]))
        else:
            raise ValueError(f"shear should be a number, 2 or 4 numbers, got {shear!r}")
        self.interpolation = InterpolationMode(interpolation)
        self.fill = fill
        self.center = center

    def __call__(self, img: Any) -> Any:
        rng = _rng()
        angle = float(rng.uniform(*self.degrees))
        translate = (0.0, 0.0)
        if self.translate is not None:
            height, width = image_size(img)
            max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
            translate = (float(round(rng.uniform(-max_dx, max_dx))),
                         float(round(rng.uniform(-max_dy, max_dy))))
        scale = 1.0 if self.scale is None else float(rng.uniform(*self.scale))
        shear = tuple(0.0 if bounds is None else float(rng.uniform(*bounds))
                      for bounds in self.shear)
        return F.affine(img, angle, translate, scale, shear, self.interpolation, self.fill,
                        self.center)


class RandomResizedCrop(Transform):
    """Crop a random region of random area and aspect ratio, then resize it to ``size``.

    The region covers a fraction of the image area drawn from ``scale`` and has a
    width/height ratio drawn log-uniformly from ``ratio``. Up to 10 draws are tried; if none
    fits inside the image, the largest central crop with an allowed ratio is used.
    """

    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: str | InterpolationMode = InterpolationMode.BILINEAR,
                 antialias: bool = True) -> None:
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"scale and ratio should be (min, max), got {scale!r}, {ratio!r}")
        self.size = _size_pair(size)
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.interpolation = InterpolationMode(interpolation)
        self.antialias = antialias

    def get_params(self, img: Any) -> tuple:
        """``(top, left, height, width)`` of the region to crop."""
        height, width = image_size(img)
        area = height * width
        rng = _rng()
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            crop_width = round(math.sqrt(target_area * aspect))
            crop_height = round(math.sqrt(target_area / aspect))
            if 0 < crop_width <= width and 0 < crop_height <= height:
                top = int(rng.integers(0, height - crop_height + 1))
                left = int(rng.integers(0, width - crop_width + 1))
                return top, left, crop_height, crop_width
        aspect = width / height
        if aspect < self.ratio[0]:  # too tall: keep the width
            crop_width, crop_height = width, round(width / self.ratio[0])
        elif aspect > self.ratio[1]:  # too wide: keep the height
            crop_height, crop_width = height, round(height * self.ratio[1])
        else:
            crop_height, crop_width = height, width
        return (height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width

    def __call__(self, img: Any) -> Any:
        top, left, height, width = self.get_params(img)
        return F.resized_crop(img, top, left, height, width, self.size, self.interpolation,
                              self.antialias)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue changes, applied in a random order.

    ``brightness``, ``contrast`` and ``saturation`` take ``b`` (factor drawn from
    ``[max(0, 1 - b), 1 + b]``) or a ``(min, max)`` range; ``hue`` takes ``h`` in ``[0, 0.5]``
    (shift drawn from ``[-h, h]`` turns) or a range. 0 leaves that property alone. Each
    adjustment is computed in float and rounded back to the image's dtype.
    """

    def __init__(self, brightness: float | Sequence[float] = 0,
                 contrast: float | Sequence[float] = 0,
                 saturation: float | Sequence[float] = 0,
                 hue: float | Sequence[float] = 0) -> None:
        self.brightness = self._factor_range(brightness, "brightness", center=1.0, lowest=0.0)
        self.contrast = self._factor_range(contrast, "contrast", center=1.0, lowest=0.0)
        self.saturation = self._factor_range(saturation, "saturation", center=1.0, lowest=0.0)
        self.hue = self._factor_range(hue, "hue", center=0.0)
        if self.hue is not None and not -0.5 <= self.hue[0] <= self.hue[1] <= 0.5:
            raise ValueError(f"hue should lie in [-0.5, 0.5], got {hue!r}")

    @staticmethod
    def _factor_range(value: float | Sequence[float], name: str, center: float,
                      lowest: float = -math.inf) -> tuple | None:
        """The range to draw from, or None when ``value`` leaves the property unchanged."""
        bounds = _symmetric_range(value, name, center, lowest)
        return None if bounds == (center, center) else bounds

    def __call__(self, img: Any) -> Any:
        rng = _rng()
        adjustments = (
            (self.brightness, F.adjust_brightness),
            (self.contrast, F.adjust_contrast),
            (self.saturation, F.adjust_saturation),
            (self.hue, F.adjust_hue),
        )
        for which in rng.permutation(len(adjustments)):
            bounds, adjust = adjustments[which]
            if bounds is not None:
                img = adjust(img, float(rng.uniform(*bounds)))
        return img


class GaussianBlur(Transform):
    """Gaussian blur with ``sigma`` drawn uniformly from ``sigma = (min, max)`` (or fixed).

    ``kernel_size`` is one odd number or ``(kx, ky)``.
    """

    def __init__(self, kernel_size: int | Sequence[int],
                 sigma: float | Sequence[float] = (0.1, 2.0)) -> None:
        self.kernel_size = _size_pair(kernel_size)
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError(f"kernel_size should be odd and positive, got {kernel_size!r}")
        self.sigma = (float(sigma), float(sigma)) if isinstance(sigma, numbers.Number) \
            else tuple(sigma)
        if not 0 < self.sigma[0] <= self.sigma[1]:
            raise ValueError(f"sigma should be positive, min <= max, got {sigma!r}")

    def __call__(self, img: Any) -> Any:
        sigma = float(_rng().uniform(*self.sigma))
        return F.gaussian_blur(img, self.kernel_size, sigma)


class RandomErasing(Transform):
    """With probability ``p``, overwrite a random box (Zhong et al., "Random Erasing").

    The box covers a fraction of the image drawn from ``scale`` with aspect ratio drawn
    log-uniformly from ``ratio``; it is filled with ``value``: a number, one number per
    channel, or ``"random"`` for standard normal noise. Usually placed after ``ToTensor`` and
    ``Normalize``.
    """

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3),
                 value: float | Sequence[float] | str = 0, inplace: bool = False) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"p should be a probability, got {p}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"scale and ratio should be (min, max), got {scale!r}, {ratio!r}")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"value should be a number, a sequence or 'random', got {value!r}")
        self.p = p
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.value = value
        self.inplace = inplace

    def __call__(self, img: Any) -> Any:
        rng = _rng()
        if rng.random() >= self.p:
            return img
        height, width = image_size(img)
        channels = image_channels(img)
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            erase_area = height * width * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            box_height = round(math.sqrt(erase_area * aspect))
            box_width = round(math.sqrt(erase_area / aspect))
            if not (0 < box_height < height and 0 < box_width < width):
                continue
            if self.value == "random":
                value = rng.standard_normal((channels, box_height, box_width))
            else:
                value = self.value
            top = int(rng.integers(0, height - box_height + 1))
            left = int(rng.integers(0, width - box_width + 1))
            return F.erase(img, top, left, box_height, box_width, value, self.inplace)
        return img
