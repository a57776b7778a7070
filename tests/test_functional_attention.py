"""Tensor-level scaled dot-product attention (ember/ops/attention.py).

Reference: NumPy float64 softmax(q k^T * scale + mask) v, the mask a bool (True = attend) or
additive float mask, causal masking top-left aligned (key j hidden from query i when j > i).
"""
from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.attention import scaled_dot_product_attention as sdpa
from ember.ops.table import sdpa_ref as ref_sdpa
from helpers import host, tensor

SHAPES = [
    # (lead, L, S, E, Ev)
    ((2, 3), 5, 6, 4, 7),
    ((), 4, 4, 8, 8),
    ((1,), 1, 1, 1, 1),
    ((3,), 7, 3, 5, 2),
]


@pytest.mark.parametrize("lead,L,S,E,Ev", SHAPES)
@pytest.mark.parametrize("is_causal", [False, True])
def test_sdpa_matches_reference_and_gradients(lead, L, S, E, Ev, is_causal, device, rng):
    q, k = rng.standard_normal(lead + (L, E)), rng.standard_normal(lead + (S, E))
    v = rng.standard_normal(lead + (S, Ev))
    out = sdpa(tensor(q, device), tensor(k, device), tensor(v, device), is_causal=is_causal)
    assert out.shape == lead + (L, Ev)
    np.testing.assert_allclose(host(out), ref_sdpa(q, k, v, is_causal=is_causal), rtol=1e-10, atol=1e-12)
    args = tuple(tensor(a, device, True) for a in (q, k, v))
    f = lambda q, k, v: sdpa(q, k, v, is_causal=is_causal, scale=0.7)
    assert gradcheck(f, args)
    assert gradgradcheck(f, args)


def test_sdpa_bool_and_float_masks_broadcast(device, rng):
    q, k, v = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 6, 4)), rng.standard_normal((2, 3, 6, 3))
    bool_mask = rng.uniform(size=(5, 6)) > 0.4
    bool_mask[:, 0] = True  # every query keeps a key
    out = sdpa(tensor(q, device), tensor(k, device), tensor(v, device),
               attn_mask=ember.tensor(bool_mask, device=device))
    np.testing.assert_allclose(host(out), ref_sdpa(q, k, v, bool_mask), rtol=1e-10, atol=1e-12)
    float_mask = rng.standard_normal((2, 1, 5, 6))  # per sample, shared by the heads
    out = sdpa(tensor(q, device), tensor(k, device), tensor(v, device), attn_mask=tensor(float_mask, device))
    np.testing.assert_allclose(host(out), ref_sdpa(q, k, v, float_mask), rtol=1e-10, atol=1e-12)
    args = tuple(tensor(a, device, True) for a in (q, k, v))
    for m in (ember.tensor(bool_mask, device=device), tensor(float_mask, device)):
        assert gradcheck(lambda q, k, v, m=m: sdpa(q, k, v, attn_mask=m), args)
        assert gradgradcheck(lambda q, k, v, m=m: sdpa(q, k, v, attn_mask=m), args)


def test_sdpa_float_mask_gradient(device, rng):
    q, k, v = (tensor(rng.standard_normal(s), device, True) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 2)))
    mask = tensor(rng.standard_normal((4, 5)), device, True)
    assert gradcheck(lambda q, m: sdpa(q, k, v, attn_mask=m), (q, mask))


def test_sdpa_broadcast_leading_dims_and_gqa(device, rng):
    q, k, v = rng.standard_normal((2, 4, 5, 3)), rng.standard_normal((1, 4, 6, 3)), rng.standard_normal((1, 4, 6, 2))
    out = sdpa(tensor(q, device), tensor(k, device), tensor(v, device))
    np.testing.assert_allclose(host(out), ref_sdpa(q, k, v), rtol=1e-10)
    kg, vg = rng.standard_normal((2, 2, 6, 3)), rng.standard_normal((2, 2, 6, 2))
    out = sdpa(tensor(q, device), tensor(kg, device), tensor(vg, device), enable_gqa=True)
    np.testing.assert_allclose(host(out), ref_sdpa(q, kg.repeat(2, 1), vg.repeat(2, 1)), rtol=1e-10)


def test_sdpa_float32_empty_and_float16(device, rng):
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((3, 16, 8), (3, 20, 8), (3, 20, 8)))
    out = sdpa(*(ember.tensor(a, device=device) for a in (q, k, v)), is_causal=True)
    assert out.dtype == ember.float32
    ref = ref_sdpa(*(a.astype(np.float64) for a in (q, k, v)), is_causal=True)
    np.testing.assert_allclose(host(out), ref, rtol=1e-4, atol=1e-5)
    half = sdpa(*(ember.tensor(a, device=device).half() for a in (q, k, v)))
    assert half.dtype == ember.float16
    empty = sdpa(ember.zeros(0, 2, 4, 3, device=device), ember.zeros(0, 2, 5, 3, device=device),
                 ember.zeros(0, 2, 5, 6, device=device))
    assert empty.shape == (0, 2, 4, 6)


def test_sdpa_dropout_path(device, rng):
    q, k, v = (tensor(rng.standard_normal(s), device, True) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 2)))
    ember.manual_seed(0)
    a = sdpa(q, k, v, dropout_p=0.5)
    ember.manual_seed(0)
    b = sdpa(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(host(a), host(b))  # reproducible under a seed
    assert not np.allclose(host(a), ref_sdpa(*(host(t) for t in (q, k, v))))
    a.sum().backward()
    assert q.grad.shape == q.shape and k.grad.shape == k.shape and v.grad.shape == v.shape
    np.testing.assert_array_equal(host(sdpa(q, k, v, dropout_p=1.0)), 0)


def test_sdpa_errors(device):
    q = ember.zeros(2, 4, 3, device=device)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        sdpa(q, q, q, attn_mask=ember.ones(4, 4, dtype=ember.bool, device=device), is_causal=True)
    with pytest.raises(RuntimeError, match="same embedding dimension"):
        sdpa(q, ember.zeros(2, 4, 5, device=device), q)
    with pytest.raises(RuntimeError, match="same sequence length"):
        sdpa(q, q, ember.zeros(2, 5, 3, device=device))
    with pytest.raises(RuntimeError, match="does not broadcast"):
        sdpa(q, q, q, attn_mask=ember.zeros(3, 4, device=device))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        sdpa(q, q, q, dropout_p=1.5)
