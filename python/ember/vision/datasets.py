"""Image datasets with torchvision's signatures, read from the standard files on disk.

``MNIST(root, train=True, transform=None, target_transform=None, download=False)`` and the
others look for the files their publishers distribute (gzipped or not) under ``root``; nothing
is fetched unless ``download=True``. Samples are ``(image, target)`` pairs, where ``image`` is
a PIL image (or a NumPy array, see :func:`ember.vision.set_image_backend`) before
``transform`` is applied.

Where the files are looked for, in order (``<Name>`` is the class name, e.g. ``MNIST``):

* IDX datasets (MNIST, FashionMNIST, KMNIST): ``root/<Name>/raw/``, ``root/<Name>/``,
  ``root/``; for FashionMNIST also ``/usr/share/datasets/fashion-mnist/``, where Debian's
  ``dataset-fashion-mnist`` package installs it (``apt-get install dataset-fashion-mnist``).
* CIFAR: the extracted ``cifar-10-batches-py/`` (``cifar-100-python/``) folder in ``root/`` or
  ``root/<Name>/``, or the ``.tar.gz`` archive there, which is extracted next to itself.

:class:`Digits` needs no files at all: it wraps the 8x8 digits that scikit-learn ships.
"""
from __future__ import annotations

import gzip
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, ClassVar, Union

import numpy as np

import ember
from ember.utils.data import Dataset
from ember.utils.data._arrays import to_numpy

from ._image import array_to_image, import_pil_image
from .functional import _resize_batch

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "KMNIST",
    "MNIST",
    "Digits",
    "FashionMNIST",
    "ImageFolder",
    "VisionDataset",
    "read_idx",
]

PathLike = Union[str, "os.PathLike[str]"]

_DOWNLOAD_TIMEOUT_S = 30


