"""An honest surface: every accepted argument does what PyTorch does or raises. out= for each op
family, fmod/remainder/fmax/fmin, the one p-norm, materialize_grads and mark_dirty; the public
namespaces hold only PyTorch's names (and documented extras), each documented."""
import inspect
import math
import warnings

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from ember.autograd import Function, gradcheck
from ember.ops import reduce as _reduce

RNG = np.random.default_rng(11)
NAN, INF = float("nan"), float("inf")


def T(a, dtype=ember.float64, grad=False):
    return ember.tensor(np.asarray(a), dtype=dtype, requires_grad=grad)


def host(t):
    return np.asarray(t.detach())


# ---- out= -------------------------------------------------------------------------------------
a64 = RNG.standard_normal((2, 3))
b64 = RNG.uniform(0.5, 2.0, (2, 3))
m64 = RNG.standard_normal((3, 4))

OUT_CASES = [  # (name, call with out=..., numpy reference)
    ("add", lambda out: ember.add(T(a64), T(b64), alpha=2, out=out), a64 + 2 * b64),
    ("sub", lambda out: ember.sub(T(a64), T(b64), out=out), a64 - b64),
    ("mul", lambda out: ember.mul(T(a64), T(b64), out=out), a64 * b64),
    ("div", lambda out: ember.div(T(a64), T(b64), out=out), a64 / b64),
    ("exp", lambda out: ember.exp(T(a64), out=out), np.exp(a64)),
    ("pow", lambda out: ember.pow(T(b64), 2.5, out=out), b64 ** 2.5),
    ("clamp", lambda out: ember.clamp(T(a64), -0.5, 0.5, out=out), np.clip(a64, -0.5, 0.5)),
    ("where", lambda out: ember.where(T(a64) > 0, T(a64), T(b64), out=out),
     np.where(a64 > 0, a64, b64)),
    ("maximum", lambda out: ember.maximum(T(a64), T(b64), out=out), np.maximum(a64, b64)),
    ("fmod", lambda out: ember.fmod(T(a64), T(b64), out=out), np.fmod(a64, b64)),
    ("sum", lambda out: ember.sum(T(a64), 1, out=out), a64.sum(1)),
    ("mean", lambda out: ember.mean(T(a64), 0, out=out), a64.mean(0)),
    ("amax", lambda out: ember.amax(T(a64), 1, out=out), a64.max(1)),
    ("cumsum", lambda out: ember.cumsum(T(a64), 1, out=out), a64.cumsum(1)),
    ("norm", lambda out: ember.norm(T(a64), 2, 1, out=out), np.linalg.norm(a64, 2, 1)),
    ("matmul", lambda out: ember.matmul(T(a64), T(m64), out=out), a64 @ m64),
    ("mm", lambda out: ember.mm(T(a64), T(m64), out=out), a64 @ m64),
    ("bmm", lambda out: ember.bmm(T(a64[None]), T(m64[None]), out=out), (a64 @ m64)[None]),
    ("cat", lambda out: ember.cat([T(a64), T(b64)], 0, out=out), np.concatenate([a64, b64])),
    ("stack", lambda out: ember.stack([T(a64), T(b64)], 1, out=out), np.stack([a64, b64], 1)),
    ("tril", lambda out: ember.tril(T(a64), out=out), np.tril(a64)),
    ("index_select", lambda out: ember.index_select(T(a64), 1, ember.tensor([2, 0]), out=out),
     a64[:, [2, 0]]),
    ("zeros", lambda out: ember.zeros(2, 3, out=out), np.zeros((2, 3))),
    ("ones", lambda out: ember.ones((2, 3), out=out), np.ones((2, 3))),
    ("full", lambda out: ember.full((2, 3), 1.5, out=out), np.full((2, 3), 1.5)),
    ("arange", lambda out: ember.arange(0, 3, 0.5, out=out), np.arange(0, 3, 0.5)),
    ("linspace", lambda out: ember.linspace(0, 1, 5, out=out), np.linspace(0, 1, 5)),
    ("eye", lambda out: ember.eye(3, out=out), np.eye(3)),
]


