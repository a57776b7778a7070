"""Computer vision data: datasets, transforms and image helpers (torchvision's API).

``from ember.vision import datasets, transforms`` replaces
``from torchvision import datasets, transforms``.
"""
from . import datasets, functional, transforms, utils
from ._image import get_image_backend, set_image_backend

__all__ = ["datasets", "functional", "get_image_backend", "set_image_backend", "transforms",
           "utils"]