class VisionDataset(Dataset):
    """Base class: holds ``root``, ``transform`` and ``target_transform``."""

    def __init__(self, root: PathLike | None, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.root = None if root is None else Path(os.path.expanduser(os.fspath(root)))
        self.transform = transform
        self.target_transform = target_transform

    def _transformed(self, image: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    @property
    def class_to_idx(self) -> dict:
        return {name: index for index, name in enumerate(self.classes)}

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------- file access


def _open_maybe_gzip(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


# IDX type codes (third byte of the magic number) and the big-endian NumPy dtypes they mean.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a native-endian NumPy array.

    Layout: two zero bytes, a type code, the number of dimensions ``d``, then ``d`` big-endian
    uint32 sizes, then the values in row-major order.
    """
    path = Path(path)
    with _open_maybe_gzip(path) as stream:
        raw = stream.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header_size != expected:
        raise ValueError(f"{path}: header says shape {shape} ({expected} bytes of data) but the "
                         f"file holds {len(raw) - header_size} bytes")
    values = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def _find_file(folders: Sequence[Path], name: str) -> Path | None:
    """The first of ``folder/name`` or ``folder/name.gz`` that exists, folder by folder."""
    for folder in folders:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _download(urls: Sequence[str], destination: Path) -> None:
    """Fetch the first URL that answers into ``destination`` (written atomically)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response, \
                    tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as part:
                shutil.copyfileobj(response, part)
            os.replace(part.name, destination)
            return
        except (urllib.error.URLError, OSError, ValueError) as error:
            errors.append(f"  {url}: {error}")
    raise RuntimeError(
        f"could not download {destination.name} (is there network access?). Tried:\n"
        + "\n".join(errors)
        + f"\nDownload the file by other means and place it at {destination}"
    )


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only what CIFAR batch files contain: dicts, lists, strings and NumPy arrays.

    Pickle can run arbitrary code, so anything else in a file is refused.
    """

    _ALLOWED = frozenset({
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    })

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def _load_pickle(path: Path) -> Any:
    with open(path, "rb") as stream:
        # The files were written by Python 2; latin1 maps their byte strings to str unchanged.
        return _RestrictedUnpickler(stream, encoding="latin1").load()


# ------------------------------------------------------------------------ MNIST and kin


class _GrayscaleTensorImages(VisionDataset):
    """A dataset whose ``data`` is a ``uint8`` tensor ``(N, H, W)`` and ``targets`` an
    ``int64`` tensor ``(N,)``.

    Samples are read from those attributes at each access, so code that shrinks a dataset by
    assigning ``ds.data = ds.data[:1000]; ds.targets = ds.targets[:1000]`` works.
    """

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = array_to_image(to_numpy(self.data[index]))
        return self._transformed(image, int(to_numpy(self.targets[index])))


class MNIST(_GrayscaleTensorImages):
    """Handwritten digits, 28x28 grayscale: 60,000 training and 10,000 test images.

    Attributes:
        data: ``uint8`` tensor of shape ``(N, 28, 28)``.
        targets: ``int64`` tensor of shape ``(N,)`` with values in ``0..9``.
        classes: the class names, ``classes[target]``.

    ``dataset[i]`` is ``(image, target)`` with a PIL image in mode ``L`` (or an ``(28, 28)``
    uint8 array) and an ``int`` target, before the transforms.
    """

    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
    train_files = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    test_files = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    system_folders: tuple[str, ...] = ()
    classes: ClassVar[list[str]] = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform, target_transform)
        self.train = train
        names = self.train_files if train else self.test_files
        paths = [_find_file(self.search_folders, name) for name in names]
        if None in paths and download:
            self.download()
            paths = [_find_file(self.search_folders, name) for name in names]
        if None in paths:
            raise RuntimeError(self._missing_message(names))
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{paths[0]} and {paths[1]} should hold (N, H, W) images and N "
                             f"labels, got shapes {images.shape} and {labels.shape}")
        self.data = ember.from_numpy(np.ascontiguousarray(images, dtype=np.uint8))
        self.targets = ember.from_numpy(labels.astype(np.int64))

    @property
    def raw_folder(self) -> Path:
        """Where ``download=True`` puts the files: ``root/<Name>/raw``."""
        return self.root / type(self).__name__ / "raw"

    @property
    def search_folders(self) -> list[Path]:
        folders = [self.raw_folder, self.root / type(self).__name__, self.root]
        return folders + [Path(folder) for folder in self.system_folders]

    def _missing_message(self, names: Sequence[str]) -> str:
        folders = "\n".join(f"  {folder}" for folder in self.search_folders)
        return (f"{type(self).__name__} files not found. Place {' and '.join(names)} "
                f"(optionally .gz) in one of:\n{folders}\n"
                f"or pass download=True to fetch them (needs network access).")

    def download(self) -> None:
        """Fetch the four ``.gz`` files from the official mirrors into :attr:`raw_folder`."""
        for name in self.train_files + self.test_files:
            if _find_file(self.search_folders, name) is None:
                _download([mirror + name + ".gz" for mirror in self.mirrors],
                          self.raw_folder / f"{name}.gz")



class FashionMNIST(MNIST):
    """Zalando's clothing images in MNIST's format: 28x28 grayscale, 60,000 + 10,000, 10 classes.

    Also found where Debian's ``dataset-fashion-mnist`` package installs the files.
    """

    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    system_folders = ("/usr/share/datasets/fashion-mnist",)
    classes: ClassVar[list[str]] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]

    def _missing_message(self, names: Sequence[str]) -> str:
        return (super()._missing_message(names)
                + "\nOn Debian/Ubuntu: apt-get install dataset-fashion-mnist")


class KMNIST(MNIST):
    """Kuzushiji-MNIST: cursive Japanese characters, 28x28 grayscale, 60,000 + 10,000, 10 classes."""

    mirrors = ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",)
    classes: ClassVar[list[str]] = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


# ----------------------------------------------------------------------------------- CIFAR


class CIFAR10(VisionDataset):
    """32x32 colour images in 10 classes: 50,000 training and 10,000 test images.

    Attributes (as in torchvision):
        data: ``uint8`` NumPy array of shape ``(N, 32, 32, 3)`` (height, width, RGB).
        targets: list of ``int`` class indices.
        classes: the class names read from the dataset's meta file.
    """

    base_folder = "cifar-10-batches-py"
    archive = "cifar-10-python.tar.gz"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    train_files = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                   "data_batch_5")
    test_files = ("test_batch",)
    meta_file = "batches.meta"
    meta_key = "label_names"
    labels_key = "labels"

    def __init__(self, root: PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform, target_transform)
        self.train = train
        folder = self._find_folder()
        if folder is None and download:
            self.download()
            folder = self._find_folder()
        if folder is None:
            raise RuntimeError(self._missing_message())
        images, targets = [], []
        for name in self.train_files if train else self.test_files:
            batch = _load_pickle(folder / name)
            images.append(np.asarray(batch["data"], dtype=np.uint8))
            targets.extend(int(label) for label in batch[self.labels_key])
        # Rows hold 1024 red, then 1024 green, then 1024 blue values: (N, 3, 32, 32) -> HWC.
        self.data = np.concatenate(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
        self.targets = targets
        self.classes = list(_load_pickle(folder / self.meta_file)[self.meta_key])

    @property
    def candidate_folders(self) -> list[Path]:
        return [self.root, self.root / type(self).__name__]

    def _find_folder(self) -> Path | None:
        """The extracted batch folder; an archive found instead is extracted first."""
        for parent in self.candidate_folders:
            if (parent / self.base_folder / self.meta_file).is_file():
                return parent / self.base_folder
        for parent in self.candidate_folders:
            if (parent / self.archive).is_file():
                _extract_tar(parent / self.archive, parent)
                return parent / self.base_folder
        return None

    def _missing_message(self) -> str:
        folders = "\n".join(f"  {folder}" for folder in self.candidate_folders)
        return (f"{type(self).__name__} files not found. Place the {self.base_folder}/ folder "
                f"or {self.archive} in one of:\n{folders}\n"
                f"or pass download=True to fetch it (needs network access).")

    def download(self) -> None:
        """Fetch the archive into ``root`` (it is extracted when the dataset is opened)."""
        _download([self.url], self.root / self.archive)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self._transformed(array_to_image(self.data[index]), self.targets[index])


class CIFAR100(CIFAR10):
    """Like :class:`CIFAR10` with 100 fine-grained classes (``targets`` are the fine labels)."""

    base_folder = "cifar-100-python"
    archive = "cifar-100-python.tar.gz"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    train_files = ("train",)
    test_files = ("test",)
    meta_file = "meta"
    meta_key = "fine_label_names"
    labels_key = "fine_labels"


def _extract_tar(archive: Path, destination: Path) -> None:
    """Extract ``archive`` into ``destination``, refusing members that would land outside it
    or that are not plain files and folders."""
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            parts = Path(member.name).parts
            if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
                raise RuntimeError(f"{archive}: refusing to extract unsafe member {member.name!r}")
        tar.extractall(destination, members=members)


# ---------------------------------------------------------------------------------- Digits


class Digits(_GrayscaleTensorImages):
    """scikit-learn's 1,797 handwritten digits (8x8, from UCI), as an MNIST-like dataset.

    Real data that needs no download: it ships inside scikit-learn
    (``pip install ember[examples]``). Pixel values (0..16 in the source) are scaled to
    ``uint8`` 0..255 so that ``ToTensor`` gives [0, 1] as for MNIST.

    Args:
        root: unused, accepted so that code written for MNIST runs unchanged.
        train: the training split (about 80%) or the test split.
        test_fraction: share of each class put in the test split. The split is fixed: within
            each class, in file order, every sample at which ``floor(k * test_fraction)`` steps
            up goes to the test split (every 5th sample for 0.2), so both splits cover all
            classes and writers and never change between runs or library versions.
        image_size: side of the images. 8 keeps the originals; 28 upsamples them bilinearly to
            MNIST's size, so models written for MNIST (784 inputs, LeNet) run on them as they
            are.

    Attributes: ``data`` (``uint8`` tensor ``(N, image_size, image_size)``), ``targets``
    (``int64`` tensor ``(N,)``), ``classes``.
    """

    classes = MNIST.classes

    def __init__(self, root: PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 test_fraction: float = 0.2, image_size: int = 8) -> None:
        super().__init__(root, transform, target_transform)
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction should be in (0, 1), got {test_fraction}")
        if not isinstance(image_size, int) or image_size < 1:
            raise ValueError(f"image_size should be a positive int, got {image_size!r}")
        try:
            from sklearn.datasets import load_digits
        except ImportError as error:
            raise ImportError("Digits needs scikit-learn: pip install scikit-learn "
                              "(or: pip install ember[examples])") from error
        digits = load_digits()
        images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)  # (1797, 8, 8)
        labels = digits.target.astype(np.int64)
        in_test = np.zeros(len(labels), dtype=bool)
        for label in np.unique(labels):
            members = np.flatnonzero(labels == label)
            k = np.arange(len(members))
            in_test[members] = np.floor((k + 1) * test_fraction) > np.floor(k * test_fraction)
        keep = ~in_test if train else in_test
        images, labels = images[keep], labels[keep]
        if image_size != 8:
            resized = _resize_batch(images[..., None], image_size, image_size)[..., 0]
            images = np.clip(np.rint(resized), 0, 255).astype(np.uint8)
        self.train = train
        self.data = ember.from_numpy(np.ascontiguousarray(images))
        self.targets = ember.from_numpy(labels)


# ----------------------------------------------------------------------------- ImageFolder

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def _load_rgb(path: str) -> Any:
    with open(path, "rb") as stream:
        return import_pil_image().open(stream).convert("RGB")


class ImageFolder(VisionDataset):
    """Images sorted into one folder per class: ``root/<class>/<image file>``.

    Classes are the sorted sub-folder names; ``samples`` lists ``(path, class_index)``. Images
    are opened with Pillow (``pip install pillow``) and converted to RGB unless ``loader``
    says otherwise.
    """

    def __init__(self, root: PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None,
                 loader: Callable[[str], Any] = _load_rgb,
                 is_valid_file: Callable[[str], bool] | None = None) -> None:
        super().__init__(root, transform, target_transform)
        self.loader = loader
        self.classes = sorted(entry.name for entry in os.scandir(self.root) if entry.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"no class folders found in {self.root}")
        is_valid = is_valid_file or (lambda path: path.lower().endswith(IMG_EXTENSIONS))
        self.samples = []
        for index, name in enumerate(self.classes):
            for folder, _, files in sorted(os.walk(self.root / name, followlinks=True)):
                for file_name in sorted(files):
                    path = os.path.join(folder, file_name)
                    if is_valid(path):
                        self.samples.append((path, index))
        if not self.samples:
            raise FileNotFoundError(f"no image files ({', '.join(IMG_EXTENSIONS)}) found "
                                    f"under {self.root}")
        self.targets = [index for _, index in self.samples]

    @property
    def imgs(self) -> list:
        """Same as :attr:`samples` (torchvision's older name)."""
        return self.samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        return self._transformed(self.loader(path), target)