@pytest.mark.parametrize("name, call, ref", OUT_CASES, ids=[c[0] for c in OUT_CASES])
def test_out_writes_into_out_and_returns_it(name, call, ref):
    out = ember.empty(ref.shape, dtype=ember.float64)
    keep = out._data
    r = call(out)
    assert r is out
    assert out._data is keep  # same shape: written in place, not rebound
    np.testing.assert_allclose(host(out), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, call, ref", OUT_CASES, ids=[c[0] for c in OUT_CASES])
def test_out_of_the_wrong_shape_is_resized(name, call, ref):
    empty = ember.empty(0, dtype=ember.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # resizing an empty out is silent
        assert call(empty) is empty
    assert tuple(empty.shape) == ref.shape
    np.testing.assert_allclose(host(empty), ref, rtol=1e-12, atol=1e-12)
    wrong = ember.zeros(7, dtype=ember.float64)
    with pytest.warns(UserWarning, match="was resized"):
        call(wrong)
    np.testing.assert_allclose(host(wrong), ref, rtol=1e-12, atol=1e-12)


def test_out_casts_to_its_dtype_and_refuses_a_lower_category():
    out = ember.empty(3, dtype=ember.float32)
    ember.add(ember.tensor([1, 2, 3]), 1, out=out)  # Long result into Float: allowed
    assert out.dtype == ember.float32 and out.tolist() == [2.0, 3.0, 4.0]
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                           "type Long"):
        ember.mul(ember.ones(3), 2, out=ember.empty(3, dtype=ember.long))
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output "
                                           "type Bool"):
        ember.add(ember.tensor([1]), 1, out=ember.empty(1, dtype=ember.bool))
    # factories take dtype from out, as PyTorch
    z = ember.empty(4, dtype=ember.long)
    ember.zeros(4, out=z)
    assert z.dtype == ember.long and z.tolist() == [0, 0, 0, 0]


def test_out_refuses_arguments_that_require_grad():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add\(\): functions with out=\.\.\. arguments don't "
                                           "support automatic differentiation, but one of the "
                                           "arguments requires grad"):
        ember.add(x, 1, out=ember.empty(3))
    with pytest.raises(RuntimeError, match="requires grad"):
        ember.exp(ember.ones(3), out=ember.empty(3, requires_grad=True))
    with ember.no_grad():  # not recording: allowed
        out = ember.empty(3)
        ember.add(x, 1, out=out)
    assert out.tolist() == [2.0, 2.0, 2.0] and not out.requires_grad


