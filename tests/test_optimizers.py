"""ember.optim against NumPy float64 re-implementations of PyTorch's documented update rules.

Each reference (tests/optim_refs.py) is the algorithm box of the corresponding torch.optim class
written plainly; every optimizer runs 5 steps on random parameters with random gradients, for
each option that changes the math, and must follow the reference step by step."""
import copy

import ember
import numpy as np
import pytest
from ember import optim
from ember.nn.parameter import Parameter
from optim_refs import adadelta_ref, adagrad_ref, adam_ref, adamax_ref, nadam_ref, rmsprop_ref, run_reference, sgd_ref

SHAPES = [(7,), (1,), (3, 1, 5), (0, 4)]
STEPS = 5


CASES = [
    (optim.SGD, sgd_ref, {"lr": 0.1}),
    (optim.SGD, sgd_ref, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, sgd_ref, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    (optim.SGD, sgd_ref, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (optim.SGD, sgd_ref, {"lr": 0.05, "weight_decay": 0.2, "maximize": True}),
    (optim.SGD, sgd_ref, {"lr": 0.05, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.1,
                          "maximize": True}),
    (optim.Adam, adam_ref, {"lr": 0.01}),
    (optim.Adam, adam_ref, {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.1}),
    (optim.Adam, adam_ref, {"lr": 0.01, "amsgrad": True, "maximize": True}),
    (optim.AdamW, lambda p, g, st, **kw: adam_ref(p, g, st, decoupled=True, **kw),
     {"lr": 0.01, "weight_decay": 0.1}),
    (optim.AdamW, lambda p, g, st, **kw: adam_ref(p, g, st, decoupled=True, weight_decay=1e-2, **kw),
     {"lr": 0.01, "amsgrad": True}),
    (optim.RMSprop, rmsprop_ref, {"lr": 0.01}),
    (optim.RMSprop, rmsprop_ref, {"lr": 0.01, "alpha": 0.9, "centered": True}),
    (optim.RMSprop, rmsprop_ref, {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1}),
    (optim.RMSprop, rmsprop_ref, {"lr": 0.01, "momentum": 0.5, "centered": True, "maximize": True}),
    (optim.Adagrad, adagrad_ref, {"lr": 0.1}),
    (optim.Adagrad, adagrad_ref, {"lr": 0.1, "lr_decay": 0.3, "initial_accumulator_value": 0.5}),
    (optim.Adagrad, adagrad_ref, {"lr": 0.1, "weight_decay": 0.2, "eps": 1e-3, "maximize": True}),
    (optim.Adadelta, adadelta_ref, {}),
    (optim.Adadelta, adadelta_ref, {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    (optim.Adamax, adamax_ref, {}),
    (optim.Adamax, adamax_ref, {"lr": 0.01, "betas": (0.5, 0.9), "weight_decay": 0.1,
                                "maximize": True}),
    (optim.NAdam, nadam_ref, {}),
    (optim.NAdam, nadam_ref, {"lr": 0.01, "momentum_decay": 0.1, "weight_decay": 0.1}),
    (optim.NAdam, nadam_ref, {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
                              "maximize": True}),
]


def _case_id(case):
    cls, _, kw = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


def run_optimizer(cls, kwargs, p0, grads, device="cpu", dtype=ember.float64):
    """Parameter values after each of the steps, as float64 NumPy arrays."""
    p = Parameter(ember.tensor(p0, dtype=dtype, device=device))
    opt = cls([p], **kwargs)
    out = []
    for g in grads:
        p.grad = ember.tensor(g, dtype=dtype, device=device)
        opt.step()
        out.append(p.detach().cpu().numpy().astype(np.float64))
    return p, opt, out


def random_problem(rng, shape, steps=STEPS):
    return rng.standard_normal(shape), [rng.standard_normal(shape) for _ in range(steps)]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("shape", SHAPES)
def test_update_rules_float64(case, shape, device, rng):
    cls, ref, kwargs = case
    p0, grads = random_problem(rng, shape)
    _, _, got = run_optimizer(cls, kwargs, p0, grads, device)
    want = run_reference(ref, kwargs, p0, grads)
    for step, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("case", CASES[::3], ids=_case_id)
def test_update_rules_float32(case, device, rng):
    cls, ref, kwargs = case
    p0, grads = random_problem(rng, (4, 9))
    p0 = p0.astype(np.float32).astype(np.float64)
    grads = [g.astype(np.float32).astype(np.float64) for g in grads]
    p, _, got = run_optimizer(cls, kwargs, p0, grads, device, ember.float32)
    assert p.dtype == ember.float32
    want = run_reference(ref, kwargs, p0, grads)
    # a handful of float32 roundings per step, amplified at most by the 1/sqrt(v) normalisation
    np.testing.assert_allclose(got[-1], want[-1], rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("cls,ref,kwargs", [CASES[3], CASES[8], CASES[14], CASES[17]],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_strided_and_half_parameters_take_the_same_rule(cls, ref, kwargs, rng):
    """Fused kernels need contiguous float32/64 arrays; other parameters are staged through
    contiguous copies and must follow the same rule."""
    p0, grads = random_problem(rng, (5, 3))
    base = ember.tensor(p0.T.copy(), dtype=ember.float64)
    p = Parameter(base.t())  # a transposed, non-contiguous view of base
    assert not p.is_contiguous()
    opt = cls([p], **kwargs)
    for g in grads:
        p.grad = ember.tensor(g)
        opt.step()
    want = run_reference(ref, kwargs, p0, grads)[-1]
    np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(base.numpy().T, want, rtol=1e-11, atol=1e-13)  # written in place

    h0 = p0.astype(np.float16).astype(np.float64)
    hgrads = [g.astype(np.float16).astype(np.float64) for g in grads]
    p, _, got = run_optimizer(cls, kwargs, h0, hgrads, dtype=ember.float16)
    assert p.dtype == ember.float16
    np.testing.assert_allclose(got[-1], run_reference(ref, kwargs, h0, hgrads)[-1], rtol=2e-2,
                               atol=2e-2)


def test_parameter_identity_version_and_in_place_write():
    p = Parameter(ember.ones(3))
    data, version = p._data, p._version
    opt = optim.SGD([p], lr=0.5)
    p.grad = ember.ones(3)
    opt.step()
    assert p._data is data and p._version > version
    np.testing.assert_array_equal(p.detach().numpy(), [0.5, 0.5, 0.5])
    assert not p.grad.requires_grad and p.requires_grad


def test_graph_that_saved_a_parameter_refuses_backward_after_step():
    p = Parameter(ember.ones(3))
    loss = (p * p).sum()
    opt = optim.SGD([p], lr=0.1)
    p.grad = ember.ones(3)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad,
                                 optim.Adadelta, optim.Adamax, optim.NAdam])
def test_parameters_without_grad_are_skipped(cls):
    a, b = Parameter(ember.ones(2)), Parameter(ember.ones(2))
    opt = cls([a, b], lr=0.1) if cls is not optim.SGD else cls([a, b], lr=0.1, momentum=0.9)
    b.grad = ember.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.detach().numpy(), [1.0, 1.0])
    assert not np.array_equal(b.detach().numpy(), [1.0, 1.0])
    if cls is not optim.Adagrad:  # Adagrad creates its state with the optimizer, as PyTorch
        assert a not in opt.state


def test_param_groups_with_different_options(rng):
    p0, grads = random_problem(rng, (6,))
    q0, qgrads = random_problem(rng, (2, 3))
    p, q = Parameter(ember.tensor(p0)), Parameter(ember.tensor(q0))
    opt = optim.SGD([{"params": [p]}, {"params": q, "lr": 0.5, "nesterov": True}], lr=0.1,
                    momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["nesterov"] is True
    for g, h in zip(grads, qgrads):
        p.grad, q.grad = ember.tensor(g), ember.tensor(h)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(),
                               run_reference(sgd_ref, {"lr": 0.1, "momentum": 0.9}, p0, grads)[-1],
                               rtol=1e-12)
    np.testing.assert_allclose(q.detach().numpy(),
                               run_reference(sgd_ref, {"lr": 0.5, "momentum": 0.9, "nesterov": True},
                                             q0, qgrads)[-1], rtol=1e-12)


def test_add_param_group_fills_defaults_and_rejects_overlap():
    a, b = Parameter(ember.ones(2)), Parameter(ember.ones(2))
    opt = optim.Adam([a], lr=0.01, betas=(0.8, 0.9))
    opt.add_param_group({"params": b, "lr": 0.1})
    group = opt.param_groups[1]
    assert group["params"] == [b] and group["lr"] == 0.1 and group["betas"] == (0.8, 0.9)
    assert group["eps"] == 1e-8 and group["amsgrad"] is False
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([a])


def test_required_option():
    class Custom(optim.Optimizer):
        def __init__(self, params, lr=optim.optimizer.required):
            super().__init__(params, {"lr": lr})

    p = Parameter(ember.ones(1))
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        Custom([p])
    assert Custom([{"params": [p], "lr": 0.1}]).param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("make,exc,msg", [
    (lambda p: optim.SGD([p], lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (lambda p: optim.SGD([p], momentum=-0.1), ValueError, "Invalid momentum value"),
    (lambda p: optim.SGD([p], weight_decay=-1), ValueError, "Invalid weight_decay value"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires"),
    (lambda p: optim.Adam([p], betas=(1.0, 0.999)), ValueError, "Invalid beta parameter at index 0"),
    (lambda p: optim.AdamW([p], betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1"),
    (lambda p: optim.Adam([p], eps=-1e-8), ValueError, "Invalid epsilon value"),
    (lambda p: optim.RMSprop([p], alpha=-0.5), ValueError, "Invalid alpha value"),
    (lambda p: optim.Adagrad([p], lr_decay=-1), ValueError, "Invalid lr_decay value"),
    (lambda p: optim.Adagrad([p], initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value"),
    (lambda p: optim.Adadelta([p], rho=1.5), ValueError, "Invalid rho value"),
    (lambda p: optim.NAdam([p], momentum_decay=-1), ValueError, "Invalid momentum_decay value"),
    (lambda p: optim.SGD(p, lr=0.1), TypeError, "should be an iterable of Tensors or dicts"),
    (lambda p: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda p: optim.SGD([{"params": {p}}], lr=0.1), TypeError, "Please use a list instead"),
    (lambda p: optim.SGD([p, 3.0], lr=0.1), TypeError, "can only optimize Tensors"),
    (lambda p: optim.SGD([p * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda p: optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1), ValueError,
     "more than one parameter group"),
    (lambda p: optim.LBFGS([{"params": [p]}, {"params": [Parameter(ember.ones(1))]}]), ValueError,
     "doesn't support per-parameter options"),
    (lambda p: optim.LBFGS([p], line_search_fn="armijo"), RuntimeError, "only 'strong_wolfe'"),
    (lambda p: optim.Adam([p], differentiable=True), NotImplementedError, "differentiable=True"),
])
def test_bad_arguments(make, exc, msg):
    with pytest.raises(exc, match=msg):
        make(Parameter(ember.ones(2)))


def test_duplicate_parameters_warn():
    p = Parameter(ember.ones(2))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_foreach_and_fused_accepted():
    p = Parameter(ember.ones(2))
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.Adagrad):
        opt = cls([p], lr=0.1, foreach=True, fused=False)
        assert opt.param_groups[0]["foreach"] is True
    optim.RMSprop([p], foreach=False)


def test_zero_grad():
    p = Parameter(ember.ones(3))
    opt = optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0, 0, 0])
    opt.zero_grad()
    assert p.grad is None


def test_step_returns_closure_loss_and_evaluates_with_grad_enabled():
    p = Parameter(ember.tensor([1.0, -2.0]))
    opt = optim.Adam([p], lr=0.1)
    calls = []

    def closure():
        calls.append(ember.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert calls == [True] and float(loss) == 5.0
    assert opt.step() is None


def test_step_hooks_and_repr():
    p = Parameter(ember.ones(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    seen = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append("post"))
    p.grad = ember.ones(2)
    opt.step()
    pre.remove()
    opt.step()
    assert seen == ["pre", "post", "post"]
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text and text.endswith("\n)")


def _state_entry_keys(opt):
    return {k: sorted(v) for k, v in opt.state_dict()["state"].items()}


@pytest.mark.parametrize("cls,kwargs,keys", [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}, ["momentum_buffer"]),
    (optim.Adam, {"lr": 0.01, "amsgrad": True}, ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True},
     ["grad_avg", "momentum_buffer", "square_avg", "step"]),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01}, ["step", "sum"]),
    (optim.Adadelta, {}, ["acc_delta", "square_avg", "step"]),
    (optim.Adamax, {}, ["exp_avg", "exp_inf", "step"]),
    (optim.NAdam, {}, ["exp_avg", "exp_avg_sq", "mu_product", "step"]),
])
def test_state_dict_round_trip_continues_identically(cls, kwargs, keys, rng):
    # float32 parameters: load_state_dict casts floating state to the parameter dtype (as PyTorch,
    # NAdam's float32 mu_product included), so the continuation is bit-identical only then
    p0, grads = random_problem(rng, (3, 4), steps=6)
    q0, qgrads = random_problem(rng, (5,), steps=6)
    a = [Parameter(ember.tensor(p0, dtype=ember.float32)),
         Parameter(ember.tensor(q0, dtype=ember.float32))]
    opt = cls([{"params": [a[0]]}, {"params": [a[1]], "lr": 0.05}], **kwargs)
    for g, h in zip(grads[:3], qgrads[:3]):
        a[0].grad = ember.tensor(g, dtype=ember.float32)
        a[1].grad = ember.tensor(h, dtype=ember.float32)
        opt.step()

    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.05
    assert _state_entry_keys(opt) == {0: keys, 1: keys}
    if "step" in keys:
        assert sd["state"][0]["step"].dtype == ember.float32 and float(sd["state"][0]["step"]) == 3.0
    saved = copy.deepcopy(sd)

    b = [Parameter(a[0].detach().clone()), Parameter(a[1].detach().clone())]
    opt2 = cls([{"params": [b[0]]}, {"params": [b[1]]}], lr=1.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.05 and opt2.param_groups[0]["params"] == [b[0]]
    for g, h in zip(grads[3:], qgrads[3:]):
        for params, o in ((a, opt), (b, opt2)):
            params[0].grad = ember.tensor(g, dtype=ember.float32)
            params[1].grad = ember.tensor(h, dtype=ember.float32)
            o.step()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    # the loaded optimizer owns copies: stepping it did not touch the dict it was loaded from
    for k, v in saved["state"][0].items():
        assert v is not opt2.state[b[0]][k]


def test_load_state_dict_casts_to_parameter_dtype_and_checks_sizes():
    p = Parameter(ember.ones(3, dtype=ember.float32))
    opt = optim.Adam([p], lr=0.1)
    p.grad = ember.ones(3)
    opt.step()
    q = Parameter(ember.ones(3, dtype=ember.float64))
    opt2 = optim.Adam([q], lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state[q]["exp_avg"].dtype == ember.float64
    assert opt2.state[q]["step"].dtype == ember.float32  # step keeps its own dtype
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": [q]}, {"params": [Parameter(ember.ones(1))]}]).load_state_dict(
            opt.state_dict())
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam([q, Parameter(ember.ones(1))]).load_state_dict(opt.state_dict())


def test_state_added_lazily_for_options_switched_on_later(rng):
    p0, grads = random_problem(rng, (4,))
    p = Parameter(ember.tensor(p0))
    opt = optim.SGD([p], lr=0.1)
    p.grad = ember.tensor(grads[0])
    opt.step()
    assert p not in opt.state
    opt.param_groups[0]["momentum"] = 0.9  # as OneCycleLR does
    p.grad = ember.tensor(grads[1])
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), grads[1])


# ---- LBFGS -----------------------------------------------------------------------------------------
def quadratic_problem(rng, n=6):
    m = rng.standard_normal((n, n))
    a = m @ m.T + n * np.eye(n)
    b = rng.standard_normal(n)
    return a, b, np.linalg.solve(a, b)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_minimises_a_quadratic(line_search_fn, rng):
    a, b, x_star = quadratic_problem(rng)
    A, B = ember.tensor(a), ember.tensor(b)
    # two parameter tensors: the algorithm works on their concatenation
    x1 = Parameter(ember.zeros(4, dtype=ember.float64))
    x2 = Parameter(ember.zeros(2, dtype=ember.float64))
    # tolerances tighter than the defaults, which stop once the loss changes by < 1e-9
    opt = optim.LBFGS([x1, x2], history_size=10, max_iter=50, line_search_fn=line_search_fn,
                      tolerance_grad=1e-12, tolerance_change=1e-16)

    def closure():
        opt.zero_grad()
        x = ember.cat([x1, x2])
        loss = 0.5 * (x @ (A @ x)) - B @ x
        loss.backward()
        return loss

    first = opt.step(closure)
    assert float(first) == 0.0  # the loss at the starting point
    for _ in range(3):
        opt.step(closure)
    x = np.concatenate([x1.detach().numpy(), x2.detach().numpy()])
    # stopping on loss changes below tolerance_change resolves x to about sqrt(float64 eps)
    np.testing.assert_allclose(x, x_star, rtol=0, atol=1e-7)
    np.testing.assert_allclose(a @ x, b, rtol=0, atol=1e-6)
    state = opt.state[x1]
    assert state["n_iter"] >= 1 and state["func_evals"] >= state["n_iter"]
    assert len(state["old_dirs"]) <= 10


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_closure(opt, x, calls=None):
    """LBFGS's closure for the Rosenbrock loss at ``x``; appends to ``calls`` once per evaluation."""
    def closure():
        if calls is not None:
            calls.append(1)
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss
    return closure


def test_lbfgs_strong_wolfe_reaches_the_rosenbrock_minimum():
    x = Parameter(ember.tensor([-1.5, 2.0], dtype=ember.float64))
    opt = optim.LBFGS([x], lr=1, max_iter=200, history_size=10, line_search_fn="strong_wolfe",
                      tolerance_grad=1e-10, tolerance_change=1e-14)
    for _ in range(3):
        opt.step(rosenbrock_closure(opt, x))
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-6)
    assert float(rosenbrock(x.detach())) < 1e-12
    assert opt.state[x]["func_evals"] <= 3 * opt.param_groups[0]["max_eval"]


def test_lbfgs_respects_max_eval_and_returns_early_at_a_minimum():
    x = Parameter(ember.tensor([-1.5, 2.0], dtype=ember.float64))
    opt = optim.LBFGS([x], max_iter=100, max_eval=7)
    evals = []
    opt.step(rosenbrock_closure(opt, x, evals))
    assert len(evals) == opt.state[x]["func_evals"] <= 7
    at_min = Parameter(ember.tensor([1.0, 1.0], dtype=ember.float64))
    opt = optim.LBFGS([at_min])
    evals.clear()
    opt.step(rosenbrock_closure(opt, at_min, evals))
    assert len(evals) == 1  # max|g| <= tolerance_grad at once


def test_lbfgs_state_dict_round_trip():
    def make():
        x = Parameter(ember.tensor([-1.2, 1.0], dtype=ember.float64))
        return x, optim.LBFGS([x], max_iter=5, history_size=3, line_search_fn="strong_wolfe")

    x, opt = make()
    opt.step(rosenbrock_closure(opt, x))
    y, opt2 = make()
    y._data[...] = x._data
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    opt.step(rosenbrock_closure(opt, x))
    opt2.step(rosenbrock_closure(opt2, y))
    np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())


def test_strong_wolfe_step_satisfies_the_conditions():
    from ember.optim.lbfgs import _strong_wolfe

    def f_and_g(x):
        return float(rosenbrock(x)), np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                                               200 * (x[1] - x[0] ** 2)])

    x0 = np.array([-1.2, 1.0])
    f0, g0 = f_and_g(x0)
    d = -g0
    gtd = float(g0 @ d)
    f, g, t, evals = _strong_wolfe(lambda t: f_and_g(x0 + t * d), 1.0, d, f0, g0, gtd)
    assert f <= f0 + 1e-4 * t * gtd  # sufficient decrease
    assert abs(float(g @ d)) <= 0.9 * abs(gtd)  # strong curvature condition
    f_t, g_t = f_and_g(x0 + t * d)  # the returned loss and gradient are those at the step
    assert f == f_t
    np.testing.assert_array_equal(g, g_t)
    assert 1 <= evals <= 25


def test_lbfgs_requires_closure():
    with pytest.raises(RuntimeError, match="requires a closure"):
        optim.LBFGS([Parameter(ember.ones(1))]).step(None)


def test_training_loop_reduces_loss(rng):
    """The course notes' loop: zero_grad, forward, backward, step."""
    x = ember.tensor(rng.standard_normal((32, 3)))
    w_true = ember.tensor([[1.5], [-2.0], [0.5]])
    y = x @ w_true
    w = Parameter(ember.zeros(3, 1, dtype=ember.float64))
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    losses = []
    for _ in range(100):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-8 * losses[0]
    np.testing.assert_allclose(w.detach().numpy(), w_true.numpy(), atol=1e-4)


def test_textbook_training_loop_with_nn_modules():
    """The course notes' classifier loop with `import ember as torch` and only that changed."""
    torch = ember
    from ember import nn

    torch.manual_seed(0)
    X = torch.randn(64, 4)
    y = (X[:, 0] + X[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.5)
    first = None
    for _ in range(60):
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        first = loss.item() if first is None else first
    with torch.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    assert loss.item() < 0.5 * first and acc > 0.9
    assert scheduler.get_last_lr() == [pytest.approx(0.025)]
