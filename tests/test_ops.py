"""Every core op: forward against a NumPy float64 reference and backward by gradcheck (float64),
on random shapes including size-1, empty, broadcast and non-contiguous inputs."""
import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from helpers import host

RNG = np.random.default_rng(7)


def T(a, dtype=ember.float64, grad=False, device="cpu"):
    return ember.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=grad)


# (name, ember function, numpy reference, input sampler)
positive = lambda s: RNG.uniform(0.2, 3.0, s)  # noqa: E731
normal = lambda s: RNG.standard_normal(s)  # noqa: E731
unit = lambda s: RNG.uniform(-0.9, 0.9, s)  # noqa: E731
away_from_zero = lambda s: RNG.choice([-1, 1], s) * RNG.uniform(0.2, 2.0, s)  # noqa: E731

UNARY = [
    ("exp", ember.exp, np.exp, normal),
    ("log", ember.log, np.log, positive),
    ("log1p", ember.log1p, np.log1p, positive),
    ("log2", ember.log2, np.log2, positive),
    ("sqrt", ember.sqrt, np.sqrt, positive),
    ("rsqrt", ember.rsqrt, lambda x: 1 / np.sqrt(x), positive),
    ("abs", ember.abs, np.abs, away_from_zero),
    ("sin", ember.sin, np.sin, normal),
    ("cos", ember.cos, np.cos, normal),
    ("tan", ember.tan, np.tan, unit),
    ("tanh", ember.tanh, np.tanh, normal),
    ("sigmoid", ember.sigmoid, lambda x: 1 / (1 + np.exp(-x)), normal),
    ("relu", ember.relu, lambda x: np.maximum(x, 0), away_from_zero),
    ("neg", ember.neg, np.negative, normal),
    ("reciprocal", ember.reciprocal, np.reciprocal, away_from_zero),
    ("square", ember.square, np.square, normal),
    ("erf", ember.erf, np.vectorize(math.erf, otypes=[float]), normal),
    ("asin", ember.asin, np.arcsin, unit),
    ("atan", ember.atan, np.arctan, normal),
    ("expm1", ember.expm1, np.expm1, normal),
]
SHAPES = [(), (1,), (7,), (3, 1, 5), (0, 4)]


@pytest.mark.parametrize("name,fn,ref,sample", UNARY, ids=[u[0] for u in UNARY])
def test_unary_forward_and_grad(name, fn, ref, sample, device):
    for shape in SHAPES:
        x = sample(shape)
        for dtype, tol in ((ember.float32, 1e-6), (ember.float64, 1e-12)):
            out = fn(T(x, dtype, device=device))
            assert out.dtype == dtype
            np.testing.assert_allclose(host(out), ref(x), rtol=tol * 10, atol=tol)
        if x.size:
            assert gradcheck(fn, (T(x, grad=True, device=device),))
    # non-contiguous input (a transposed view)
    x = sample((4, 3)).T
    np.testing.assert_allclose(host(fn(T(x, device=device).t().t())), ref(x), rtol=1e-10)


def test_unary_second_derivatives():
    for fn in (ember.tanh, ember.sigmoid, ember.exp, ember.log, ember.sin):
        assert gradgradcheck(fn, (T(RNG.uniform(0.3, 2.0, (5,)), grad=True),))
    # relu's backward is its own op: its derivative in g passes gg where x > 0
    x = T(away_from_zero((4, 3)), grad=True)
    assert gradgradcheck(lambda t: ember.relu(t) * t, (x,))
    g = T(RNG.standard_normal((4, 3)), grad=True)
    (gx,) = ember.autograd.grad(ember.relu(x), x, g, create_graph=True)
    np.testing.assert_array_equal(host(gx), host(g) * (host(x) > 0))
    (ggx,) = ember.autograd.grad((gx * gx).sum(), g)
    np.testing.assert_allclose(host(ggx), 2 * host(g) * (host(x) > 0), rtol=1e-12)


BINARY = [
    ("add", lambda a, b: a + b, np.add),
    ("sub", lambda a, b: a - b, np.subtract),
    ("mul", lambda a, b: a * b, np.multiply),
    ("div", lambda a, b: a / b, np.divide),
    ("pow", lambda a, b: a ** b, np.power),
    ("maximum", ember.maximum, np.maximum),
    ("minimum", ember.minimum, np.minimum),
    ("atan2", ember.atan2, np.arctan2),
]
BCAST = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((1,), (5, 1)), ((0, 3), (1, 3))]