def test_out_tuple_for_values_and_indices():
    x = T([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    vals, idx = ember.empty(2, dtype=ember.float64), ember.empty(2, dtype=ember.long)
    r = ember.max(x, 1, out=(vals, idx))
    assert r[0] is vals and r[1] is idx and r.values is vals
    assert vals.tolist() == [5.0, 7.0] and idx.tolist() == [1, 0]


def test_out_aliasing_an_input():
    x = T([1.0, 2.0])
    assert ember.add(x, x, out=x) is x
    assert x.tolist() == [2.0, 4.0]


def test_functions_without_out_reject_it():
    with pytest.raises(TypeError, match="out"):
        ember.einsum("i->", ember.ones(2), out=ember.empty(()))
    with pytest.raises(TypeError, match="out"):
        ember.zeros_like(ember.ones(2), out=ember.empty(2))
    with pytest.raises(TypeError, match="memory_format"):
        ember.ones(2).clone(memory_format=None)
    with pytest.raises(TypeError, match="memory_format"):
        ember.ones(2).to(ember.float64, memory_format=None)
    with pytest.raises(NotImplementedError, match="sparse_grad"):
        ember.gather(ember.ones(2), 0, ember.tensor([0]), sparse_grad=True)
    with pytest.raises(RuntimeError, match="rounding_mode"):
        ember.div(ember.ones(2), 2, rounding_mode="round")


def test_to_copy_and_non_blocking():
    x = ember.ones(2)
    y = x.to(ember.float32, copy=True)
    assert y is not x and y._data is not x._data
    assert x.to(ember.float32, non_blocking=True) is x


def test_matrix_power_zero_is_the_identity():
    m = T(RNG.standard_normal((2, 3, 3)))
    np.testing.assert_array_equal(host(ember.matrix_power(m, 0)), np.broadcast_to(np.eye(3),
                                                                                  (2, 3, 3)))
    np.testing.assert_allclose(host(ember.matrix_power(m, 3)), np.linalg.matrix_power(host(m), 3))
    with pytest.raises(NotImplementedError):
        ember.matrix_power(m, -1)


# ---- fmod / remainder ---------------------------------------------------------------------------
def test_fmod_takes_the_sign_of_the_dividend_remainder_of_the_divisor():
    x = np.array([-5.0, 5.0, -5.0, 5.0, 5.5, -0.0])
    y = np.array([3.0, -3.0, -3.0, 3.0, 2.0, 2.0])
    np.testing.assert_array_equal(host(ember.fmod(T(x), T(y))), np.fmod(x, y))
    np.testing.assert_array_equal(host(ember.remainder(T(x), T(y))), np.remainder(x, y))
    np.testing.assert_array_equal(host(T(x) % T(y)), np.remainder(x, y))
    xi, yi = np.array([-7, 7, -7, 7]), np.array([2, -2, -2, 2])
    assert ember.fmod(ember.tensor(xi), ember.tensor(yi)).tolist() == np.fmod(xi, yi).tolist()
    assert ember.remainder(ember.tensor(xi), ember.tensor(yi)).tolist() == \
        np.remainder(xi, yi).tolist()
    assert ember.fmod(ember.tensor(xi), 3).dtype == ember.long
    assert ember.fmod(T([1.0, -1.0]), 0.0).isnan().all()
    assert ember.fmod(T([1.0], dtype=ember.float32), 0.5).dtype == ember.float32


@pytest.mark.parametrize("fn", [ember.fmod, ember.remainder])
def test_integer_modulo_by_zero_raises(fn):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(ember.tensor([1, 2]), 0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(ember.tensor([1, 2]), ember.tensor([1, 0]))


def test_fmod_and_remainder_gradients():
    x = T([-5.3, 5.3, 2.7, -0.4], grad=True)
    y = T([3.1, -3.1, -1.3, 0.9], grad=True)
    assert gradcheck(lambda a, b: ember.fmod(a, b), (x, y))
    assert gradcheck(lambda a, b: ember.remainder(a, b), (x, y))
    ember.fmod(x, y).sum().backward()
    np.testing.assert_allclose(host(x.grad), 1.0)
    np.testing.assert_allclose(host(y.grad), -np.trunc(host(x) / host(y)))
    x.grad = y.grad = None
    ember.remainder(x, y).sum().backward()
    np.testing.assert_allclose(host(y.grad), -np.floor(host(x) / host(y)))
    # only the divisor requires grad (the old composite gave it none)
    y2 = T([2.0, 3.0], grad=True)
    ember.remainder(T([7.0, -7.0]), y2).sum().backward()
    np.testing.assert_allclose(host(y2.grad), [-3.0, 3.0])
    # broadcast scalar-like operand
    assert gradcheck(lambda a: ember.fmod(a, 1.7), (x,))


# ---- fmax / fmin --------------------------------------------------------------------------------
def test_fmax_fmin_ignore_nan_maximum_minimum_propagate_it():
    x = np.array([1.0, NAN, 2.0, NAN, 3.0, -INF])
    y = np.array([NAN, 1.0, 2.0, NAN, 4.0, 0.0])
    np.testing.assert_array_equal(host(ember.fmax(T(x), T(y))), np.fmax(x, y))
    np.testing.assert_array_equal(host(ember.fmin(T(x), T(y))), np.fmin(x, y))
    np.testing.assert_array_equal(host(ember.maximum(T(x), T(y))), np.maximum(x, y))
    np.testing.assert_array_equal(host(ember.minimum(T(x), T(y))), np.minimum(x, y))
    assert T([1.0, NAN]).fmax(T([NAN, 0.0])).tolist() == [1.0, 0.0]


def test_fmax_fmin_gradients_follow_pytorch():
    x = T([1.0, NAN, 2.0, NAN, 3.0, 5.0], grad=True)
    y = T([NAN, 1.0, 2.0, NAN, 4.0, 0.0], grad=True)
    ember.fmax(x, y).sum().backward()
    # self gets it where self >= other or other is NaN (ties and NaN-NaN to self)
    assert x.grad.tolist() == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert y.grad.tolist() == [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    x.grad = y.grad = None
    ember.fmin(x, y).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0, 1.0, 1.0, 0.0]
    assert y.grad.tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    a = T(RNG.standard_normal((3, 4)), grad=True)
    b = T(RNG.standard_normal((4,)), grad=True)
    assert gradcheck(lambda p, q: ember.fmax(p, q), (a, b))
    assert gradcheck(lambda p, q: ember.fmin(p, q), (a, b))


# ---- the one p-norm ---------------------------------------------------------------------------------
PS = [0, 1, 2, 3, 1.5, 0.5, -1, INF, -INF]


@pytest.mark.parametrize("p", PS)
def test_norm_values(p):
    x = RNG.standard_normal((3, 4))
    x[0, 1] = 0.0
    for dim, keepdim in [(None, False), (1, False), (0, True), ((0, 1), False)]:
        got = host(ember.norm(T(x), p, dim, keepdim))
        if dim is None or dim == (0, 1):
            with np.errstate(divide="ignore"):
                ref = np.linalg.norm(x.reshape(-1), p)
        else:
            with np.errstate(divide="ignore"):
                ref = np.linalg.norm(x, p, dim, keepdims=keepdim)
        np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert ember.norm(T(x, dtype=ember.float32), p).dtype == ember.float32
    assert ember.norm(T(x, dtype=ember.float32), p, dtype=ember.float64).dtype == ember.float64


@pytest.mark.parametrize("p", [1, 2, 3, 1.5, 0.5, -1, INF, -INF])
def test_norm_gradcheck(p):
    x = T(RNG.choice([-1, 1], (3, 4)) * RNG.uniform(0.3, 2.0, (3, 4)), grad=True)
    assert gradcheck(lambda t: ember.norm(t, p, 1), (x,))
    assert gradcheck(lambda t: t.norm(p, (0, 1), keepdim=True), (x,))


@pytest.mark.parametrize("p", PS)
def test_norm_gradient_at_zero_is_finite_and_the_same_everywhere(p):
    for fn in (lambda t: ember.norm(t, p), lambda t: t.norm(p),
               lambda t: _reduce.vector_norm(t, p), lambda t: F.pairwise_distance(
                   t[None], ember.zeros(1, 3, dtype=ember.float64), p, eps=0.0)):
        x = ember.zeros(3, dtype=ember.float64, requires_grad=True)
        fn(x).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_norm_inf_splits_among_the_maximal_entries():
    x = T([1.0, -3.0, 3.0, 2.0], grad=True)
    ember.norm(x, INF).backward()
    assert x.grad.tolist() == [0.0, -0.5, 0.5, 0.0]
    x.grad = None
    ember.norm(x, -INF).backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_norm_p2_partial_zero_row_and_fractional_zero_entry():
    x = T([[0.0, 0.0], [3.0, 4.0]], grad=True)
    ember.norm(x, 2, 1).sum().backward()
    np.testing.assert_allclose(host(x.grad), [[0.0, 0.0], [0.6, 0.8]])
    x = T([0.0, 4.0], grad=True)
    ember.norm(x, 0.5).backward()  # |x|^(p-1) is infinite at 0: that entry gets 0
    assert np.isfinite(host(x.grad)).all() and x.grad.tolist()[0] == 0.0


def test_one_norm_op_used_by_normalize_clip_and_cdist():
    x = T(RNG.standard_normal((2, 5)), grad=True)
    for fn in (lambda t: F.normalize(t, 3.0), lambda t: ember.cdist(t, t * 0.5, 1.5),
               lambda t: F.pdist(t, 2.0)):
        y = fn(x)
        nodes, stack = set(), [y.grad_fn]
        while stack:
            n = stack.pop()
            if n is not None and n not in nodes:
                nodes.add(n)
                stack.extend(e[0] for e in n.next_functions)
        assert any(getattr(n, "fn", None) is _reduce._VectorNorm for n in nodes)
    z = ember.zeros(2, 3, dtype=ember.float64, requires_grad=True)
    ember.cdist(z, ember.zeros(1, 3, dtype=ember.float64)).sum().backward()
    assert z.grad.tolist() == [[0.0] * 3] * 2  # 0, not NaN, at a zero distance
    out = ember.empty(2, 5, dtype=ember.float64)
    with ember.no_grad():
        assert F.normalize(x, out=out) is out
    np.testing.assert_allclose(host(out), host(x) / np.linalg.norm(host(x), 2, 1, keepdims=True))


def test_norm_rejects_integer_input_and_unknown_strings():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.norm(ember.tensor([3, 4]))
    with pytest.raises(RuntimeError):
        ember.norm(ember.ones(2), "bogus")
    assert math.isclose(ember.norm(ember.tensor([3, 4]), dtype=ember.float64).item(), 5.0)


# ---- materialize_grads ------------------------------------------------------------------------------
class _TwoOutputs(Function):
    seen = None

    @staticmethod
    def forward(ctx, x, materialize):
        ctx.set_materialize_grads(materialize)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        _TwoOutputs.seen = (ga, gb)
        total = 0
        if ga is not None:
            total = total + ga * 2
        if gb is not None:
            total = total + gb * 3
        return total, None


def test_materialize_grads_true_passes_zeros():
    x = ember.ones(2, requires_grad=True)
    _TwoOutputs.apply(x, True)[0].sum().backward()
    ga, gb = _TwoOutputs.seen
    assert ga.tolist() == [1.0, 1.0] and gb is not None and gb.tolist() == [0.0, 0.0]
    assert x.grad.tolist() == [2.0, 2.0]


def test_materialize_grads_false_passes_none():
    x = ember.ones(2, requires_grad=True)
    _TwoOutputs.apply(x, False)[1].sum().backward()
    ga, gb = _TwoOutputs.seen
    assert ga is None and gb.tolist() == [1.0, 1.0]
    assert x.grad.tolist() == [3.0, 3.0]


# ---- mark_dirty -----------------------------------------------------------------------------------
class _AddOneInPlace(Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 1


def test_mark_dirty_returns_the_input_rebased():
    a = ember.ones(2, requires_grad=True)
    b = a * 2
    version = b._version
    c = _AddOneInPlace.apply(b)
    assert c is b
    assert b._version > version
    assert b.grad_fn.name() == "AddOneInPlaceBackward0"
    assert b.tolist() == [3.0, 3.0]
    (c * c).sum().backward()
    assert a.grad.tolist() == [12.0, 12.0]  # d/da (2a + 1)^2 = 4 (2a + 1)


def test_mark_dirty_on_a_leaf_that_requires_grad_raises():
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an "
                                           "in-place operation"):
        _AddOneInPlace.apply(ember.ones(2, requires_grad=True))


def test_mark_dirty_without_grad():
    x = ember.ones(2)
    v = x._version
    assert _AddOneInPlace.apply(x) is x
    assert x.tolist() == [2.0, 2.0] and x._version > v
    with ember.no_grad():
        leaf = ember.ones(2, requires_grad=True)
        assert _AddOneInPlace.apply(leaf) is leaf


def test_mark_dirty_requires_the_dirty_input_among_outputs():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="marked as dirty"):
        Bad.apply(ember.ones(2))


# ---- gradcheck options ------------------------------------------------------------------------------
def test_gradcheck_options_are_honoured_or_refused():
    x = T([1.0, 2.0], grad=True)
    assert gradcheck(ember.exp, (x,), fast_mode=True, nondet_tol=0.0, check_forward_ad=False)
    with pytest.raises(NotImplementedError, match="check_batched_grad"):
        gradcheck(ember.exp, (x,), check_batched_grad=True)
    with pytest.raises(TypeError, match="no_such_option"):
        gradcheck(ember.exp, (x,), no_such_option=1)


# ---- the public namespaces ---------------------------------------------------------------------------
# Internal helpers that star imports once leaked into ``ember`` (and ``F``); they live in their modules.
REMOVED_FROM_EMBER = """
namedtuple builtins_abs builtins_sum arr_of check_same_device dims_tuple float_dtype result_dtype
result_type_of to_tensor wrap_dim gemm_arrays with_out write_out from_numpy_dtype getitem setitem cast
to_device sum_to inplace range_ random_fill_ diagonal_ copy_ bernoulli_ cauchy_ exponential_ geometric_
log_normal_ contiguous expand expand_as view view_as reshape_as repeat pad one_hot vector_norm
values_indices METHODS CPU Op Add Sum Matmul GetItem annotations np math numbers weakref grad_mode creation
index pointwise reduce shape conv pool normalization
""".split()


def _public(mod) -> list:
    return list(getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")])


def _origin(obj):
    """The module an object was defined in, for functions, classes and modules; None otherwise."""
    if inspect.ismodule(obj):
        return obj.__name__
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.isclass(obj):
        return obj.__module__
    return None


@pytest.mark.parametrize("mod", [ember, F], ids=["ember", "F"])
def test_public_names_are_embers_own(mod):
    foreign = sorted(f"{n} (from {_origin(getattr(mod, n))})" for n in _public(mod)
                     if _origin(getattr(mod, n)) not in (None, "ember")
                     and not _origin(getattr(mod, n)).startswith("ember."))
    assert not foreign, f"{mod.__name__} re-exports names defined outside Ember: {foreign}"


def test_removed_helpers_are_not_reachable_from_ember():
    assert not [n for n in REMOVED_FROM_EMBER if hasattr(ember, n)]
    star = {}
    exec("from ember import *", star)  # noqa: S102 - the star import is what is under test
    assert not [n for n in REMOVED_FROM_EMBER if n in star]
    for helper in ("embedding_lookup", "backend", "np", "math", "warnings", "Tensor", "annotations"):
        assert helper not in F.__all__
    star = {}
    exec("from ember.nn.functional import *", star)  # noqa: S102
    assert "embedding_lookup" not in star and "backend" not in star and "relu" in star


def test_every_public_function_of_functional_is_in_its_all():
    defined = {n for n, o in vars(F).items() if not n.startswith("_") and inspect.isfunction(o)
               and o.__module__ == F.__name__}
    assert defined - set(F.__all__) == set()
    assert [n for n in F.__all__ if not hasattr(F, n)] == []


def test_ops_all_reaches_ember_and_the_helpers_stay_importable_by_path():
    assert [n for n in ember.ops.__all__ if not hasattr(ember, n)] == []
    from ember._dtype import from_numpy_dtype
    from ember.ops._util import wrap_dim
    from ember.ops.shape import cast, to_device

    assert from_numpy_dtype(np.dtype(np.float64)) is ember.float64 and wrap_dim(-1, 3) == 2
    assert cast(ember.ones(2), ember.int64).dtype == ember.int64
    assert to_device(ember.ones(2), ember.device("cpu")).device == ember.device("cpu")


def test_tensor_keeps_pytorchs_methods_and_drops_the_others():
    for name in ("contiguous", "copy_", "fill_", "zero_", "view", "view_as", "expand", "expand_as",
                 "reshape_as", "repeat", "bernoulli_", "exponential_", "diagonal", "backward", "item"):
        assert callable(getattr(ember.Tensor, name)), name
    # std_mean/var_mean are functions only in PyTorch (torch.std_mean), not Tensor methods
    assert not hasattr(ember.Tensor, "std_mean") and not hasattr(ember.Tensor, "var_mean")
    assert callable(ember.std_mean) and callable(ember.var_mean)


# The modules whose public functions and Tensor members must carry a docstring (extend as more are done).
DOCUMENTED = {"ember", "ember.ops.creation", "ember.random", "ember.cuda", "ember.serialization",
              "ember._device", "ember._dtype", "ember.backend", "ember.backends", "ember.tensor",
              "ember._methods"}


def _undocumented(namespace, where: str):
    missing = []
    for name, obj in namespace:
        if name.startswith("_"):
            continue
        fn = obj.fget if isinstance(obj, property) else obj
        fn = getattr(fn, "__func__", fn)  # staticmethod / classmethod
        if (inspect.isfunction(fn) or inspect.isclass(fn)) and fn.__module__ in DOCUMENTED and not fn.__doc__:
            missing.append(f"{where}.{name}")
    return missing


def test_public_functions_and_tensor_members_have_docstrings():
    missing = _undocumented(((n, getattr(ember, n)) for n in dir(ember)), "ember")
    for mod in (ember.random, ember.cuda, ember.serialization, ember.backend):
        missing += _undocumented(vars(mod).items(), mod.__name__)
    missing += _undocumented(vars(ember.backends.mps.__class__).items(), "ember.backends.mps")
    missing += _undocumented(vars(ember.random.Generator).items(), "Generator")
    missing += _undocumented(vars(ember.Tensor).items(), "Tensor")
    missing += _undocumented(vars(ember.Size).items(), "Size")
    assert not missing, missing


def test_math_constants_as_torch():
    assert (ember.pi, ember.e, ember.inf) == (math.pi, math.e, math.inf) and math.isnan(ember.nan)


def test_version_compares_as_a_version():
    v = ember.__version__
    assert isinstance(v, str) and v == "0.1.0" and str(v) == "0.1.0"
    assert v >= "0.1" and v == "0.1" and v == (0, 1) and v == [0, 1, 0] and v < (1, 0) and v < "0.10" and v > "0.1.0rc1"
    assert v > "0.1.0.dev3" and v < "0.1.0+cpu" and v != "0.2" and not v > "0.1.0"
    assert v < "parrot"  # not a version: plain string order, as torch.__version__
    with pytest.raises(TypeError):
        v < 3  # noqa: B015 - the comparison must raise
    assert {v: 1}["0.1.0"] == 1


def _undocumented(namespace, names) -> list[str]:
    return sorted(n for n in names if callable(getattr(namespace, n, None))
                  and not (getattr(namespace, n).__doc__ or "").strip())


def test_every_public_function_has_a_docstring():
    # ember.*, F.* and the Tensor methods installed from ops all carry a docstring
    from ember.ops import METHODS

    public = [n for n in dir(ember) if not n.startswith("_") and inspect.isfunction(getattr(ember, n))]
    functional = [n for n in dir(F) if not n.startswith("_") and inspect.isfunction(getattr(F, n))]
    missing = ([f"ember.{n}" for n in _undocumented(ember, public)]
               + [f"F.{n}" for n in _undocumented(F, functional)]
               + [f"Tensor.{n}" for n in _undocumented(ember.Tensor, METHODS)])
    assert not missing, f"{len(missing)} public functions without a docstring: {missing}"
