"""Ember's differentiable operations. Each family module holds ops whose forward and backward sit
side by side; this package re-exports them and lists which are also Tensor methods.

``__all__`` (what ``ember`` star-imports) is the public ops: the families' ``__all__`` and the
kernel-backed ops PyTorch also has at top level. The package also holds, by name, the helpers that
``ember._methods`` and ``ember.nn`` call (``ops.cast``, ``ops.inplace``, ``ops.pad``, ...), which
are not part of ``ember``'s namespace."""
from __future__ import annotations

from . import creation, index, linalg, pointwise, reduce, shape
from .creation import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .pointwise import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .reduce import all, any, max, min, sum  # noqa: F401,A004
from .pointwise import abs, pow, round  # noqa: F401,A004
from .shape import *  # noqa: F401,F403
# Kernel-backed ops that PyTorch also has at top level (torch.conv2d, torch.softmax, ...).
from .conv import bilinear, conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: F401
from .normalization import batch_norm, group_norm, instance_norm, layer_norm  # noqa: F401
from .pool import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, max_pool1d,  # noqa: F401
                   max_pool2d, pixel_shuffle, pixel_unshuffle)
from .softmax import binary_cross_entropy_with_logits, log_softmax, softmax  # noqa: F401
# Helpers behind Tensor methods, operators and ember.range (not public ops of their own).
from .creation import (bernoulli_, cauchy_, exponential_, geometric_, log_normal_,  # noqa: F401
                       random_fill_, range_)
from .index import copy_, getitem, inplace, setitem  # noqa: F401
from .shape import (cast, contiguous, diagonal_, expand, expand_as, pad, repeat, reshape_as,  # noqa: F401
                    to_device, view, view_as)

__all__ = [
    *creation.__all__, *index.__all__, *linalg.__all__, *pointwise.__all__, *reduce.__all__, *shape.__all__,
    "bilinear", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "batch_norm", "group_norm", "instance_norm", "layer_norm",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "max_pool1d", "max_pool2d", "pixel_shuffle",
    "pixel_unshuffle",
    "binary_cross_entropy_with_logits", "log_softmax", "softmax",
]

# Functions that are also Tensor methods (x.exp(), x.sum(1), x.view(2, 3), ...).
_METHOD_NAMES = """
add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow neg
exp exp2 expm1 log log2 log10 log1p sqrt rsqrt reciprocal square sin cos tan asin acos atan sinh cosh
tanh sigmoid erf abs relu sign floor ceil trunc frac round isnan isinf isfinite logical_not
logical_and logical_or logical_xor bitwise_not clamp clip clamp_min clamp_max where maximum minimum
fmax fmin eq ne lt le gt ge greater greater_equal less less_equal not_equal equal allclose isclose
addcmul addcdiv lerp atan2
sum nansum mean nanmean var std max min amax amin aminmax argmax argmin sort
argsort topk kthvalue median logsumexp norm renorm cumsum cumprod prod all any count_nonzero unique bincount
reshape view view_as reshape_as permute transpose swapaxes swapdims t movedim moveaxis expand
expand_as broadcast_to squeeze unsqueeze flatten unflatten ravel contiguous narrow split chunk
tensor_split unbind select flip fliplr flipud roll repeat tile repeat_interleave tril triu diag
diag_embed trace
gather scatter scatter_add scatter_reduce index_select index_add index_fill index_put masked_fill
masked_select masked_scatter nonzero argwhere take take_along_dim
matmul mm bmm mv dot inner outer ger addmm baddbmm addmv cross matrix_power
softmax log_softmax
""".split()

METHODS = {name: globals()[name] for name in _METHOD_NAMES}
METHODS["diagonal"] = diagonal_
