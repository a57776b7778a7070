"""ember.vision: dataset readers on files written here, transforms against NumPy references.

References are written plainly (loops, colorsys, np.rot90, np.pad, Pillow when installed);
none of them calls the function under test.
"""
from __future__ import annotations

import colorsys
import gzip
import io
import math
import pickle
import struct
import tarfile
import urllib.error
import zlib

import ember
import numpy as np
import pytest
from ember.utils.data import DataLoader
from ember.vision import datasets, get_image_backend, set_image_backend
from ember.vision import functional as F
from ember.vision import transforms as T
from ember.vision.utils import make_grid, save_image


@pytest.fixture
def numpy_backend():
    """Datasets return NumPy arrays for the duration of a test."""
    previous = get_image_backend()
    set_image_backend("numpy")
    yield
    set_image_backend(previous)


def _image(rng, height=7, width=9, channels=3):
    return rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)


# ------------------------------------------------------------------------ file writers

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}


def _idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, _IDX_CODES[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write_idx(path, array: np.ndarray) -> None:
    data = _idx_bytes(array)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def _write_mnist(folder, rng, n_train=12, n_test=5, gz=True):
    """Random MNIST-format files; returns {split: (images, labels)}."""
    suffix = ".gz" if gz else ""
    written = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        written[prefix] = (images, labels)
    return written


def _write_cifar_batch(path, images: np.ndarray, labels, labels_key="labels") -> None:
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # R plane, G plane, B plane
    with open(path, "wb") as stream:
        pickle.dump({"data": rows, labels_key: list(labels), "batch_label": "test"}, stream)


def _write_cifar10(folder, rng, per_batch=3):
    folder.mkdir(parents=True)
    train = []
    for k in range(1, 6):
        images = rng.integers(0, 256, size=(per_batch, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch).tolist()
        _write_cifar_batch(folder / f"data_batch_{k}", images, labels)
        train.append((images, labels))
    test_images = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    _write_cifar_batch(folder / "test_batch", test_images, [1, 2, 3, 4])
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
    with open(folder / "batches.meta", "wb") as stream:
        pickle.dump({"label_names": names, "num_vis": 3072}, stream)
    return train, (test_images, [1, 2, 3, 4]), names


# ------------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_roundtrip(tmp_path, rng, dtype, suffix):
    array = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    path = tmp_path / f"values{suffix}"
    _write_idx(path, array)
    read = datasets.read_idx(path)
    assert read.dtype == np.dtype(dtype) and read.dtype.isnative
    np.testing.assert_array_equal(read, array)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="magic"):
        datasets.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx_bytes(np.zeros((2, 3), np.uint8))[:-1])
    with pytest.raises(ValueError, match="bytes"):
        datasets.read_idx(tmp_path / "short")


# ----------------------------------------------------------------------------- MNIST


@pytest.mark.parametrize("layout", ["MNIST/raw", "MNIST", "."])
def test_mnist_reads_standard_files(tmp_path, rng, numpy_backend, layout):
    written = _write_mnist(tmp_path / layout, rng, gz=layout != ".")
    train = datasets.MNIST(tmp_path, train=True)
    images, labels = written["train"]
    assert len(train) == 12
    assert train.data.dtype == ember.uint8 and tuple(train.data.shape) == (12, 28, 28)
    assert train.targets.dtype == ember.int64 and train.targets.tolist() == labels.tolist()
    image, target = train[5]
    np.testing.assert_array_equal(image, images[5])
    assert target == int(labels[5]) and isinstance(target, int)
    test = datasets.MNIST(tmp_path, train=False)
    np.testing.assert_array_equal(test.data.numpy(), written["t10k"][0])
    assert train.classes[0] == "0 - zero" and train.class_to_idx["9 - nine"] == 9


