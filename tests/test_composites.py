"""The composites of the kernel-backed ops (``OpClass.composite``: the forward in Tensor ops).

For each op, in float64 on odd sizes: (a) the kernel forward equals the composite's; (b) gradcheck
and gradgradcheck of the op (the second order goes through the composite, which the engine
differentiates when the backward is recorded); (c) the first-order gradient of the kernel
backward equals the composite's autograd gradient. Also: the dispatch itself (composite only
with create_graph) and empty inputs.
"""
from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.autograd import grad as autograd_grad
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.activation import _Gelu, _Silu
from ember.ops.attention import _SDPA
from ember.ops.normalization import _BatchNormTrain, _GroupNorm, _LayerNorm
from ember.ops.rnn_cell import _GRUCell, _LSTMCell, _LSTMLayer
from ember.ops.softmax import _BCEWithLogits, _CrossEntropy, _Softmax

RNG = np.random.default_rng(7)


def t(*shape, grad=True, positive=False):
    a = RNG.standard_normal(shape)
    return ember.tensor(np.abs(a) + 0.5 if positive else a, dtype=ember.float64, requires_grad=grad)


def _targets():
    return np.array([0, 4, 2, -100], dtype=np.int64)


def _mask(b, L, S):
    m = RNG.standard_normal((b, L, S))
    m[:, :, 0] = 0.0
    m[:, 1:, -1] = -np.inf
    return m


# (name, op class, a function making apply's arguments): float64 Tensors where apply takes them
CASES = [
    ("batch_norm", _BatchNormTrain, lambda: (t(3, 2, 5), t(2), t(2), None, None, 0.1, 1e-5)),
    ("batch_norm_noaffine", _BatchNormTrain, lambda: (t(2, 1, 1), None, None, None, None, 0.1, 1e-5)),
    ("layer_norm", _LayerNorm, lambda: (t(3, 5), t(5), t(5), 1e-5)),
    ("layer_norm_row", _LayerNorm, lambda: (t(1, 3), None, t(3), 1e-5)),
    ("group_norm", _GroupNorm, lambda: (t(2, 6, 3), t(6), t(6), 3, 1e-5)),
    ("group_norm_single", _GroupNorm, lambda: (t(1, 2, 1), t(2), None, 1, 1e-5)),
    ("softmax", _Softmax, lambda: (t(3, 5), 1, False)),
    ("softmax_dim0", _Softmax, lambda: (t(3, 1, 2), 0, False)),
    ("softmax_one", _Softmax, lambda: (t(1, 1), 1, False)),
    ("log_softmax", _Softmax, lambda: (t(3, 5), 1, True)),
    ("cross_entropy_rows", _CrossEntropy, lambda: (t(4, 5), _targets(), None, -100, 0.0, None)),
    ("cross_entropy_mean", _CrossEntropy,
     lambda: (t(4, 5), _targets(), np.abs(RNG.standard_normal(5)), -100, 0.1, 2.5)),
    ("cross_entropy_one", _CrossEntropy,
     lambda: (t(1, 1), np.zeros(1, dtype=np.int64), None, -100, 0.2, 1.0)),
    ("bce_with_logits", _BCEWithLogits, lambda: (t(3, 4), t(3, 4), None, None)),
    ("bce_with_logits_weights", _BCEWithLogits,
     lambda: (t(3, 4), t(3, 4), np.abs(RNG.standard_normal((3, 4))), np.abs(RNG.standard_normal(4)))),
    ("sdpa", _SDPA, lambda: (t(2, 3, 4), t(2, 5, 4), t(2, 5, 3), None, False, 0.5)),
    ("sdpa_causal", _SDPA, lambda: (t(1, 3, 2), t(1, 3, 2), t(1, 3, 1), None, True, 0.7)),
    ("sdpa_mask", _SDPA, lambda: (t(2, 3, 4), t(2, 5, 4), t(2, 5, 3), _mask(2, 3, 5), False, 0.5)),
    ("lstm_cell", _LSTMCell, lambda: (t(3, 8), t(3, 8), t(3, 2))),
    ("lstm_cell_one", _LSTMCell, lambda: (t(1, 4), t(1, 4), t(1, 1))),
    ("gru_cell", _GRUCell, lambda: (t(3, 6), t(3, 6), t(3, 2))),
    ("gru_cell_one", _GRUCell, lambda: (t(1, 3), t(1, 3), t(1, 1))),
    ("lstm_layer", _LSTMLayer, lambda: (t(3, 2, 8), t(2, 2), t(2, 2), t(8, 2), False)),
    ("lstm_layer_reverse", _LSTMLayer, lambda: (t(3, 1, 4), t(1, 1), t(1, 1), t(4, 1), True)),
    ("gelu", _Gelu, lambda: (t(7), "none")),
    ("gelu_tanh", _Gelu, lambda: (t(2, 3), "tanh")),
    ("silu", _Silu, lambda: (t(7),)),
]
IDS = [c[0] for c in CASES]


def _outs(r):
    return r if isinstance(r, tuple) else (r,)


def _tensor_args(args):
    return [a for a in args if isinstance(a, ember.Tensor) and a.requires_grad]


