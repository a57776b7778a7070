"""``ember.nn.functional`` (``import ember.nn.functional as F``): PyTorch's functional API.

Convolutions, pooling, normalisation, softmax/cross-entropy, attention and GELU/SiLU run on the
C++/CUDA kernels and are re-exported from ``ember.ops``; everything else here is written with
Ember tensor ops (or small ops whose backward is written in tensor ops, so double backward works).
Shapes follow PyTorch's docs: ``N`` batch, ``C`` channels/classes, ``*`` any extra dimensions.
"""
from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from .. import backend
from .. import ops as _ops
from ..ops._nnutil import legacy_reduction as _legacy_reduction
from ..ops._nnutil import short_name as _short_name
from ..ops._nnutil import reduce_loss as _reduce
from ..ops.activation import gelu, silu  # noqa: F401
from ..ops.activation import pointwise as _pointwise
from ..ops.attention import scaled_dot_product_attention
from ..ops.conv import (  # noqa: F401
    bilinear,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    linear,
    unfold,
)
from ..ops.embedding import embedding_lookup
from ..ops.index import one_hot as _one_hot
from ..ops.normalization import batch_norm, group_norm, instance_norm, layer_norm  # noqa: F401
from ..ops.reduce import vector_norm as _norm
from ..ops.pool import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    interpolate,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from ..ops.shape import pad
from ..ops.softmax import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_softmax,
    nll_loss,
    softmax,
    softmin,
)
from ..tensor import Tensor

# The public functions (as torch.nn.functional); helpers such as embedding_lookup stay importable by path.
__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "alpha_dropout",
    "avg_pool1d", "avg_pool2d", "batch_norm", "bilinear", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "celu", "celu_", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "cosine_embedding_loss", "cosine_similarity", "cross_entropy", "dropout", "dropout1d", "dropout2d", "dropout3d",
    "elu", "elu_", "embedding", "embedding_bag", "feature_alpha_dropout", "fold", "gaussian_nll_loss", "gelu",
    "glu", "group_norm", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "hardtanh_", "hinge_embedding_loss",
    "huber_loss", "instance_norm", "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "leaky_relu_",
    "linear", "log_softmax", "logsigmoid", "margin_ranking_loss", "max_pool1d", "max_pool2d", "max_unpool1d",
    "max_unpool2d", "mish", "mse_loss", "multi_head_attention_forward", "multi_margin_loss",
    "multilabel_soft_margin_loss", "nll_loss", "normalize", "one_hot", "pad", "pairwise_distance", "pdist",
    "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu", "relu", "relu6", "relu_", "rrelu", "rrelu_",
    "scaled_dot_product_attention", "selu", "selu_", "sigmoid", "silu", "smooth_l1_loss", "soft_margin_loss",
    "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh", "tanhshrink", "threshold", "threshold_",
    "triplet_margin_loss", "triplet_margin_with_distance_loss", "unfold", "upsample", "upsample_bilinear",
    "upsample_nearest",
]


# ---- helpers -------------------------------------------------------------------------------------
def _check_same_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _inplace(input: Tensor, fn, *args) -> Tensor:
    """Write ``fn(input, *args)`` into ``input`` (the ``inplace=True`` / ``relu_`` variants)."""
    return _ops.inplace(input, fn, *args)