def test_mnist_with_transforms_and_loader(tmp_path, rng):
    written = _write_mnist(tmp_path / "MNIST" / "raw", rng)
    one_hot = T.Lambda(lambda y: ember.zeros(10).scatter_(0, ember.tensor([y]), value=1))
    ds = datasets.MNIST(tmp_path, transform=T.ToTensor(), target_transform=one_hot)
    image, target = ds[0]
    assert tuple(image.shape) == (1, 28, 28) and image.dtype == ember.float32
    np.testing.assert_allclose(image.numpy()[0], written["train"][0][0] / 255.0, rtol=1e-6)
    assert target.tolist().index(1.0) == written["train"][1][0]
    features, labels = next(iter(DataLoader(ds, batch_size=4, shuffle=True)))
    assert tuple(features.shape) == (4, 1, 28, 28) and tuple(labels.shape) == (4, 10)


def test_fashion_and_kmnist_folders_and_classes(tmp_path, rng, numpy_backend):
    _write_mnist(tmp_path / "FashionMNIST", rng)
    fashion = datasets.FashionMNIST(tmp_path)
    assert fashion.classes[9] == "Ankle boot" and len(fashion) == 12
    _write_mnist(tmp_path / "KMNIST" / "raw", rng)
    assert datasets.KMNIST(tmp_path, train=False).classes[:2] == ["o", "ki"]


def test_fashion_mnist_found_in_system_folder(tmp_path, rng, monkeypatch, numpy_backend):
    system = tmp_path / "usr-share-datasets-fashion-mnist"
    written = _write_mnist(system, rng)
    monkeypatch.setattr(datasets.FashionMNIST, "system_folders", (str(system),))
    ds = datasets.FashionMNIST(tmp_path / "empty-root", train=False)
    np.testing.assert_array_equal(ds.data.numpy(), written["t10k"][0])


def test_missing_files_say_where_to_put_them(tmp_path, monkeypatch):
    # the machine may have Debian's package installed: look only in tmp_path
    monkeypatch.setattr(datasets.FashionMNIST, "system_folders", ())
    with pytest.raises(RuntimeError, match=r"(?s)train-images-idx3-ubyte.*MNIST/raw.*download=True"):
        datasets.MNIST(tmp_path)
    with pytest.raises(RuntimeError, match="apt-get install dataset-fashion-mnist"):
        datasets.FashionMNIST(tmp_path)
    with pytest.raises(RuntimeError, match=r"cifar-10-python.tar.gz"):
        datasets.CIFAR10(tmp_path)


def test_download_offline_raises_a_clear_error(tmp_path, monkeypatch):
    def no_network(url, timeout=None):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", no_network)
    with pytest.raises(RuntimeError, match=r"(?s)could not download.*network.*place it at"):
        datasets.MNIST(tmp_path, download=True)