@pytest.mark.parametrize("name,fn,ref", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcast_forward_and_grad(name, fn, ref, device):
    for sa, sb in BCAST:
        a = RNG.uniform(0.5, 2.0, sa)
        b = RNG.uniform(0.5, 2.0, sb) * RNG.choice([-1, 1], sb) if name != "pow" else RNG.uniform(-2, 2, sb)
        out = fn(T(a, device=device), T(b, device=device))
        np.testing.assert_allclose(host(out), ref(a, b), rtol=1e-12)
        if out.numel():
            ta, tb = T(a, grad=True, device=device), T(b, grad=True, device=device)
            assert gradcheck(fn, (ta, tb))
            # gradients come back with each input's own (un-broadcast) shape
            fn(ta, tb).sum().backward()
            assert ta.grad.shape == sa and tb.grad.shape == sb


def test_scalar_operands_and_reflected_ops():
    x = T([1.0, 2.0], grad=True)
    y = 2 - x * 3 + 1 / x - x ** 2 + 2 ** x
    expect = 2 - 3 * np.array([1, 2.0]) + 1 / np.array([1, 2.0]) - np.array([1, 4.0]) + 2 ** np.array([1, 2.0])
    np.testing.assert_allclose(host(y), expect)
    assert gradcheck(lambda t: 2 - t * 3 + 1 / t - t ** 2 + 2 ** t, (x,))


def test_clamp_where_and_comparisons():
    x = RNG.standard_normal((4, 5))
    t = T(x, grad=True)
    np.testing.assert_allclose(host(t.clamp(-0.5, 0.5)), np.clip(x, -0.5, 0.5))
    np.testing.assert_allclose(host(t.clamp(min=0)), np.maximum(x, 0))
    assert gradcheck(lambda v: v.clamp(-0.5, 0.5), (t,))
    np.testing.assert_allclose(host(ember.where(t > 0, t, t * 2)), np.where(x > 0, x, 2 * x))
    assert gradcheck(lambda v: ember.where(v > 0, v, v * 2), (t,))
    assert (t > 0).dtype == ember.bool
    np.testing.assert_array_equal(host(t >= 0.1), x >= 0.1)
    np.testing.assert_array_equal(host((t > 0) & (t < 1)), (x > 0) & (x < 1))
    with pytest.raises(RuntimeError, match="At least one"):
        t.clamp()


REDUCE_SHAPES = [(5,), (3, 4), (2, 3, 4), (1, 6, 1)]


@pytest.mark.parametrize("shape", REDUCE_SHAPES)
def test_sum_mean_var_std(shape, device):
    x = RNG.standard_normal(shape)
    t = T(x, device=device)
    dims = [None, 0, -1] + ([(0, -1)] if len(shape) > 1 else [])
    for d in dims:
        nd = d if d is None or isinstance(d, int) else tuple(d)
        for keep in (False, True):
            np.testing.assert_allclose(host(t.sum(d, keepdim=keep) if d is not None else t.sum()),
                                       x.sum(axis=nd, keepdims=keep if d is not None else False), atol=1e-12)
            np.testing.assert_allclose(host(t.mean(d, keepdim=keep) if d is not None else t.mean()),
                                       x.mean(axis=nd, keepdims=keep if d is not None else False), atol=1e-12)
        n = x.size if d is None else (x.shape[d] if isinstance(d, int) else x.shape[0] * x.shape[-1])
        if n > 1:
            np.testing.assert_allclose(host(t.var(d) if d is not None else t.var()), x.var(axis=nd, ddof=1), atol=1e-12)
            biased = ember.std(t, d, unbiased=False) if d is not None else t.std(unbiased=False)
            np.testing.assert_allclose(host(biased), x.std(axis=nd), atol=1e-12)
            np.testing.assert_allclose(host(t.var(d, correction=0) if d is not None else t.var(correction=0)),
                                       x.var(axis=nd), atol=1e-12)
    tg = T(x, grad=True, device=device)
    assert gradcheck(lambda v: v.sum(-1), (tg,))
    assert gradcheck(lambda v: v.mean(0, keepdim=True), (tg,))
    if x.size > 1:
        assert gradcheck(lambda v: v.var(), (tg,))
        assert gradcheck(lambda v: v.std(-1) if v.shape[-1] > 1 else v.std(), (tg,))


def test_max_min_argmax_topk_sort():
    x = RNG.standard_normal((4, 6))
    t = T(x, grad=True)
    v, i = t.max(1)
    np.testing.assert_allclose(host(v), x.max(1))
    np.testing.assert_array_equal(host(i), x.argmax(1))
    assert i.dtype == ember.int64
    v, i = ember.min(t, dim=0, keepdim=True)
    assert v.shape == (1, 6) and host(i).tolist() == [x.argmin(0).tolist()]
    assert t.max().item() == x.max()
    assert gradcheck(lambda a: a.max(1).values, (t,))
    assert gradcheck(lambda a: a.amax(), (t,))
    np.testing.assert_array_equal(host(t.argmax()), x.argmax())
    vals, _idx = t.topk(3, dim=1)
    np.testing.assert_allclose(host(vals), -np.sort(-x, 1)[:, :3])
    assert gradcheck(lambda a: a.topk(2, dim=1).values, (t,))
    s, _si = t.sort(0, descending=True)
    np.testing.assert_allclose(host(s), -np.sort(-x, 0))
    np.testing.assert_array_equal(host(t.argsort(1)), np.argsort(x, 1, kind="stable"))
    # ties share the gradient equally in full reductions
    tie = T([1.0, 3.0, 3.0], grad=True)
    tie.max().backward()
    np.testing.assert_allclose(host(tie.grad), [0, 0.5, 0.5])
    with pytest.raises(RuntimeError, match="numel"):
        ember.zeros(0).max()


def test_logsumexp_norm_cumsum_prod():
    x = RNG.standard_normal((3, 5))
    t = T(x, grad=True)
    ref = np.log(np.exp(x).sum(1))
    np.testing.assert_allclose(host(t.logsumexp(1)), ref)
    big = T([1000.0, 1000.0])
    assert abs(big.logsumexp(0).item() - (1000 + math.log(2))) < 1e-9
    assert gradcheck(lambda a: a.logsumexp(1), (t,))
    np.testing.assert_allclose(host(t.norm()), np.linalg.norm(x))
    np.testing.assert_allclose(host(t.norm(p=1, dim=1)), np.abs(x).sum(1))
    assert gradcheck(lambda a: a.norm(dim=0), (t,))
    np.testing.assert_allclose(host(t.cumsum(1)), np.cumsum(x, 1))
    assert gradcheck(lambda a: a.cumsum(0), (t,))
    np.testing.assert_allclose(host(t.prod(1)), np.prod(x, 1))
    assert gradcheck(lambda a: a.prod(1), (t,))


def test_views_and_layout():
    x = RNG.standard_normal((2, 3, 4))
    t = T(x, grad=True)
    np.testing.assert_array_equal(host(t.view(6, 4)), x.reshape(6, 4))
    np.testing.assert_array_equal(host(t.reshape(-1)), x.reshape(-1))
    np.testing.assert_array_equal(host(t.permute(2, 0, 1)), x.transpose(2, 0, 1))
    np.testing.assert_array_equal(host(t.transpose(0, 2)), x.swapaxes(0, 2))
    np.testing.assert_array_equal(host(t.flatten(1)), x.reshape(2, 12))
    np.testing.assert_array_equal(host(t.unflatten(2, (2, 2))), x.reshape(2, 3, 2, 2))
    np.testing.assert_array_equal(host(t[:, :1].squeeze(1)), x[:, 0])
    np.testing.assert_array_equal(host(t.unsqueeze(-1)), x[..., None])
    np.testing.assert_array_equal(host(t[:, :1].expand(2, 5, 4)), np.broadcast_to(x[:, :1], (2, 5, 4)))
    np.testing.assert_array_equal(host(t.repeat(2, 1, 3)), np.tile(x, (2, 1, 3)))
    np.testing.assert_array_equal(host(t.flip(1)), x[:, ::-1])
    np.testing.assert_array_equal(host(t.T), x.T)
    for f in (lambda a: a.view(6, 4) * 2, lambda a: a.permute(1, 2, 0), lambda a: a[:, :1].expand(2, 5, 4),
              lambda a: a.repeat(2, 1, 3), lambda a: a.flip(0, 2), lambda a: a.transpose(1, 2).contiguous(),
              lambda a: a.flatten(), lambda a: a.roll(1, 2)):
        assert gradcheck(f, (t,))
    with pytest.raises(RuntimeError, match="invalid for input of size"):
        t.view(5, 5)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.transpose(0, 2).view(-1)
    assert t.transpose(0, 2).reshape(-1).shape == (24,)


def test_cat_stack_split_chunk():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((4, 3))
    ta, tb = T(a, grad=True), T(b, grad=True)
    np.testing.assert_array_equal(host(ember.cat([ta, tb])), np.concatenate([a, b]))
    assert gradcheck(lambda x, y: ember.cat([x, y], 0) * 2, (ta, tb))
    s = ember.stack([ta, ta * 2], dim=1)
    assert s.shape == (2, 2, 3)
    assert gradcheck(lambda x: ember.stack([x, x * 2], dim=-1), (ta,))
    parts = tb.split(3)
    assert [p.shape[0] for p in parts] == [3, 1]
    assert [p.shape[1] for p in tb.split([1, 2], dim=1)] == [1, 2]
    assert [c.shape[0] for c in ember.chunk(tb, 3)] == [2, 2]
    assert gradcheck(lambda x: x.split(3)[1] * 3, (tb,))
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        ember.cat([ta, T(np.zeros((2, 2)))])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        ember.stack([ta, tb])


@pytest.mark.parametrize("shape,dim", [((3, 2, 5), 0), ((3, 2, 5), -1), ((1, 4), 0), ((2, 0, 3), 2), ((0, 3), 0)])
def test_unbind_and_iteration(shape, dim):
    a = RNG.standard_normal(shape)
    ta = T(a, grad=True)
    parts = ember.unbind(ta, dim)
    assert len(parts) == a.shape[dim]
    for i, p in enumerate(parts):
        np.testing.assert_array_equal(host(p), np.take(a, i, axis=dim))
    if a.shape[dim] >= 2 and a.size:
        # slices that get no gradient count as zeros; a slice used twice accumulates
        assert gradcheck(lambda x: ember.unbind(x, dim)[0] * 3 + ember.unbind(x, dim)[-1].exp(), (ta,))
        assert gradgradcheck(lambda x: ember.unbind(x, dim)[1] ** 2, (ta,))
        q, k, *_ = ta  # iteration unbinds dim 0
        (q * k).sum().backward()
        ref = np.zeros(shape)
        ref[0], ref[1] = a[1], a[0]
        np.testing.assert_allclose(host(ta.grad), ref, rtol=1e-12)
    with pytest.raises(IndexError, match="no dimensions"):
        ember.unbind(T(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(T(1.0))


def test_getitem_setitem():
    x = RNG.standard_normal((5, 4, 3))
    t = T(x, grad=True)
    idx_cases = [1, (slice(1, 4), 2), (Ellipsis, 0), (None, 2), (slice(None, None, 2),),
                 (ember.tensor([0, 2, 2]),), (ember.tensor([True, False, True, False, True]),),
                 (slice(None), ember.tensor([3, 0]), 1)]
    for idx in idx_cases:
        np_idx = tuple(np.asarray(i) if isinstance(i, ember.Tensor) else i for i in
                       (idx if isinstance(idx, tuple) else (idx,)))
        np.testing.assert_array_equal(host(t[idx]), x[np_idx])
        assert gradcheck(lambda a, idx=idx: a[idx] * 1.5, (t,))
    # repeated integer indices accumulate their gradients
    t[ember.tensor([0, 0, 1])].sum().backward()
    assert host(t.grad)[0].sum() == 2 * 12 and host(t.grad)[1].sum() == 12
    with pytest.raises(IndexError):
        t[7]
    y = T(np.zeros((3, 3)))
    y[1] = 5.0
    y[:, 0] = T([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(host(y), [[1, 0, 0], [2, 5, 5], [3, 0, 0]])
    # setitem on an intermediate is differentiable for both sides
    v = T([7.0, 8.0], grad=True)

    def put(a, v):
        b = a * 1
        b[0, :2, 0] = v
        return b

    assert gradcheck(put, (t, v))


def test_gather_scatter_index_select_masked_fill_one_hot():
    x = RNG.standard_normal((3, 4))
    t = T(x, grad=True)
    idx = ember.tensor([[0, 3], [1, 1], [2, 0]])
    np.testing.assert_array_equal(host(t.gather(1, idx)), np.take_along_axis(x, idx.numpy(), 1))
    assert gradcheck(lambda a: a.gather(1, idx), (t,))
    src = T(RNG.standard_normal((3, 2)), grad=True)
    out = ember.zeros(3, 4, dtype=ember.float64).scatter_add(1, idx, src)
    ref = np.zeros((3, 4))
    for i in range(3):
        for j in range(2):
            ref[i, idx.numpy()[i, j]] += src.detach().numpy()[i, j]
    np.testing.assert_allclose(host(out), ref)
    assert gradcheck(lambda s: ember.zeros(3, 4, dtype=ember.float64).scatter_add(1, idx, s), (src,))
    sel = ember.tensor([2, 0, 2])
    np.testing.assert_array_equal(host(t.index_select(0, sel)), x[[2, 0, 2]])
    assert gradcheck(lambda a: a.index_select(1, sel), (t,))
    mask = t > 0
    np.testing.assert_array_equal(host(t.masked_fill(mask, -1.0)), np.where(x > 0, -1, x))
    assert gradcheck(lambda a: a.masked_fill(mask, 0.0), (t,))
    oh = F.one_hot(ember.tensor([0, 2, 1]), 4)
    np.testing.assert_array_equal(host(oh), np.eye(4, dtype=np.int64)[[0, 2, 1]])
    with pytest.raises(IndexError):
        t.index_select(0, ember.tensor([5]))
    with pytest.raises(RuntimeError, match=r"int64|Long"):
        t.gather(1, ember.tensor([[0.0]]))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add_accumulates_repeated_and_negative_indices(dim):
    x = RNG.standard_normal((4, 5, 3))
    n = x.shape[dim]
    index = np.array([n - 1, 0, -1, 2, 0, n - 1, 1])  # repeats, and -1 naming the same row as n - 1
    src_shape = list(x.shape)
    src_shape[dim] = len(index)
    src = RNG.standard_normal(src_shape)
    ref = x.copy()
    moved_ref, moved_src = np.moveaxis(ref, dim, 0), np.moveaxis(src, dim, 0)
    for i, k in enumerate(index):  # one slice at a time, in order
        moved_ref[k] += 2.0 * moved_src[i]
    t, s = T(x, grad=True), T(src, grad=True)
    out = t.index_add(dim, ember.tensor(index), s, alpha=2.0)
    np.testing.assert_allclose(host(out), ref, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a, b: a.index_add(dim, ember.tensor(index), b, alpha=2.0), (t, s))
    with pytest.raises(IndexError):
        t.index_add(dim, ember.tensor([n]), T(np.take(src, [0], axis=dim)))


MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)),
                 ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((1, 1), (1, 1)), ((0, 3), (3, 2)),
                 ((7, 13), (13, 9))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_forward_and_grad(sa, sb, device):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    for dtype, tol in ((ember.float32, 1e-5), (ember.float64, 1e-12)):
        out = T(a, dtype, device=device) @ T(b, dtype, device=device)
        np.testing.assert_allclose(host(out), a @ b, rtol=tol * 10, atol=tol * 10)
    ta, tb = T(a, grad=True, device=device), T(b, grad=True, device=device)
    if (a @ b).size:
        assert gradcheck(ember.matmul, (ta, tb))


def test_matmul_transposed_views_and_errors():
    a = RNG.standard_normal((6, 5))
    b = RNG.standard_normal((6, 4))
    ta, tb = T(a, grad=True), T(b, grad=True)
    np.testing.assert_allclose(host(ta.t() @ tb), a.T @ b, rtol=1e-12)
    np.testing.assert_allclose(host(ta[::2].t() @ tb[::2]), a[::2].T @ b[::2], rtol=1e-12)
    assert gradcheck(lambda x, y: x.t() @ y, (ta, tb))
    assert gradgradcheck(lambda x, y: x.t() @ y, (ta, tb))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        ta @ tb
    with pytest.raises(RuntimeError, match="bmm"):
        ember.bmm(ta, tb)
    np.testing.assert_array_equal(host(ember.tensor([[1, 2]]) @ ember.tensor([[3], [4]])), [[11]])


def test_einsum_and_misc_linalg():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))
    ta, tb = T(a, grad=True), T(b, grad=True)
    np.testing.assert_allclose(host(ember.einsum("ij,jk->ik", ta, tb)), a @ b)
    assert gradcheck(lambda x, y: ember.einsum("ij,jk->ik", x, y), (ta, tb))
    assert gradcheck(lambda x: ember.einsum("ij->j", x), (ta,))
    np.testing.assert_allclose(host(ember.outer(ta[0], tb[:, 0])), np.outer(a[0], b[:, 0]))


def test_pad_tril_diag_and_friends():
    x = RNG.standard_normal((2, 3, 4))
    t = T(x, grad=True)
    np.testing.assert_array_equal(host(F.pad(t, (1, 2))), np.pad(x, ((0, 0), (0, 0), (1, 2))))
    np.testing.assert_array_equal(host(F.pad(t, (1, 1, 2, 0), value=3.0)),
                                  np.pad(x, ((0, 0), (2, 0), (1, 1)), constant_values=3))
    np.testing.assert_array_equal(host(F.pad(t, (2, 2), mode="reflect")),
                                  np.pad(x, ((0, 0), (0, 0), (2, 2)), "reflect"))
    np.testing.assert_array_equal(host(F.pad(t, (1, 3), mode="replicate")),
                                  np.pad(x, ((0, 0), (0, 0), (1, 3)), "edge"))
    np.testing.assert_array_equal(host(F.pad(t, (1, 2), mode="circular")),
                                  np.pad(x, ((0, 0), (0, 0), (1, 2)), "wrap"))
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert gradcheck(lambda a, mode=mode: F.pad(a, (1, 2, 1, 0), mode=mode), (t,))
    m = T(RNG.standard_normal((4, 4)), grad=True)
    np.testing.assert_array_equal(host(m.tril()), np.tril(host(m)))
    np.testing.assert_array_equal(host(m.triu(1)), np.triu(host(m), 1))
    assert gradcheck(lambda a: a.tril(-1), (m,))
    np.testing.assert_array_equal(host(m.diag()), np.diag(host(m)))
    v = T([1.0, 2.0, 3.0], grad=True)
    np.testing.assert_array_equal(host(ember.diag(v)), np.diag([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(host(ember.diag(v, 1)), np.diag([1.0, 2.0, 3.0], 1))
    assert gradcheck(lambda a: ember.diag(a, -1), (v,))


def test_dtype_moves_are_differentiable():
    x = T([1.0, 2.0], grad=True)
    y = (x.float() * 2).double().sum()
    y.backward()
    assert x.grad.dtype == ember.float64
    np.testing.assert_array_equal(host(x.grad), [2.0, 2.0])


def test_mixing_devices_raises_when_cuda_is_present():
    if not ember.cuda.is_available():
        pytest.skip("CUDA test skipped: needs a GPU")
    with pytest.raises(RuntimeError, match="same device"):
        ember.ones(2) + ember.ones(2, device="cuda")


def test_top_level_cosine_similarity():
    # torch.cosine_similarity is F.cosine_similarity under the top-level name the notes use
    a, b = RNG.standard_normal((3, 5)), RNG.standard_normal((1, 5))
    ta, tb = T(a, grad=True), T(b, grad=True)
    ref = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(host(ember.cosine_similarity(ta, tb)), ref, rtol=1e-12)
    assert ember.cosine_similarity(ta[0], tb[0], dim=0).shape == ()
    assert gradcheck(lambda x, y: ember.cosine_similarity(x, y), (ta, tb))


@pytest.mark.parametrize("p, dim", [(2, 0), (1, 1), (3.0, -1)])
def test_renorm_max_norm(p, dim):
    # max-norm regularisation (lecture notes 004, 3.4.2): slices over `dim` with a p-norm above
    # maxnorm are scaled to norm maxnorm; the others are left alone
    x = RNG.standard_normal((4, 3, 5)) * RNG.uniform(0.1, 3.0, size=(4, 1, 1))
    t = T(x, grad=True)
    moved = np.moveaxis(x, dim, 0).reshape(x.shape[dim], -1)
    norms = (np.abs(moved) ** p).sum(axis=1) ** (1 / p)
    ordered = np.sort(norms)  # a bound between two norms keeps every slice off the kink
    maxnorm = float(ordered[len(norms) // 2 - 1] + ordered[len(norms) // 2]) / 2
    scale = np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    shape = [1] * x.ndim
    shape[dim] = -1
    expected = x * scale.reshape(shape)
    np.testing.assert_allclose(host(ember.renorm(t, p, dim, maxnorm)), expected, rtol=1e-12)
    assert gradcheck(lambda a: a.renorm(p, dim, maxnorm), (t,))
    w = T(x)
    assert w.renorm_(p, dim, maxnorm) is w
    np.testing.assert_allclose(host(w), expected, rtol=1e-12)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ember.renorm(T([1.0, 2.0]), 2, 0, 1.0)
