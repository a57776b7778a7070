"""The generic op test: every row of the op table (ember/ops/table/) on every device and dtype,
over the row's samples (odd, size-1, empty, non-contiguous and broadcasting inputs): forward
against the row's float64 NumPy reference, the kernel Op against its composite (Tensor-op)
version, gradcheck and gradgradcheck (float64), and bad inputs raising PyTorch's exception types.
A last test keeps the table complete: every public differentiable callable has a row or is listed
in EXCLUDED with the reason."""
from __future__ import annotations

import importlib
import inspect

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import METHODS
from ember.ops.table import ROWS, Sample, to_numpy

# warnings that PyTorch gives too for some rows' samples (deprecated names, kl_div's 'mean', a
# broadcast loss target); the rows call them on purpose
pytestmark = [pytest.mark.filterwarnings("ignore:nn.functional.upsample"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss"),
              pytest.mark.filterwarnings("ignore:Using a target size")]
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
DTYPES = [ember.float32, ember.float64]
GRAD_SAMPLES = 2  # gradcheck the first two non-empty samples of a row, gradgradcheck the first


def rows(pred=lambda row: True):
    return [pytest.param(row, id=row.name) for row in ROWS if pred(row)]


def _tensors(x):
    """The Tensors in a nest of tuples/lists, in order."""
    if isinstance(x, ember.Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for a in x for t in _tensors(a)]
    return []


def _rebuild(x, it):
    """x with each floating-point Tensor replaced by the next of `it`."""
    if isinstance(x, ember.Tensor):
        return next(it) if x.is_floating_point() else x
    if isinstance(x, (tuple, list)):
        return type(x)(_rebuild(a, it) for a in x)
    return x


def _outputs(out) -> list:
    return [o for o in _tensors(out) if o.is_floating_point()]


def _check_close(actual, expected, row, dtype, desc):
    atol, rtol = row.tolerance(dtype)
    scale = max([float(np.abs(e).max()) for e in expected if np.size(e)] + [1.0])
    assert len(actual) == len(expected), desc
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(to_numpy(a), np.asarray(e, dtype=np.float64), rtol=rtol,
                                   atol=atol * scale, err_msg=f"{row.name}: {desc}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("row", rows())
def test_forward_matches_reference(row, device, dtype):
    if dtype not in row.dtypes:
        pytest.skip(f"{row.name} does not support {dtype}")
    for s in row.sample_inputs(device, dtype):
        out = row.fn(*s.args, **s.kwargs)
        outs = _outputs(out)
        assert outs, f"{row.name}: {s.desc}: no floating-point output"
        for o in outs:
            assert o.dtype == dtype and o.device.type == device, (row.name, s.desc, o.dtype, o.device)
        if row.reference is None:
            continue
        ref = row.reference(*to_numpy(s.args), **to_numpy(s.kwargs))
        _check_close(outs, list(ref) if isinstance(ref, tuple) else [ref], row, dtype, s.desc)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("row", rows(lambda row: bool(row.op)))
def test_kernel_matches_composite(row, device, dtype, monkeypatch):
    """Each call the public op makes to its Op class is repeated with the composite (the same
    arguments, as Tensors); both results must agree."""
    if row.composite is None:
        pytest.skip(f"{row.op[0].__name__} has no composite yet")
    op, calls = row.op[0], []
    apply = op.apply

    def recording(*args, **kwargs):
        out = apply(*args, **kwargs)
        calls.append((args, kwargs, out))
        return out

    monkeypatch.setattr(op, "apply", recording)
    for s in row.sample_inputs(device, dtype):
        row.fn(*s.args, **s.kwargs)
    monkeypatch.undo()
    assert calls, f"{row.name} never called {op.__name__}.apply"
    for args, kwargs, out in calls:
        wrap = [ember.Tensor._make(a) if hasattr(a, "shape") and not isinstance(a, ember.Tensor)
                else a for a in args]
        expected = _outputs(row.composite(*wrap, **kwargs))
        _check_close(_outputs(out), [to_numpy(e) for e in expected], row, dtype, "composite")


def _grad_samples(row, device, count):
    samples = [s for s in row.sample_inputs(device, ember.float64)
               if all(t.numel() for t in _tensors(s.args) if t.is_floating_point())]
    return samples[:count]


def _differentiable(row, s: Sample):
    """(f, leaves): f(*leaves) calls the op with the sample's floating Tensors replaced."""
    leaves = [t.detach().requires_grad_() for t in _tensors(s.args) if t.is_floating_point()]

    def f(*ts):
        return row.fn(*_rebuild(s.args, iter(ts)), **s.kwargs)
    return f, leaves


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("row", rows(lambda row: row.supports_grad))
def test_gradcheck(row, device):
    samples = _grad_samples(row, device, GRAD_SAMPLES)
    assert samples, f"{row.name}: no non-empty sample"
    for s in samples:
        f, leaves = _differentiable(row, s)
        assert gradcheck(f, tuple(leaves)), (row.name, s.desc)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("row", rows(lambda row: row.supports_grad))
def test_gradgradcheck(row, device):
    if not row.supports_gradgrad:
        pytest.skip(f"{row.name} is not twice differentiable here")
    for s in _grad_samples(row, device, 1):
        f, leaves = _differentiable(row, s)
        assert gradgradcheck(f, tuple(leaves)), (row.name, s.desc)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("row", rows(lambda row: row.errors is not None))
def test_bad_inputs_raise_pytorch_exceptions(row, device):
    for args, kwargs, exc in row.errors(device):
        with pytest.raises(exc):
            row.fn(*args, **kwargs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("row", rows(lambda row: bool(row.kernels)))
def test_kernels_are_bound(row, device):
    module = importlib.import_module("ember._C" if device == "cpu" else "ember._C_cuda")
    missing = [k for k in row.kernels if not hasattr(module, k)]
    assert not missing, f"{row.name}: {module.__name__} lacks {missing}"


def test_rows_name_their_files():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    for row in ROWS:
        assert row.files, row.name
        for f in row.files:
            assert (root / f).exists(), (row.name, f)


# Public callables of ember, ember.nn.functional and Tensor methods with no row, and why.
EXCLUDED = {
    # not differentiable: creation, random sampling, comparisons, integer/bool results, predicates
    *"""arange as_tensor asarray bernoulli empty empty_like eye from_dlpack from_numpy full full_like
    linspace logspace multinomial normal ones ones_like poisson rand rand_like randint randint_like
    randn randn_like randperm range tensor tril_indices triu_indices zeros zeros_like manual_seed
    seed initial_seed get_rng_state set_rng_state get_default_dtype set_default_dtype
    get_num_threads set_num_threads set_printoptions is_grad_enabled is_tensor is_floating_point
    numel load save broadcast_shapes eq ne lt le gt ge greater greater_equal less less_equal
    not_equal equal allclose isclose isnan isinf isfinite logical_and logical_or logical_xor
    logical_not bitwise_and bitwise_or bitwise_not sign floor ceil trunc round argmax argmin argsort
    count_nonzero unique bincount bucketize searchsorted nonzero argwhere one_hot floor_divide all any
    """.split(),
    # random: dropout-like ops (their expectation is checked in tests/test_nn_functional.py)
    *["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "rrelu", "rrelu_"],
    # in-place variants of rows (differentiated through their out-of-place op) and raw setters
    *"""celu_ elu_ hardtanh_ leaky_relu_ relu_ selu_ threshold_ fill_
    """.split(),
}

def _public_callables() -> set[str]:
    names = {n for n in dir(ember) if not n.startswith("_")
             and inspect.isfunction(getattr(ember, n))}
    names |= {n for n in dir(F) if not n.startswith("_") and inspect.isfunction(getattr(F, n))}
    names |= set(METHODS)
    return names


def test_every_public_differentiable_op_has_a_row_or_is_excluded():
    covered = {n for row in ROWS for n in (row.name, *row.aliases)}
    missing = sorted(_public_callables() - covered - EXCLUDED)
    assert not missing, f"public ops without a row in ember/ops/table/ (add one or exclude it): {missing}"
    stale = sorted(EXCLUDED & covered)
    assert not stale, f"listed as excluded but have a row: {stale}"
