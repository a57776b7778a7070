"""Activation modules (thin wrappers over ``nn.functional``) and ``MultiheadAttention``.
All map an input of any shape (*) to the same shape unless stated otherwise."""
from __future__ import annotations

from ... import ops
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module, _FunctionalModule


class _InplaceActivation(_FunctionalModule, args=("inplace",)):
    """An activation whose only option is ``inplace``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace)


class Threshold(_FunctionalModule, fn=F.threshold, args=("threshold", "value", "inplace")):
    """As ``torch.nn.Threshold``: ``value`` where ``x <= threshold``, else ``x``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__(threshold, value, inplace)


class ReLU(_InplaceActivation, fn=F.relu):
    """As ``torch.nn.ReLU``: ``max(0, x)``."""


class Hardtanh(_FunctionalModule, fn=F.hardtanh, args=("min_val", "max_val", "inplace")):
    """As ``torch.nn.Hardtanh``: ``x`` clamped to ``[min_val, max_val]``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        if min_val >= max_val:
            raise AssertionError("max_val must be greater than min_val")
        super().__init__(min_val, max_val, inplace)


class ReLU6(Hardtanh):
    """As ``torch.nn.ReLU6``: ``min(max(0, x), 6)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(_FunctionalModule, fn=F.leaky_relu, args=("negative_slope", "inplace")):
    """As ``torch.nn.LeakyReLU``: ``x`` for ``x >= 0``, else ``negative_slope * x``."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__(negative_slope, inplace)


class PReLU(Module):
    """Leaky ReLU with a learnable slope: one (``num_parameters=1``) or one per channel, init 0.25."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(ops.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(_FunctionalModule, args=("lower", "upper", "inplace")):
    """As ``torch.nn.RReLU``: leaky ReLU with a slope drawn from ``U(lower, upper)`` in training,
    ``(lower + upper) / 2`` in evaluation."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__(lower, upper, inplace)

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)


class _AlphaActivation(_FunctionalModule, args=("alpha", "inplace")):
    """ELU and CELU: options ``alpha`` and ``inplace``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha, inplace)


class ELU(_AlphaActivation, fn=F.elu):
    """As ``torch.nn.ELU``: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""


class CELU(_AlphaActivation, fn=F.celu):
    """As ``torch.nn.CELU``: ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""


class SELU(_InplaceActivation, fn=F.selu):
    """As ``torch.nn.SELU``: ``scale * elu(x, alpha)`` with the self-normalizing constants."""


class GELU(_FunctionalModule, fn=F.gelu, args=("approximate",)):
    """``x * Phi(x)``; ``approximate='tanh'`` uses the tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate)


class SiLU(_InplaceActivation, fn=F.silu):
    """As ``torch.nn.SiLU``: ``x * sigmoid(x)``."""


class Mish(_InplaceActivation, fn=F.mish):
    """As ``torch.nn.Mish``: ``x * tanh(softplus(x))``."""


class Hardsigmoid(_InplaceActivation, fn=F.hardsigmoid):
    """As ``torch.nn.Hardsigmoid``: ``clamp(x / 6 + 1 / 2, 0, 1)``."""
    extra_repr = Module.extra_repr  # PyTorch's repr shows no options here


class Hardswish(_InplaceActivation, fn=F.hardswish):
    """As ``torch.nn.Hardswish``: ``x * hardsigmoid(x)``."""
    extra_repr = Module.extra_repr  # PyTorch's repr shows no options here


class Sigmoid(_FunctionalModule, fn=F.sigmoid):
    """As ``torch.nn.Sigmoid``: ``1 / (1 + exp(-x))``."""


class Tanh(_FunctionalModule, fn=F.tanh):
    """As ``torch.nn.Tanh``."""


class Softplus(_FunctionalModule, fn=F.softplus, args=("beta", "threshold")):
    """As ``torch.nn.Softplus``: ``log(1 + exp(beta * x)) / beta``, linear where
    ``beta * x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta, threshold)


class Softsign(_FunctionalModule, fn=F.softsign):
    """As ``torch.nn.Softsign``: ``x / (1 + |x|)``."""


class _Shrink(_FunctionalModule, args=("lambd",)):
    """Soft and hard shrinkage: one option ``lambd``, shown bare in the repr as PyTorch does."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Softshrink(_Shrink, fn=F.softshrink):
    """As ``torch.nn.Softshrink``: ``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``,
    else 0."""


class Hardshrink(_Shrink, fn=F.hardshrink):
    """As ``torch.nn.Hardshrink``: ``x`` where ``|x| > lambd``, else 0."""


class Tanhshrink(_FunctionalModule, fn=F.tanhshrink):
    """As ``torch.nn.Tanhshrink``: ``x - tanh(x)``."""


class LogSigmoid(_FunctionalModule, fn=F.logsigmoid):
    """As ``torch.nn.LogSigmoid``: ``log(sigmoid(x))``."""


class GLU(_FunctionalModule, fn=F.glu, args=("dim",)):
    """(*, 2M, *) -> (*, M, *) along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim)


class _SoftmaxBase(_FunctionalModule, args=("dim",)):
    """Softmax, LogSoftmax and Softmin: one option ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__(dim)


class Softmax(_SoftmaxBase, fn=F.softmax):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``."""


class LogSoftmax(_SoftmaxBase, fn=F.log_softmax):
    """As ``torch.nn.LogSoftmax``: ``log(softmax(x))`` along ``dim``."""


class Softmin(_SoftmaxBase, fn=F.softmin):
    """As ``torch.nn.Softmin``: ``softmax(-x)`` along ``dim``."""


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W)."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al.): query (L, N, E), key (S, N, kdim), value (S, N, vdim)
    (batch first with ``batch_first=True``; unbatched (L, E) also works) -> output (L, N, E) and,
    with ``need_weights``, weights (N, L, S) averaged over heads (or (N, H, L, S)).

    Parameters as PyTorch: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E) when key/value have
    the embedding size, else ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
    ``v_proj_weight`` (E, vdim); ``out_proj`` a Linear(E, E); optional ``bias_k``/``bias_v`` (1, 1, E).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")

        def param(*shape):
            return Parameter(ops.empty(*shape, device=device, dtype=dtype))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = param(1, 1, embed_dim)
            self.bias_v = param(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        batched = query.ndim == 3
        if self.batch_first and batched:
            # sequence-first inside; keep identity for self-attention so one projection GEMM serves q/k/v
            if key is value:
                if query is key:
                    query = key = value = query.transpose(0, 1)
                else:
                    query, key = query.transpose(0, 1), key.transpose(0, 1)
                    value = key
            else:
                query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight,
            self.out_proj.bias, training=self.training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        return out, weights