def test_download_fetches_into_raw_folder(tmp_path, rng, monkeypatch, numpy_backend):
    served = {}
    for prefix, n in (("train", 6), ("t10k", 2)):
        served[f"{prefix}-images-idx3-ubyte.gz"] = gzip.compress(
            _idx_bytes(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)))
        served[f"{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(
            _idx_bytes(rng.integers(0, 10, n).astype(np.uint8)))
    requested = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        return io.BytesIO(served[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(datasets.urllib.request, "urlopen", fake_urlopen)
    ds = datasets.MNIST(tmp_path, download=True)
    assert len(ds) == 6 and len(requested) == 4
    assert sorted(p.name for p in (tmp_path / "MNIST" / "raw").iterdir()) == sorted(served)


# ----------------------------------------------------------------------------- CIFAR


def test_cifar10_reads_python_batches(tmp_path, rng, numpy_backend):
    train, (test_images, _test_labels), names = _write_cifar10(tmp_path / "cifar-10-batches-py", rng)
    ds = datasets.CIFAR10(tmp_path, train=True)
    assert ds.data.shape == (15, 32, 32, 3) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data[3:6], train[1][0])  # batch order kept, HWC layout
    assert ds.targets == [label for _, labels in train for label in labels]
    assert ds.classes == names
    image, target = ds[4]
    np.testing.assert_array_equal(image, train[1][0][1])
    test = datasets.CIFAR10(tmp_path, train=False, transform=T.ToTensor())
    image, target = test[0]
    assert tuple(image.shape) == (3, 32, 32) and target == 1
    np.testing.assert_allclose(image.numpy()[0], test_images[0, :, :, 0] / 255.0, rtol=1e-6)


def test_cifar10_from_archive_and_cifar100(tmp_path, rng, numpy_backend):
    _write_cifar10(tmp_path / "staging" / "cifar-10-batches-py", rng)
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "staging" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    assert len(datasets.CIFAR10(tmp_path, train=False)) == 4
    folder = tmp_path / "c100" / "cifar-100-python"
    folder.mkdir(parents=True)
    images = rng.integers(0, 256, size=(5, 32, 32, 3), dtype=np.uint8)
    _write_cifar_batch(folder / "train", images, [0, 99, 5, 7, 42], labels_key="fine_labels")
    with open(folder / "meta", "wb") as stream:
        pickle.dump({"fine_label_names": [f"class{i}" for i in range(100)]}, stream)
    ds = datasets.CIFAR100(tmp_path / "c100")
    assert ds.targets == [0, 99, 5, 7, 42] and ds.classes[99] == "class99"
    np.testing.assert_array_equal(ds.data, images)


def test_cifar_refuses_pickles_that_run_code(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()

    class Evil:
        def __reduce__(self):
            return (print, ("this must not run",))

    for name in ["batches.meta", "test_batch"]:
        with open(folder / name, "wb") as stream:
            pickle.dump({"label_names": Evil()}, stream)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        datasets.CIFAR10(tmp_path, train=False)


# ---------------------------------------------------------------------------- Digits


def test_digits_split_scaling_and_28x28_option():
    pytest.importorskip("sklearn")
    train, test = datasets.Digits(train=True), datasets.Digits(train=False)
    assert len(train) + len(test) == 1797
    assert tuple(train.data.shape[1:]) == (8, 8) and train.data.dtype == ember.uint8
    assert train.data.numpy().max() == 255 and train.targets.dtype == ember.int64
    per_class = np.bincount(test.targets.numpy(), minlength=10)
    all_per_class = per_class + np.bincount(train.targets.numpy(), minlength=10)
    np.testing.assert_array_equal(per_class, np.floor(all_per_class * 0.2))
    np.testing.assert_array_equal(datasets.Digits(train=False).data.numpy(), test.data.numpy())
    big = datasets.Digits(train=False, image_size=28, transform=T.ToTensor())
    image, target = big[0]
    assert tuple(image.shape) == (1, 28, 28) and target == test.targets[0].item()
    assert big.classes == datasets.MNIST.classes


# ----------------------------------------------------------------------- ImageFolder


def test_image_folder(tmp_path, rng):
    Image = pytest.importorskip("PIL.Image")
    for name in ["dogs", "cats"]:
        (tmp_path / name).mkdir()
        for k in range(2):
            Image.fromarray(_image(rng, 5, 6)).save(tmp_path / name / f"{k}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    ds = datasets.ImageFolder(tmp_path, transform=T.ToTensor())
    assert ds.classes == ["cats", "dogs"] and ds.targets == [0, 0, 1, 1]
    image, target = ds[2]
    assert tuple(image.shape) == (3, 5, 6) and target == 1


# ------------------------------------------------------------------------ conversions


def test_to_tensor_and_pil_to_tensor(rng):
    image = _image(rng)
    tensor = T.ToTensor()(image)
    assert tensor.dtype == ember.float32 and tuple(tensor.shape) == (3, 7, 9)
    np.testing.assert_allclose(tensor.numpy(), image.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    gray = T.ToTensor()(image[:, :, 0])
    assert tuple(gray.shape) == (1, 7, 9)
    floats = rng.standard_normal((4, 5, 2))
    kept = T.ToTensor()(floats)
    assert kept.dtype == ember.float64
    np.testing.assert_array_equal(kept.numpy(), floats.transpose(2, 0, 1))
    raw = T.PILToTensor()(image)
    assert raw.dtype == ember.uint8 and raw.numpy().tolist() == image.transpose(2, 0, 1).tolist()
    with pytest.raises(TypeError):
        T.ToTensor()(tensor)


def test_pil_images_in_and_out(rng):
    Image = pytest.importorskip("PIL.Image")
    image = _image(rng)
    pil = Image.fromarray(image)
    np.testing.assert_allclose(T.ToTensor()(pil).numpy(), image.transpose(2, 0, 1) / 255.0,
                               rtol=1e-6)
    flipped = T.RandomHorizontalFlip(p=1.0)(pil)
    assert isinstance(flipped, Image.Image) and flipped.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(flipped), image[:, ::-1])
    back = T.ToPILImage()(T.ToTensor()(pil))
    np.testing.assert_array_equal(np.asarray(back), image)  # rounding makes the trip exact


def test_normalize_matches_formula_and_is_differentiable(rng):
    x = ember.tensor(rng.random((2, 3, 4, 5)), dtype=ember.float64, requires_grad=True)
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.3, 0.25)
    y = T.Normalize(mean, std)(x)
    expected = (x.detach().numpy() - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[0, :, 0, 0], 1 / np.array(std), rtol=1e-12)
    with pytest.raises(ValueError, match="std"):
        T.Normalize((0.5,), (0.0,))(x)


# ------------------------------------------------------------------ flips, pads, crops


def test_flips_on_every_image_kind(rng):
    image = _image(rng)
    np.testing.assert_array_equal(F.hflip(image), image[:, ::-1])
    np.testing.assert_array_equal(F.vflip(image), image[::-1])
    tensor = ember.tensor(image.transpose(2, 0, 1).astype(np.float32))
    np.testing.assert_array_equal(F.hflip(tensor).numpy(), image.transpose(2, 0, 1)[:, :, ::-1])
    batch = ember.tensor(rng.random((2, 3, 4, 5)).astype(np.float32))
    np.testing.assert_array_equal(F.vflip(batch).numpy(), batch.numpy()[:, :, ::-1])


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric"])
def test_pad_modes_match_numpy(rng, mode):
    image = _image(rng)
    expected = np.pad(image, ((2, 4), (1, 3), (0, 0)), mode=mode)
    np.testing.assert_array_equal(F.pad(image, (1, 2, 3, 4), padding_mode=mode), expected)


def test_pad_constant_fill_per_channel(rng):
    image = _image(rng, 2, 2)
    padded = F.pad(image, 1, fill=(10, 20, 30))
    assert padded.shape == (4, 4, 3)
    assert padded[0, 0].tolist() == [10, 20, 30]
    np.testing.assert_array_equal(padded[1:3, 1:3], image)


def test_crop_and_center_crop(rng):
    image = _image(rng, 6, 8)
    np.testing.assert_array_equal(F.crop(image, 1, 2, 3, 4), image[1:4, 2:6])
    outside = F.crop(image, -1, 6, 3, 4)  # hangs over the top and right edges: zeros there
    assert outside.shape == (3, 4, 3)
    np.testing.assert_array_equal(outside[1:, :2], image[:2, 6:])
    assert not outside[0].any() and not outside[:, 2:].any()
    np.testing.assert_array_equal(F.center_crop(image, (2, 4)), image[2:4, 2:6])
    assert T.CenterCrop(10)(image).shape == (10, 10, 3)


# ------------------------------------------------------------------------------ resize


def _bilinear_reference(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Upsampling with half-pixel centres and edge clamping, one pixel at a time."""
    in_h, in_w = image.shape[:2]
    out = np.zeros((height, width) + image.shape[2:])
    for i in range(height):
        y = (i + 0.5) * in_h / height - 0.5
        y0 = math.floor(y)
        fy = y - y0
        for j in range(width):
            x = (j + 0.5) * in_w / width - 0.5
            x0 = math.floor(x)
            fx = x - x0

            def at(r, c):
                return image[min(max(r, 0), in_h - 1), min(max(c, 0), in_w - 1)]

            out[i, j] = ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
                         + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))
    return out


def test_resize_upsampling_matches_bilinear_reference(rng):
    image = rng.random((5, 4, 2)).astype(np.float32)
    tensor = ember.tensor(image.transpose(2, 0, 1))
    out = F.resize(tensor, (11, 9)).numpy().transpose(1, 2, 0)
    np.testing.assert_allclose(out, _bilinear_reference(image.astype(np.float64), 11, 9),
                               rtol=1e-5, atol=1e-6)


def test_resize_downsampling_antialias_triangle_filter(rng):
    image = rng.random((8, 12)).astype(np.float32)
    out = F.resize(image, (4, 6))
    # Halving with a triangle filter of radius 2 weights the 4 nearest input pixels of each
    # output pixel 1/8, 3/8, 3/8, 1/8 along each axis (edges renormalised).
    weights = np.array([1, 3, 3, 1]) / 8.0
    padded = np.pad(image.astype(np.float64), 1, mode="constant", constant_values=np.nan)
    expected = np.zeros((4, 6))
    for i in range(4):
        for j in range(6):
            window = padded[2 * i:2 * i + 4, 2 * j:2 * j + 4]
            w = np.outer(weights, weights) * ~np.isnan(window)
            expected[i, j] = np.nansum(window * w) / w.sum()
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_resize_matches_pillow(rng):
    Image = pytest.importorskip("PIL.Image")
    image = _image(rng, 30, 40)
    for size in [(13, 17), (61, 83)]:
        ours = F.resize(image, size)
        theirs = np.asarray(Image.fromarray(image).resize(size[::-1], Image.BILINEAR))
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1


def test_resize_nearest_and_shorter_edge_rule(rng):
    image = _image(rng, 4, 6)
    out = F.resize(image, (8, 12), interpolation="nearest")
    np.testing.assert_array_equal(out, image.repeat(2, axis=0).repeat(2, axis=1))
    assert T.Resize(8)(image).shape == (8, 12, 3)
    assert T.Resize(8, interpolation=T.InterpolationMode.NEAREST)(_image(rng, 5, 6)).shape == (8, 9, 3)


# --------------------------------------------------------------------------- geometry


def test_rotate_multiples_of_90_match_rot90(rng):
    square = _image(rng, 5, 5)
    for k in (1, 2, 3):
        np.testing.assert_array_equal(F.rotate(square, 90 * k), np.rot90(square, k))
    wide = _image(rng, 4, 6)
    np.testing.assert_array_equal(F.rotate(wide, 90, expand=True), np.rot90(wide))


def _affine_reference(image: np.ndarray, inverse: np.ndarray, translate, fill: float) -> np.ndarray:
    """Pull every output pixel from ``center + inverse @ (p - center - translate)`` with
    bilinear interpolation; neighbours outside the image read ``fill``."""
    height, width = image.shape
    cx, cy = (width - 1) / 2, (height - 1) / 2

    def at(r, c):
        return image[r, c] if 0 <= r < height and 0 <= c < width else fill

    out = np.zeros_like(image, dtype=np.float64)
    for i in range(height):
        for j in range(width):
            dx, dy = j - cx - translate[0], i - cy - translate[1]
            x = cx + inverse[0, 0] * dx + inverse[0, 1] * dy
            y = cy + inverse[1, 0] * dx + inverse[1, 1] * dy
            x0, y0 = math.floor(x), math.floor(y)
            fx, fy = x - x0, y - y0
            out[i, j] = ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
                         + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))
    return out


def test_rotate_bilinear_matches_reference(rng):
    image = rng.random((9, 11))
    angle = 30.0
    theta = math.radians(angle)
    # Undoing a counter-clockwise (on screen, y down) rotation by theta:
    inverse = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    out = F.rotate(image, angle, interpolation="bilinear", fill=0.5)
    np.testing.assert_allclose(out, _affine_reference(image, inverse, (0, 0), 0.5), atol=1e-5)


def test_rotate_matches_pillow_inside_the_image(rng):
    Image = pytest.importorskip("PIL.Image")
    image = _image(rng, 21, 21)[:, :, 0]
    ours = F.rotate(image, 17.0, interpolation="bilinear").astype(int)
    theirs = np.asarray(Image.fromarray(image).rotate(17.0, resample=Image.BILINEAR)).astype(int)
    inner = slice(5, 16)  # away from the corners, where border handling differs
    assert np.abs(ours[inner, inner] - theirs[inner, inner]).max() <= 1


def test_affine_scale_shear_translate(rng):
    image = rng.random((8, 10))
    scale, shear_x = 1.3, 10.0
    forward = scale * np.array([[1.0, math.tan(math.radians(shear_x))], [0.0, 1.0]])
    out = F.affine(image, angle=0.0, translate=(1.0, -2.0), scale=scale, shear=shear_x,
                   interpolation="bilinear")
    expected = _affine_reference(image, np.linalg.inv(forward), (1.0, -2.0), 0.0)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    shifted = F.affine(image, 0.0, (2, 1), 1.0, 0.0)  # whole-pixel shift: nearest copies values
    np.testing.assert_array_equal(shifted[1:, 2:], image[:-1, :-2])
    assert not shifted[0].any() and not shifted[:, :2].any()


# ------------------------------------------------------------------------------ colour


def test_brightness_contrast_saturation_formulas(rng):
    image = _image(rng, 4, 5).astype(np.float32) / 255.0
    gray = image @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(F.adjust_brightness(image, 1.5), np.clip(image * 1.5, 0, 1),
                               rtol=1e-6)
    np.testing.assert_allclose(F.adjust_contrast(image, 0.5),
                               np.clip(0.5 * image + 0.5 * gray.mean(), 0, 1), rtol=1e-5)
    np.testing.assert_allclose(F.adjust_saturation(image, 2.0),
                               np.clip(2.0 * image - gray[..., None], 0, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(F.rgb_to_grayscale(image)[..., 0], gray, rtol=1e-5)
    as_uint8 = F.adjust_brightness((image * 255).round().astype(np.uint8), 0.5)
    assert as_uint8.dtype == np.uint8


def test_adjust_hue_matches_colorsys(rng):
    image = rng.random((3, 4, 3))
    out = F.adjust_hue(image, 0.2)
    for i in range(3):
        for j in range(4):
            h, s, v = colorsys.rgb_to_hsv(*image[i, j])
            np.testing.assert_allclose(out[i, j], colorsys.hsv_to_rgb((h + 0.2) % 1.0, s, v),
                                       atol=1e-6)
    gray = image[:, :, :1]
    assert F.adjust_hue(gray, 0.3) is gray


def _blur_reference(image: np.ndarray, size: int, sigma: float) -> np.ndarray:
    offsets = np.arange(size) - size // 2
    kernel = np.exp(-offsets**2 / (2 * sigma**2))
    kernel2d = np.outer(kernel, kernel) / kernel.sum() ** 2
    padded = np.pad(image, size // 2, mode="reflect")
    out = np.zeros_like(image)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = (padded[i:i + size, j:j + size] * kernel2d).sum()
    return out


def test_gaussian_blur_matches_reference(rng):
    image = rng.random((7, 9))
    np.testing.assert_allclose(F.gaussian_blur(image, 5, 1.3), _blur_reference(image, 5, 1.3),
                               rtol=1e-5, atol=1e-6)


def test_erase(rng):
    tensor = ember.tensor(rng.random((3, 6, 6)).astype(np.float32))
    out = F.erase(tensor, 1, 2, 3, 2, value=(1.0, 2.0, 3.0)).numpy()
    assert out[:, 1:4, 2:4].reshape(3, -1).tolist() == [[1.0] * 6, [2.0] * 6, [3.0] * 6]
    np.testing.assert_array_equal(out[:, 0], tensor.numpy()[:, 0])


# ----------------------------------------------------------------------- random transforms


def _pipeline():
    return T.Compose([
        T.RandomResizedCrop(16, scale=(0.5, 1.0)),
        T.RandomHorizontalFlip(),
        T.RandomRotation(15),
        T.RandomAffine(0, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5),
        T.ColorJitter(0.4, 0.4, 0.4, 0.1),
        T.RandomApply([T.GaussianBlur(3)], p=0.5),
        T.RandomGrayscale(0.2),
        T.ToTensor(),
        T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        T.RandomErasing(p=0.5, value="random"),
    ])


def test_random_pipeline_is_reproducible_with_manual_seed(rng):
    image = _image(rng, 20, 24)
    ember.manual_seed(11)
    first = [_pipeline()(image).numpy() for _ in range(3)]
    ember.manual_seed(11)
    second = [_pipeline()(image).numpy() for _ in range(3)]
    for a, b in zip(first, second):
        assert a.shape == (3, 16, 16)
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])


def test_random_crop_padding_and_pad_if_needed(rng):
    image = _image(rng, 32, 32)
    ember.manual_seed(0)
    crops = [T.RandomCrop(32, padding=4)(image) for _ in range(5)]
    assert all(crop.shape == (32, 32, 3) for crop in crops)
    assert any(not np.array_equal(crop, image) for crop in crops)
    assert T.RandomCrop((40, 36), pad_if_needed=True)(image).shape == (40, 36, 3)
    with pytest.raises(ValueError, match="larger"):
        T.RandomCrop(40)(image)


def test_random_flip_probabilities_and_erasing(rng):
    image = _image(rng)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(image), image)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(image), image[::-1])
    tensor = ember.zeros(3, 20, 20)
    erased = T.RandomErasing(p=1.0, value=1.0)(tensor).numpy()
    assert 0.02 * 400 - 8 <= erased[0].sum() <= 0.33 * 400 + 8
    np.testing.assert_array_equal(erased[0], erased[2])


def test_transforms_on_a_batch_of_tensors(rng):
    batch = ember.tensor(rng.random((4, 3, 10, 12)).astype(np.float32))
    assert tuple(T.Resize((5, 6))(batch).shape) == (4, 3, 5, 6)
    assert tuple(T.RandomCrop(8)(batch).shape) == (4, 3, 8, 8)
    assert tuple(T.ColorJitter(0.5, 0.5, 0.5, 0.2)(batch).shape) == (4, 3, 10, 12)


def test_transforms_keep_the_device(device, rng):
    tensor = ember.tensor(rng.random((3, 6, 8)).astype(np.float32), device=device)
    out = T.Compose([T.RandomHorizontalFlip(1.0), T.Normalize((0.5,) * 3, (0.5,) * 3)])(tensor)
    assert out.device == tensor.device
    np.testing.assert_allclose(out.cpu().numpy(), (tensor.cpu().numpy()[:, :, ::-1] - 0.5) / 0.5,
                               rtol=1e-6)


# ---------------------------------------------------------------------------- utilities


def _decode_png(data: bytes) -> np.ndarray:
    """A minimal PNG reader for 8-bit files whose rows use filter type 0."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        tag = data[position + 4:position + 8]
        chunks.setdefault(tag, b"")
        chunks[tag] += data[position + 8:position + 8 + length]
        position += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert depth == 8 and (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, channels)


def test_make_grid_layout():
    images = ember.tensor(np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1) * np.ones((1, 1, 2, 3),
                                                                                         np.float32))
    grid = make_grid(images, nrow=3, padding=1, pad_value=-1.0).numpy()
    assert grid.shape == (3, 2 * 3 + 1, 3 * 4 + 1)  # 2 rows x 3 columns of 2x3 cells + padding
    assert grid[0, 1, 1] == 0 and grid[0, 1, 5] == 1 and grid[0, 4, 1] == 3
    assert grid[0, 4, 9] == -1.0  # the empty sixth cell stays padding


def test_save_image_writes_png(tmp_path, rng):
    images = ember.tensor(rng.random((2, 3, 4, 5)).astype(np.float32))
    save_image(images, tmp_path / "grid.png", nrow=2, padding=0)
    pixels = _decode_png((tmp_path / "grid.png").read_bytes())
    expected = np.concatenate(list(images.numpy().transpose(0, 2, 3, 1)), axis=1)
    np.testing.assert_array_equal(pixels, np.rint(expected * 255).astype(np.uint8))