# ---- activations ---------------------------------------------------------------------------------
def _takes_tensor(fn):
    """An activation whose ``input`` must be a Tensor: anything else raises TypeError, as PyTorch."""
    @functools.wraps(fn)
    def checked(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{fn.__name__}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return fn(input, *args, **kwargs)
    return checked


def _threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return _ops.where(input > threshold, input, value)


@_takes_tensor
def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``y = x if x > threshold else value``."""
    if inplace:
        return _inplace(input, _threshold, threshold, value)
    return _threshold(input, threshold, value)


@_takes_tensor
def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold`` (``torch.nn.functional.threshold_``)."""
    return _inplace(input, _threshold, threshold, value)


@_takes_tensor
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``."""
    return input.relu_() if inplace else _ops.relu(input)


@_takes_tensor
def relu_(input: Tensor) -> Tensor:
    """In-place ``relu`` (``torch.nn.functional.relu_``)."""
    return input.relu_()


@_takes_tensor
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``clamp(x, min_val, max_val)``; the gradient is 1 strictly inside the range, 0 outside."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, hardtanh, min_val, max_val)
    return _pointwise(input, lambda xp, x, lo, hi: xp.clip(x, lo, hi),
                      lambda x, lo, hi: ((x > lo) & (x < hi)).to(x.dtype), min_val, max_val)


@_takes_tensor
def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh`` (``torch.nn.functional.hardtanh_``)."""
    return hardtanh(input, min_val, max_val, inplace=True)


@_takes_tensor
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


@_takes_tensor
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x if x > 0 else negative_slope * x``."""
    if inplace:
        return _inplace(input, leaky_relu, negative_slope)
    return _pointwise(input, lambda xp, x, a: xp.where(x > 0, x, x * a),
                      lambda x, a: _ops.where(x > 0, 1.0, a).to(x.dtype), negative_slope)


@_takes_tensor
def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu`` (``torch.nn.functional.leaky_relu_``)."""
    return leaky_relu(input, negative_slope, inplace=True)


def _elu_like(input: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
    """``scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1))``: ELU, SELU and CELU."""
    return _pointwise(
        input,
        lambda xp, x, a, s, k: s * xp.where(x > 0, x, a * xp.expm1(xp.minimum(x, 0) * k)),
        lambda x, a, s, k: _ops.where(x > 0, s, (x.clamp(max=0) * k).exp() * (s * a * k)),
        alpha, scale, input_scale)


@_takes_tensor
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    if inplace:
        return _inplace(input, elu, alpha)
    return _elu_like(input, alpha, 1.0, 1.0)


@_takes_tensor
def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu`` (``torch.nn.functional.elu_``)."""
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@_takes_tensor
def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants (alpha≈1.6733, scale≈1.0507)."""
    if inplace:
        return _inplace(input, selu)
    return _elu_like(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


@_takes_tensor
def selu_(input: Tensor) -> Tensor:
    """In-place ``selu`` (``torch.nn.functional.selu_``)."""
    return selu(input, inplace=True)


@_takes_tensor
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if inplace:
        return _inplace(input, celu, alpha)
    return _elu_like(input, alpha, 1.0, 1.0 / alpha)


@_takes_tensor
def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu`` (``torch.nn.functional.celu_``)."""
    return celu(input, alpha, inplace=True)


@_takes_tensor
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x if x > 0 else weight * x``; ``weight`` has 1 entry or one per channel (dim 1)."""
    n = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{n} and channel size = {channels}.")
    w = weight.reshape((-1,) + (1,) * (input.ndim - 2)) if input.ndim >= 2 and n > 1 else weight.reshape(())
    return _ops.where(input > 0, input, w * input)


@_takes_tensor
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU: negative inputs are scaled by ``a ~ U(lower, upper)`` per element when
    training, by ``(lower + upper) / 2`` otherwise."""
    if inplace:
        return _inplace(input, rrelu, lower, upper, training)
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    a = _ops.empty_like(input).uniform_(lower, upper)
    return _ops.where(input > 0, input, input * a)


@_takes_tensor
def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place ``rrelu`` (``torch.nn.functional.rrelu_``)."""
    return rrelu(input, lower, upper, training, inplace=True)


@_takes_tensor
def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``dim`` in halves ``a, b`` and return ``a * sigmoid(b)``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} is size {n}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, as ``torch.nn.functional.sigmoid`` (``torch.sigmoid``)."""
    return _ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """``tanh(x)``, as ``torch.nn.functional.tanh`` (``torch.tanh``)."""
    return _ops.tanh(input)


@_takes_tensor
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""
    return _pointwise(
        input,
        lambda xp, x, b, t: xp.where(x * b > t, x, xp.logaddexp(0, x * b) / b),
        lambda x, b, t: _ops.where(x * b > t, 1.0, (x * b).sigmoid()).to(x.dtype),
        beta, threshold)


@_takes_tensor
def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, computed without overflow."""
    return _pointwise(input, lambda xp, x: -xp.logaddexp(0, -x), lambda x: (-x).sigmoid())


@_takes_tensor
def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def _floating_only(input: Tensor, name: str) -> None:
    """PyTorch has no integer kernel for the shrink functions."""
    if not input.is_floating_point():
        raise NotImplementedError(f'"{name}" not implemented for \'{_short_name(input)}\'')


@_takes_tensor
def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 in between."""
    _floating_only(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _ops.where(input > lambd, input - lambd, _ops.where(input < -lambd, input + lambd, 0.0))


@_takes_tensor
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    _floating_only(input, "hardshrink")
    return _ops.where((input > lambd) | (input < -lambd), input, 0.0)


@_takes_tensor
def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``; integer inputs give the default floating dtype, as ``tanh``."""
    t = input.tanh()
    return input.to(t.dtype) - t


@_takes_tensor
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    if inplace:
        return _inplace(input, hardsigmoid)
    return _pointwise(input, lambda xp, x: xp.clip(x / 6 + 0.5, 0, 1),
                      lambda x: ((x > -3) & (x < 3)).to(x.dtype) / 6)


@_takes_tensor
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    if inplace:
        return _inplace(input, hardswish)
    return _pointwise(input, lambda xp, x: x * xp.clip(x / 6 + 0.5, 0, 1),
                      lambda x: _ops.where(x < -3, 0.0, _ops.where(x > 3, 1.0, x / 3 + 0.5)).to(x.dtype))


@_takes_tensor
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    if inplace:
        return _inplace(input, mish)
    return input * softplus(input).tanh()


# ---- dropout --------------------------------------------------------------------------------------
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input: Tensor, shape, p: float) -> Tensor:
    """A 0/1 mask of ``shape`` (broadcastable to ``input``) keeping each entry with probability 1-p."""
    u = _ops.rand(tuple(shape), dtype=input.dtype, device=input.device)
    return (u >= p).to(input.dtype)


def _dropout_with_mask_shape(input: Tensor, p: float, training: bool, inplace: bool, mask_shape) -> Tensor:
    _check_p(p)
    if not training or p == 0.0:
        return input
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)  # p == 1 zeros everything
    mask = _keep_mask(input, mask_shape, p) * scale
    return input.mul_(mask) if inplace else input * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale survivors by ``1 / (1 - p)`` (training only)."""
    return _dropout_with_mask_shape(input, p, training, inplace, input.shape)


def _feature_mask_shape(input: Tensor, batched: bool):
    lead = 2 if batched else 1
    return tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout on (N, C, L) or (C, L): whole channels are zeroed."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note "
                           "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
                           "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
                           "inputs).")
    return _dropout_with_mask_shape(input, p, training, inplace, _feature_mask_shape(input, input.ndim == 3))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout on (N, C, H, W): whole feature maps are zeroed. A 3-D input is read as
    (N, C, L) (PyTorch's current behaviour, with its warning)."""
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this "
                      "warning, please use dropout instead. Note that dropout2d exists to provide channel-wise "
                      "dropout on inputs with 2 spatial dimensions, a channel dimension, and an optional batch "
                      "dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                      "dim. This behavior will change in a future release to interpret the input as one "
                      "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.", stacklevel=2)
    return _dropout_with_mask_shape(input, p, training, inplace, _feature_mask_shape(input, input.ndim >= 2))


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout on (N, C, D, H, W) or (C, D, H, W)."""
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release.", stacklevel=2)
    return _dropout_with_mask_shape(input, p, training, inplace, _feature_mask_shape(input, input.ndim == 5))


_ALPHA_PRIME = _SELU_ALPHA * _SELU_SCALE  # SELU's negative saturation value, negated


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, mask_shape) -> Tensor:
    """Dropped entries are set to SELU's saturation value, then an affine map restores the mean and
    variance of a unit Gaussian input."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    keep = _keep_mask(input, mask_shape, p)
    a = 1.0 / math.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    b = (keep - 1) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p
    if inplace:
        return input.mul_(keep * a).add_(b)
    return input * (keep * a) + b


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout for SELU networks (``torch.nn.functional.alpha_dropout``): dropped entries take
    SELU's saturation value and an affine map keeps zero mean and unit variance (training only)."""
    return _alpha_dropout(input, p, training, inplace, input.shape)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of (N, C, *) (``torch.nn.functional.feature_alpha_dropout``)."""
    return _alpha_dropout(input, p, training, inplace, _feature_mask_shape(input, input.ndim >= 2))


# ---- distances and normalisation ------------------------------------------------------------------
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    r = input / _norm(input, p, dim, keepdim=True).clamp(min=eps)
    if out is None:
        return r
    from ..ops._util import write_out

    return write_out(r, out, "normalize")


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1·x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` (inputs broadcast)."""
    n1 = _norm(x1, 2, dim, keepdim=True).clamp(min=eps)
    n2 = _norm(x2, 2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension: (N, D), (N, D) -> (N)."""
    d = x1 - x2 + eps
    return _norm(d, p, -1 if d.ndim else (), keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Distances between all row pairs i < j of an (N, M) input, as a flat (N*(N-1)/2) tensor."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    dev = input.device
    ii = Tensor._make(backend.to_device_array(i.astype(np.int64), dev))
    jj = Tensor._make(backend.to_device_array(j.astype(np.int64), dev))
    return _norm(input.index_select(0, ii) - input.index_select(0, jj), p, -1)


# ---- embeddings -----------------------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: integer (*) -> (*, num_classes) (``torch.nn.functional.one_hot``);
    num_classes=-1 takes max + 1."""
    return _one_hot(tensor, num_classes)


def _check_indices(input: Tensor, what: str) -> None:
    if not isinstance(input, Tensor) or input._data.dtype.kind not in "iu":
        got = input.type() if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {got} instead (while checking arguments for {what})")


def _padding_index(padding_idx, num: int):
    if padding_idx is None:
        return None
    if padding_idx >= num or padding_idx < -num:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx % num


def _renorm_rows(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale (in place, untracked) the rows of ``weight`` used by ``input`` whose norm exceeds
    ``max_norm``, as PyTorch's ``embedding_renorm_``."""
    xp = backend.xp_of(weight._data)
    rows = xp.unique(input._data.reshape(-1))
    w = weight._data[rows]
    norms = (xp.abs(w) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    weight._data[rows] = w * scale[:, None]
    weight._version += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (V, D) for integer ``input`` of any shape: output ``(*input, D)``.
    Rows at ``padding_idx`` get no gradient; ``max_norm`` renormalises the looked-up rows in place."""
    _check_indices(input, "embedding")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    if input.numel() and (int(input._data.min()) < 0 or int(input._data.max()) >= num):
        raise IndexError("index out of range in self")
    padding_idx = _padding_index(padding_idx, num)
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    return embedding_lookup(weight, input, padding_idx, scale_grad_by_freq)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxes of bags of embeddings: a 2-D ``input`` (B, L) is B bags of L indices;
    a 1-D ``input`` is cut into bags at ``offsets``. Output (B, D); empty bags give zeros.
    ``per_sample_weights`` (same shape as ``input``) scale the rows, with ``mode='sum'`` only."""
    _check_indices(input, "embedding_bag")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights "
                                      f"is only supported for mode='sum' (got mode='{mode}'). Please open a "
                                      "feature request on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
                             f"then it must have the same shape as the input ({input.shape})")
    xp = backend.xp_of(input._data)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                             "of fixed length sequences. However, found offsets of type "
                             f"{offsets.type()}")
        bags, length = input.shape
        pos = xp.arange(bags * length, dtype=np.int64).reshape(bags, length)
        valid = xp.ones((bags, length), dtype=bool)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = backend.to_host(offsets._data).astype(np.int64)
        n = input.shape[0]
        ends = np.append(starts[1:], n)
        if include_last_offset:
            starts, ends = starts[:-1], ends[:-1]
        if len(starts) and (starts[0] != 0 or (np.diff(starts) < 0).any() or ends[-1] > n):
            raise RuntimeError("offsets must start at 0, be non-decreasing and not exceed the input length")
        length = int((ends - starts).max()) if len(starts) else 0
        grid = starts[:, None] + np.arange(length)[None, :]
        valid_h = grid < ends[:, None]
        pos = xp.asarray(np.where(valid_h, grid, 0))
        valid = xp.asarray(valid_h)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    idx = Tensor._make(input._data.reshape(-1)[pos])
    pad = _padding_index(padding_idx, weight.shape[0])
    if pad is not None:
        valid = valid & (idx._data != pad)
    emb = embedding(idx, weight, pad, max_norm, norm_type, scale_grad_by_freq)  # (B, L, D)
    keep = Tensor._make(valid.astype(weight._data.dtype)).unsqueeze(-1)
    if mode == "max":
        masked = _ops.where(Tensor._make(valid).unsqueeze(-1), emb, -math.inf)
        out = masked.amax(1) if length else emb.sum(1)
        return _ops.where(Tensor._make(valid.any(axis=1)).unsqueeze(-1), out, 0.0)
    if per_sample_weights is not None:
        keep = keep * per_sample_weights.reshape(-1)[Tensor._make(pos)].unsqueeze(-1)
    total = (emb * keep).sum(1)
    if mode == "sum":
        return total
    count = Tensor._make(valid.sum(axis=1).astype(weight._data.dtype)).clamp(min=1).unsqueeze(-1)
    return total / count


# ---- losses --------------------------------------------------------------------------------------
def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|x - y|``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_same_size(input, target)
    return _reduce((input - target).abs(), reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(x - y)^2``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_same_size(input, target)
    d = input - target
    return _reduce(d * d, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = x - y``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_same_size(input, target)
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(_ops.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_same_size(input, target)
    d = (input - target).abs()
    return _reduce(_ops.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def _xlogy(x: Tensor, y: Tensor) -> Tensor:
    """``x * log(y)``, 0 where ``x == 0``."""
    pos = x != 0
    return _ops.where(pos, x * _ops.where(pos, y, 1.0).log(), 0.0)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence with ``input`` given as log-probabilities: ``target * (log target - input)``
    (``exp(target) * (target - input)`` with ``log_target``). ``'batchmean'`` divides the sum by N."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    # masks as factors: mismatched shapes fail in the products with PyTorch's RuntimeError
    hinge = (margin - input).clamp(min=0) * (target != 1).to(input.dtype)
    plain = input * (target != -1).to(input.dtype)
    return _reduce(hinge + plain, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where ``y == -1``;
    inputs (N, D) or (D), target (N) or ()."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input1.ndim not in (1, 2) or input1.shape != input2.shape or target.ndim != input1.ndim - 1:
        raise RuntimeError(f"cosine_embedding_loss: expected inputs of shape (N, D) or (D) and a target of "
                           f"shape (N) or (), got {list(input1.shape)}, {list(input2.shape)} and "
                           f"{list(target.shape)}")
    eps = 1e-12
    dot = (input1 * input2).sum(-1)
    mag = ((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)
    cos = dot / mag.sqrt()
    loss = _ops.where(target == 1, 1 - cos, 0.0) + _ops.where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the pairwise p-distance; inputs (N, D) or (D)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if not (dims[0] == dims[1] == dims[2]):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number "
                           f"of dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative "
                           f"{dims[2]}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """Triplet loss with any ``distance_function(x1, x2) -> (N)`` (pairwise_distance by default)."""
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
                         "instead")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = _ops.minimum(d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: ``exp(x) - y x`` (``log_input``) or ``x - y log(x + eps)``;
    ``full`` adds Stirling's term ``y log y - y + 0.5 log(2 pi y)`` where ``y > 1``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        big = target > 1
        t = _ops.where(big, target, 2.0)
        stirling = t * t.log() - t + 0.5 * (2 * math.pi * t).log()
        loss = loss + _ops.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log likelihood ``0.5 (log var + (x - y)^2 / var)`` (+ ``0.5 log 2pi`` with
    ``full``). ``var`` has the input's shape, or one fewer dimension, or a last dimension of 1 (one
    variance per sample), or is a float. ``var`` is clamped to ``eps`` without stopping its gradient."""
    if not isinstance(var, Tensor):
        var = _ops.full_like(input, float(var))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce(softplus(-target * input), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-mean_c [y log sigmoid(x) + (1 - y) log sigmoid(-x)]`` per sample; input/target (N, C)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(-1) / input.shape[-1], reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge: ``sum_{i != y} max(0, margin - x[y] + x[i])^p / C``; input (N, C) or (C)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if target.ndim > 1 or target.numel() != x.shape[0]:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of "
                           f"input samples, got target of size {list(target.shape)} for input of size "
                           f"{list(input.shape)}")
    y = target.reshape(-1, 1)
    picked = x.gather(1, y)
    hinge = (margin - picked + x).clamp(min=0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight[y.reshape(-1)].unsqueeze(1)
    not_target = 1 - _one_hot(y.reshape(-1), x.shape[1]).to(x.dtype)
    loss = (hinge * not_target).sum(1) / x.shape[1]
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction)


# ---- attention -----------------------------------------------------------------------------------
def _float_mask(mask: Tensor | None, dtype) -> Tensor | None:
    """Boolean masks (True = masked out, PyTorch's MultiheadAttention convention) become additive
    float masks with -inf; float masks are used as they are."""
    if mask is None:
        return None
    if mask._data.dtype == np.bool_:
        return _ops.zeros(tuple(mask.shape), dtype=dtype, device=mask.device).masked_fill(mask, -math.inf)
    if not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of masks are supported, got {mask.dtype}")
    return mask.to(dtype)


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True, key_padding_mask: Tensor | None = None,
        need_weights: bool = True, attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None, static_v: Tensor | None = None,
        average_attn_weights: bool = True, is_causal: bool = False):
    """Multi-head attention on sequence-first inputs: query (L, N, E), key (S, N, kdim), value
    (S, N, vdim), or unbatched (L, E) / (S, kdim) / (S, vdim). Returns the output (L, N, E) and, with
    ``need_weights``, the attention weights (N, L, S) averaged over heads (or (N, H, L, S)).

    Masks: ``key_padding_mask`` (N, S), ``attn_mask`` (L, S) or (N*H, L, S); boolean True means
    "do not attend", float masks are added to the scores. When the weights are not needed, the
    fused scaled-dot-product-attention kernel does the work."""
    batched = query.ndim == 3
    if not batched:
        if query.ndim != 2 or key.ndim != 2 or value.ndim != 2:
            raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                                 f"{query.ndim}-D query tensor")
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")

    # input projections
    if use_separate_proj_weight:
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias.chunk(3)
        q, k, v = linear(query, q_proj_weight, bq), linear(key, k_proj_weight, bk), linear(value, v_proj_weight, bv)
    elif query is key and key is value:
        q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)  # one GEMM for self-attention
    else:
        wq, wk, wv = in_proj_weight.chunk(3)
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias.chunk(3)
        q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)

    attn_mask = _float_mask(attn_mask, q.dtype)
    key_padding_mask = _float_mask(key_padding_mask, q.dtype)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key/value.")
        k = _ops.cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = _ops.cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None

    # (len, N, E) -> (N*H, len, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = static_k if static_k is not None else k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = static_v if static_v is not None else v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        zeros = _ops.zeros((bsz * num_heads, 1, head_dim), dtype=q.dtype, device=q.device)
        k, v = _ops.cat([k, zeros], 1), _ops.cat([v, zeros], 1)
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{key_padding_mask.shape}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = _ops.bmm(q * (1.0 / math.sqrt(head_dim)), k.transpose(1, 2))  # (N*H, L, S)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = _ops.bmm(weights, v)
    else:
        mask4 = attn_mask  # (1 or N*H, 1 or L, S) -> broadcastable to (N, H, L, S)
        if attn_mask is not None:
            lead = (1, 1) if attn_mask.shape[0] == 1 else (bsz, num_heads)
            mask4 = attn_mask.reshape(lead + tuple(attn_mask.shape[1:]))
        out = scaled_dot_product_attention(q.reshape(bsz, num_heads, tgt_len, head_dim),
                                           k.reshape(bsz, num_heads, src_len, head_dim),
                                           v.reshape(bsz, num_heads, src_len, head_dim),
                                           attn_mask=mask4, dropout_p=dropout_p)
        out = out.reshape(bsz * num_heads, tgt_len, head_dim)
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights
