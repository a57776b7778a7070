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
    _gx, gz = ember.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
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


# ---- gradient buffers: reused when only the engine holds them, copied otherwise --------------------
def _shares(a, b) -> bool:
    return np.shares_memory(a.detach().numpy(), b.detach().numpy())


class _SavedGradient(Function):
    """Returns a tensor it keeps as its input's gradient (it stays visible through ctx)."""

    @staticmethod
    def forward(ctx, x):
        ctx.g = ember.ones(3)
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return ctx.g


def _grad_paths():
    """(name, run) pairs: run(x) runs a backward into the leaf x (3,) and returns the tensors
    the user can still see that reached x's AccumulateGrad (or were kept by hooks)."""
    def seed_leaf(x):
        g = ember.ones(3)
        x.backward(g)
        return [g]

    def seed_clone(x):
        g = ember.ones(3)
        x.clone().backward(g)  # CloneBackward passes the seed through unchanged
        return [g]

    def seed_view(x):
        g = ember.ones(6)
        x.reshape(3, 1).expand(3, 2).reshape(6).backward(g)
        return [g]

    def leaf_hook(x):
        kept = []
        x.register_hook(kept.append)
        (x * 2).sum().backward()
        return kept

    def nonleaf_hook(x):
        kept = []
        y = x.clone()
        y.register_hook(kept.append)
        (y * 2).sum().backward()
        return kept

    def saved_by_function(x):
        y = _SavedGradient.apply(x)
        y.sum().backward(retain_graph=True)
        return [y.grad_fn.ctx.g]

    def create_graph(x):
        g = ember.ones(3)
        x.clone().backward(g, create_graph=True)
        return [g]

    def backward_inputs(x):
        g = ember.ones(3)
        x.clone().backward(g, inputs=[x])
        return [g]

    return [(f.__name__, f) for f in (seed_leaf, seed_clone, seed_view, leaf_hook, nonleaf_hook,
                                      saved_by_function, create_graph, backward_inputs)]


@pytest.mark.parametrize("name,run", _grad_paths())
def test_grad_never_shares_memory_with_a_tensor_the_user_sees(name, run):
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    visible = run(x)
    values = [v.detach().numpy().copy() for v in visible]
    assert visible and not any(_shares(x.grad, v) for v in visible)
    x.grad.add_(100.0)  # what an optimizer may do to .grad: the user's tensors do not change
    for v, before in zip(visible, values):
        np.testing.assert_array_equal(v.detach().numpy(), before)


def test_shared_gradient_is_not_aliased_between_two_leaves():
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    (a + b).sum().backward()  # AddBackward sends one gradient tensor to both
    assert not _shares(a.grad, b.grad)
    a.grad.add_(1.0)
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])


def test_fresh_gradients_become_grad_without_a_copy(monkeypatch):
    copies = []
    clone = ember.Tensor.clone
    monkeypatch.setattr(ember.Tensor, "clone", lambda t, *a, **k: copies.append(t) or clone(t, *a, **k))
    lin = ember.nn.Linear(4, 3)
    x = ember.randn(5, 4, requires_grad=True)
    (lin(x) ** 2).sum().backward()  # each leaf's gradient straight from one node
    (lin(x) * lin(x)).sum().backward()  # two uses: summed, then added into .grad in place
    assert copies == []
    x2 = x.detach().numpy()
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    y = x2 @ w.T + b
    np.testing.assert_allclose(lin.weight.grad.numpy(), 4 * y.T @ x2, rtol=1e-5)
    np.testing.assert_allclose(lin.bias.grad.numpy(), 4 * y.sum(0), rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), 4 * y @ w, rtol=1e-5)


@pytest.mark.parametrize("f", [lambda x: x.clone() + x * 3, lambda x: x * 3 + x.clone()])
def test_summing_gradients_leaves_a_user_gradient_unchanged(f):
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = ember.tensor([1.0, 1.0, 1.0])
    f(x).backward(g)  # one of the two gradients summed for x is g itself (first or second)
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0, 4.0])
    (x * 2).sum().backward()  # accumulates into the existing .grad
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0, 6.0])
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0, 1.0])


def test_grad_mode_and_anomaly_mode_are_per_thread():
    import threading

    seen = {}

    def worker():
        seen["grad"] = ember.is_grad_enabled()
        seen["anomaly"] = ember.autograd.anomaly.is_anomaly_enabled()

    with ember.no_grad(), ember.autograd.detect_anomaly():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert not ember.is_grad_enabled() and ember.autograd.anomaly.is_anomaly_enabled()
    assert seen == {"grad": True, "anomaly": False}


def test_grad_of_two_outputs_of_one_node():
    """Both outputs of one node as roots: the node's edges count once (the inputs get gradients)."""
    from ember.autograd import grad

    x = ember.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    a, b = (x * 1).split(2)
    (g,) = grad((a, b), [x], [ember.ones(2, dtype=x.dtype), 2 * ember.ones(1, dtype=x.dtype)])
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0, 2.0])