def _as_function(op, args):
    """f(*grad tensors) = op.apply(args with those tensors substituted)."""
    slots = [i for i, a in enumerate(args) if isinstance(a, ember.Tensor) and a.requires_grad]

    def f(*ts):
        full = list(args)
        for i, x in zip(slots, ts):
            full[i] = x
        return op.apply(*full)

    return f


@pytest.mark.parametrize("name, op, make", CASES, ids=IDS)
def test_kernel_forward_matches_composite(name, op, make):
    args = make()
    with ember.no_grad():
        kernel, composite = _outs(op.apply(*args)), _outs(op.composite(*args))
    assert len(kernel) == len(composite)
    for k, c in zip(kernel, composite):
        assert tuple(k.shape) == tuple(c.shape)
        np.testing.assert_allclose(k.numpy(), c.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, op, make", CASES, ids=IDS)
def test_gradcheck_and_gradgradcheck_through_the_composite(name, op, make):
    args = make()
    f, inputs = _as_function(op, args), tuple(_tensor_args(args))
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


@pytest.mark.parametrize("name, op, make", CASES, ids=IDS)
def test_kernel_gradient_matches_composite_gradient(name, op, make):
    args = make()
    inputs = _tensor_args(args)
    kernel = _outs(op.apply(*args))
    weights = [ember.tensor(RNG.standard_normal(tuple(o.shape)), dtype=ember.float64) for o in kernel]
    kernel_grads = autograd_grad(kernel, inputs, weights, allow_unused=True)
    composite_grads = autograd_grad(_outs(op.composite(*args)), inputs, weights, allow_unused=True)
    for k, c in zip(kernel_grads, composite_grads):
        np.testing.assert_allclose(k.numpy(), c.numpy(), rtol=1e-9, atol=1e-11)


def test_every_kernel_op_has_a_composite():
    for _, op, _ in CASES:
        assert callable(getattr(op, "composite", None)), op.__name__


def test_the_composite_runs_only_when_the_backward_is_recorded(monkeypatch):
    calls = []
    original = _LayerNorm.composite

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(_LayerNorm, "composite", staticmethod(counting))
    x = t(3, 4)
    (gx,) = autograd_grad(_LayerNorm.apply(x, None, None, 1e-5).square().sum(), [x])
    assert not calls and not gx.requires_grad
    (gx,) = autograd_grad(_LayerNorm.apply(x, None, None, 1e-5).square().sum(), [x], create_graph=True)
    assert calls and gx.requires_grad


def test_the_recorded_backward_leaves_the_inputs_history_and_hooks_alone():
    """The composite is differentiated against stand-ins of the inputs: a hook on an input sees
    its whole gradient once, not the op's share first."""
    x = t(3, 4)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
    out = ember.nn.functional.layer_norm(y, (4,)) * t(3, 4, grad=False)
    (gx,) = autograd_grad(out.sum(), [x], create_graph=True)
    assert len(seen) == 1
    (ggx,) = autograd_grad(gx.square().sum(), [x])
    assert tuple(ggx.shape) == (3, 4)


@pytest.mark.parametrize("make", [
    lambda: (_LayerNorm, (t(0, 4), t(4), t(4), 1e-5)),
    lambda: (_LayerNorm, (t(3, 0), None, None, 1e-5)),
    lambda: (_GroupNorm, (t(0, 4, 3), t(4), t(4), 2, 1e-5)),
    lambda: (_GroupNorm, (t(2, 4, 0), t(4), t(4), 2, 1e-5)),
    lambda: (_Softmax, (t(0, 3), 1, False)),
    lambda: (_Gelu, (t(0), "none")),
    lambda: (_Silu, (t(0, 2),)),
    lambda: (_SDPA, (t(2, 3, 4), t(2, 0, 4), t(2, 0, 3), None, False, 0.5)),
], ids=["layer_norm_rows", "layer_norm_cols", "group_norm_batch", "group_norm_spatial", "softmax",
        "gelu", "silu", "sdpa_no_keys"])
def test_empty_inputs(make):
    op, args = make()
    inputs = _tensor_args(args)
    out = op.apply(*args)
    np.testing.assert_array_equal(out.detach().numpy(), op.composite(*args).detach().numpy())
    for create_graph in (False, True):
        grads = autograd_grad(op.apply(*args).sum(), inputs, create_graph=create_graph,
                              allow_unused=True)
        for x, g in zip(inputs, grads):
            if g is not None:
                assert tuple(g.shape) == tuple(x.shape)
                assert not np.isnan(g.detach().numpy()).any()
                if x.numel():
                    np.testing.assert_array_equal(g.detach().numpy(), 0)


def test_public_functions_gradgradcheck():
    F = ember.nn.functional
    x, w, b = t(3, 2, 5), t(2), t(2)
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    assert gradgradcheck(lambda x: F.cross_entropy(x, ember.tensor([1, 0, 2]), label_smoothing=0.1),
                         (t(3, 4),))
    assert gradgradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y), (t(2, 3), t(2, 3)))
    assert gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                         (t(1, 2, 3, 4), t(1, 2, 3, 4), t(1, 2, 3, 2)))
