"""The autograd engine: accumulation, retain_graph, hooks, no_grad, higher order, deep graphs,
user-defined Functions, anomaly mode, graph freeing."""
import gc
import weakref

import numpy as np
import pytest

import ember
from ember.autograd import Function, gradcheck


def test_repeated_use_accumulates():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.tensor([3.0, 4.0], requires_grad=True)
    z = (x + x + y).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])


def test_grad_accumulates_across_backward_calls_and_shared_parameter():
    w = ember.tensor([2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0 + 4.0])


def test_backward_twice_without_retain_graph_raises():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_on_non_scalar_needs_gradient():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(ember.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()


def test_no_grad_builds_no_graph():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @ember.no_grad()
    def f(t):
        return t * 3

    assert f(x).grad_fn is None
    with ember.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    with ember.inference_mode():
        assert (x * 2).grad_fn is None
    assert (x * 2).grad_fn is not None


def test_deep_chain_has_no_recursion_limit():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-3)


def test_autograd_grad_and_higher_order():
    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)
    (gg,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * x.detach().numpy())
    assert x.grad is None  # autograd.grad does not accumulate


def test_second_order_through_tanh_and_matmul():
    rng = np.random.default_rng(0)
    w = ember.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    x = ember.tensor(rng.standard_normal((5, 4)), requires_grad=True)

    def penalty(x, w):
        out = (x @ w).tanh().sum()
        (gx,) = ember.autograd.grad(out, x, create_graph=True)
        return (gx * gx).sum()

    assert gradcheck(penalty, (x, w))


def test_unused_input_in_grad():
    x = ember.ones(2, requires_grad=True)
    z = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        ember.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = ember.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None


def test_hooks_and_retain_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 3
    y.retain_grad()
    handle = y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [10.0, 10.0])
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])
    np.testing.assert_array_equal(seen[0], [30.0, 30.0])
    handle.remove()


def test_inplace_on_leaf_that_requires_grad_raises():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with ember.no_grad():
        x.add_(1)
    np.testing.assert_array_equal(x.detach().numpy(), [2.0, 2.0])


def test_inplace_on_intermediate_tracks_history():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += x          # residual-style in-place add
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [9.0, 9.0])


def test_inplace_modifying_saved_value_is_detected():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_user_function():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = ember.tensor([1.0, -2.0], dtype=ember.float64, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert gradcheck(Cube.apply, (x,))


def test_anomaly_mode_names_the_op():
    x = ember.tensor([-1.0, 1.0], requires_grad=True)
    with ember.autograd.detect_anomaly():
        y = x.sqrt().sum()  # sqrt(-1) = nan forward; its backward yields nan
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            y.backward()


def test_training_loop_frees_its_graph():
    rng = np.random.default_rng(0)
    w = ember.tensor(rng.standard_normal((8, 1)), requires_grad=True)
    x = ember.tensor(rng.standard_normal((16, 8)))

    def live_tensors():
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, ember.Tensor))

    def step():
        loss = ((x @ w).tanh() ** 2).mean()
        loss.backward()
        with ember.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None

    for _ in range(5):
        step()
    before = live_tensors()
    for _ in range(100):
        step()
    assert live_tensors() <= before


def test_graph_nodes_are_released_after_backward():
    x = ember.ones(3, requires_grad=True)
    y = (x * 2).exp()
    node = weakref.ref(y.grad_fn)
    y.sum().backward()
    del y
    gc.collect()
    assert node() is None


def test_detach_and_requires_grad_rules():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    assert y.detach().grad_fn is None and not y.detach().requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="numpy"):
        x.numpy()
