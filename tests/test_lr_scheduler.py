"""optim.lr_scheduler: learning-rate sequences against closed forms, hand-computed lists and the
examples of PyTorch's documentation."""
import io
import math
import warnings

import ember
import numpy as np
import pytest
from ember import optim
from ember.nn.parameter import Parameter
from ember.optim import lr_scheduler as S


def make_optimizer(lr=0.1, groups=1, cls=optim.SGD, **kwargs):
    params = [{"params": [Parameter(ember.zeros(2))], "lr": lr * (i + 1)} for i in range(groups)]
    return cls(params, lr=lr, **kwargs)


def lrs_over(scheduler, epochs, group=0):
    """The lr of ``group`` at epochs 0..epochs-1 (stepping the optimizer first, as documented)."""
    out = []
    for _ in range(epochs):
        out.append(scheduler.optimizer.param_groups[group]["lr"])
        scheduler.optimizer.step()
        scheduler.step()
    return out


def test_step_lr_hand_computed():
    opt = make_optimizer(0.1)
    sched = S.StepLR(opt, step_size=2, gamma=0.1)
    np.testing.assert_allclose(lrs_over(sched, 6), [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-12)
    assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_multistep_lr_with_repeated_milestone_and_two_groups():
    opt = make_optimizer(1.0, groups=2)
    sched = S.MultiStepLR(opt, milestones=[2, 4, 4], gamma=0.5)
    np.testing.assert_allclose(lrs_over(sched, 6), [1, 1, 0.5, 0.5, 0.125, 0.125])
    np.testing.assert_allclose(sched.get_last_lr(), [0.125, 0.25])


@pytest.mark.parametrize("make,closed", [
    (lambda o: S.ExponentialLR(o, gamma=0.7), lambda e: 0.7 ** e),
    (lambda o: S.ConstantLR(o, factor=0.25, total_iters=3), lambda e: 0.25 if e < 3 else 1.0),
    (lambda o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=4),
     lambda e: 0.2 + (0.9 - 0.2) * min(e, 4) / 4),
    (lambda o: S.PolynomialLR(o, total_iters=5, power=2.0), lambda e: (1 - min(e, 5) / 5) ** 2),
    (lambda o: S.LambdaLR(o, lambda e: 1 / (e + 1)), lambda e: 1 / (e + 1)),
    (lambda o: S.MultiplicativeLR(o, lambda e: 0.9), lambda e: 0.9 ** e),
    (lambda o: S.CosineAnnealingLR(o, T_max=4, eta_min=0.1),
     lambda e: 0.1 + (1 - 0.1) * (1 + math.cos(math.pi * e / 4)) / 2),
])
def test_recursive_forms_match_closed_forms(make, closed):
    sched = make(make_optimizer(1.0))
    epochs = 11  # CosineAnnealingLR goes through its minimum and back up
    np.testing.assert_allclose(lrs_over(sched, epochs), [closed(e) for e in range(epochs)],
                               rtol=1e-12, atol=1e-15)


def test_linear_lr_documented_example():
    # lr 0.05, start_factor 0.5, total_iters 4: 0.025, 0.03125, 0.0375, 0.04375, then 0.05
    sched = S.LinearLR(make_optimizer(0.05), start_factor=0.5, total_iters=4)
    np.testing.assert_allclose(lrs_over(sched, 6), [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05])


def test_step_with_epoch_uses_closed_form_and_warns():
    sched = S.StepLR(make_optimizer(1.0), step_size=3, gamma=0.5)
    sched.optimizer.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(7)
    assert sched.last_epoch == 7 and sched.get_last_lr() == [0.25]


def test_cosine_warm_restarts_sequence_and_fractional_epochs():
    opt = make_optimizer(1.0)
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.0)

    def cos_lr(t_cur, t_i):
        return (1 + math.cos(math.pi * t_cur / t_i)) / 2

    # periods of 3 then 6 then 12 epochs
    want = [cos_lr(e, 3) for e in range(3)] + [cos_lr(e, 6) for e in range(6)] + [cos_lr(0, 12)]
    np.testing.assert_allclose(lrs_over(sched, 10), want, rtol=1e-12, atol=1e-15)
    for epoch, t_cur, t_i in [(0.5, 0.5, 3), (3.5, 0.5, 6), (8.25, 5.25, 6), (9.0, 0.0, 12),
                              (2.0, 2.0, 3)]:
        sched.step(epoch)
        assert sched.T_i == t_i and sched.T_cur == pytest.approx(t_cur)
        assert sched.get_last_lr()[0] == pytest.approx(cos_lr(t_cur, t_i))
        assert sched.last_epoch == math.floor(epoch)
    with pytest.raises(ValueError, match="non-negative epoch"):
        sched.step(-1)
    sched = S.CosineAnnealingWarmRestarts(make_optimizer(1.0), T_0=4, eta_min=0.2)
    sched.step(6.0)
    assert sched.get_last_lr()[0] == pytest.approx(0.2 + 0.8 * cos_lr(2, 4))


@pytest.mark.parametrize("kwargs,msg", [
    ({"T_0": 0}, "Expected positive integer T_0"),
    ({"T_0": 2.5}, "Expected positive integer T_0"),
    ({"T_0": 2, "T_mult": 0}, "Expected integer T_mult >= 1"),
    ({"T_0": 2, "eta_min": "0"}, "Expected float or int eta_min"),
])
def test_cosine_warm_restarts_bad_arguments(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        S.CosineAnnealingWarmRestarts(make_optimizer(), **kwargs)


def test_one_cycle_first_peak_last_and_momentum():
    opt = make_optimizer(0.1, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3)
    lrs, momenta = [], []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        if len(lrs) < 10:
            sched.step()
    # warm-up ends at step pct_start * total_steps - 1 = 2; the last step is total_steps - 1 = 9
    assert lrs[0] == pytest.approx(1.0 / 25)
    assert lrs[2] == pytest.approx(1.0) and max(lrs) == lrs[2]
    assert lrs[9] == pytest.approx(1.0 / 25 / 1e4)
    assert lrs[1] == pytest.approx(1.0 + (0.04 - 1.0) / 2 * (math.cos(math.pi * 0.5) + 1))
    assert momenta[0] == pytest.approx(0.95) and momenta[2] == pytest.approx(0.85)
    assert momenta[9] == pytest.approx(0.95)
    assert all(a >= b for a, b in zip(lrs[2:], lrs[3:]))
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        sched.step()


def test_one_cycle_linear_three_phase_and_adam_betas():
    opt = make_optimizer(0.1, cls=optim.Adam, betas=(0.9, 0.99))
    sched = S.OneCycleLR(opt, max_lr=2.0, epochs=2, steps_per_epoch=5, pct_start=0.3,
                         anneal_strategy="linear", three_phase=True, div_factor=10.0,
                         final_div_factor=100.0)
    lrs, beta1 = [], []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        beta1.append(opt.param_groups[0]["betas"][0])
        opt.step()
        if len(lrs) < 10:
            sched.step()
    # phases end at steps 2 (max_lr), 4 (back to initial_lr) and 9 (min_lr), linearly in between
    want = [0.2, 1.1, 2.0, 1.1, 0.2] + [0.2 + (0.002 - 0.2) * k / 5 for k in range(1, 6)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    np.testing.assert_allclose(beta1[:5], [0.95, 0.9, 0.85, 0.9, 0.95], rtol=1e-12)
    assert opt.param_groups[0]["betas"][1] == 0.99  # only beta1 cycles


@pytest.mark.parametrize("kwargs,exc,msg", [
    ({"max_lr": 1.0}, ValueError, "You must define either total_steps"),
    ({"max_lr": 1.0, "total_steps": 0}, ValueError, "Expected positive integer total_steps"),
    ({"max_lr": 1.0, "epochs": 2, "steps_per_epoch": -1}, ValueError,
     "Expected positive integer steps_per_epoch"),
    ({"max_lr": 1.0, "total_steps": 10, "pct_start": 1.5}, ValueError, "pct_start"),
    ({"max_lr": 1.0, "total_steps": 10, "anneal_strategy": "exp"}, ValueError, "anneal_strategy"),
    ({"max_lr": [1.0, 2.0], "total_steps": 10}, ValueError, "expected 1 values for max_lr"),
])
def test_one_cycle_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        S.OneCycleLR(make_optimizer(momentum=0.9), **kwargs)


def test_one_cycle_needs_momentum_to_cycle():
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        S.OneCycleLR(make_optimizer(cls=optim.Adagrad), max_lr=1.0, total_steps=5)
    S.OneCycleLR(make_optimizer(cls=optim.Adagrad), max_lr=1.0, total_steps=5, cycle_momentum=False)


def test_reduce_on_plateau_patience_cooldown_min_lr():
    opt = make_optimizer(1.0)
    sched = S.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    # best 0.9 at epoch 2; 3 bad epochs (> patience) -> halve at epoch 5; cooldown 1 epoch, then 3
    # more bad epochs -> halve at epoch 9; the next cut would go below min_lr, which clips it
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]
    assert sched.get_last_lr() == [0.2] and sched.last_epoch == len(metrics)


def test_reduce_on_plateau_thresholds_and_mode_max():
    opt = make_optimizer(1.0)
    sched = S.ReduceLROnPlateau(opt, mode="max", patience=0, threshold=0.1, threshold_mode="abs")
    for m in [1.0, 1.05, 1.2]:  # 1.05 is not better than 1.0 + 0.1; 1.2 is
        sched.step(ember.tensor(m))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    assert sched.best == pytest.approx(1.2)
    rel = S.ReduceLROnPlateau(make_optimizer(1.0), threshold=0.1)  # min, rel: better if < 0.9*best
    rel.step(1.0)
    assert rel.is_better(0.89, rel.best) and not rel.is_better(0.91, rel.best)
    for kwargs, msg in [({"factor": 1.0}, "Factor should be < 1.0"),
                        ({"mode": "up"}, "mode up is unknown"),
                        ({"threshold_mode": "x"}, "threshold mode x is unknown"),
                        ({"min_lr": [0.1, 0.2]}, "expected 1 min_lrs, got 2")]:
        with pytest.raises(ValueError, match=msg):
            S.ReduceLROnPlateau(make_optimizer(), **kwargs)


def test_sequential_lr_hand_computed():
    # ConstantLR(factor 0.1, 2 iters) for epochs 0-1, then ExponentialLR(0.9) restarted at its own
    # epoch 0 (its closed form, initial_lr * 0.9**0) from epoch 2. (The comment table once in
    # PyTorch's docstring, 0.1, 0.1, 0.9, ..., disagreed with PyTorch's code; the code wins.)
    opt = make_optimizer(1.0)
    s1 = S.ConstantLR(opt, factor=0.1, total_iters=2)
    s2 = S.ExponentialLR(opt, gamma=0.9)
    sched = S.SequentialLR(opt, schedulers=[s1, s2], milestones=[2])
    np.testing.assert_allclose(lrs_over(sched, 5), [0.1, 0.1, 1.0, 0.9, 0.81], rtol=1e-12)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        S.SequentialLR(opt, schedulers=[s1, s2], milestones=[2, 3])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        S.SequentialLR(opt, schedulers=[s1, S.ReduceLROnPlateau(opt)], milestones=[2])


def test_chained_scheduler_hand_computed():
    # ConstantLR(factor 0.1, 2 iters) and ExponentialLR(0.9) compose: epoch 0 is 1 * 0.1 (the
    # exponential's epoch 0 leaves the lr alone), then x0.9 per epoch, and x10 at epoch 2 where the
    # constant factor ends.
    opt = make_optimizer(1.0)
    sched = S.ChainedScheduler([S.ConstantLR(opt, factor=0.1, total_iters=2),
                                S.ExponentialLR(opt, gamma=0.9)], optimizer=opt)
    np.testing.assert_allclose(lrs_over(sched, 5), [0.1, 0.09, 0.81, 0.729, 0.6561], rtol=1e-12)
    other = make_optimizer(1.0)
    with pytest.raises(ValueError, match="same optimizer"):
        S.ChainedScheduler([S.StepLR(opt, 2), S.StepLR(other, 2)])


def test_lambda_lr_per_group_and_state_dict():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    opt = make_optimizer(1.0, groups=2)
    sched = S.LambdaLR(opt, [Warmup(4), lambda e: 0.5 ** e])
    for _ in range(2):
        opt.step()
        sched.step()
    np.testing.assert_allclose(sched.get_last_lr(), [0.75, 2.0 * 0.25])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"n": 4}, None]
    assert "optimizer" not in state
    sched2 = S.LambdaLR(make_optimizer(1.0, groups=2), [Warmup(10), lambda e: 1.0])
    sched2.load_state_dict(state)
    assert sched2.lr_lambdas[0].n == 4 and sched2.last_epoch == 2
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        S.LambdaLR(opt, [lambda e: 1.0])


@pytest.mark.parametrize("make", [
    lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    lambda o: S.MultiStepLR(o, milestones=[2, 3]),
    lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=12),
    lambda o: S.SequentialLR(o, [S.LinearLR(o, total_iters=3), S.CosineAnnealingLR(o, T_max=5)], [3]),
])
def test_state_dict_through_a_checkpoint_resumes_identically(make):
    opt = make_optimizer(0.1, momentum=0.9)
    sched = make(opt)
    lrs_over(sched, 4)
    buf = io.BytesIO()
    ember.save({"scheduler": sched.state_dict(), "optimizer": opt.state_dict()}, buf)
    buf.seek(0)
    ckpt = ember.load(buf)
    opt2 = make_optimizer(0.1, momentum=0.9)
    sched2 = make(opt2)
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    assert lrs_over(sched2, 6) == lrs_over(sched, 6)


def test_reduce_on_plateau_state_dict_round_trip():
    opt = make_optimizer(1.0)
    sched = S.ReduceLROnPlateau(opt, patience=1)
    for m in [1.0, 2.0]:
        sched.step(m)
    buf = io.BytesIO()
    ember.save(sched.state_dict(), buf)
    buf.seek(0)
    sched2 = S.ReduceLROnPlateau(make_optimizer(1.0), patience=5)
    sched2.load_state_dict(ember.load(buf))
    assert sched2.patience == 1 and sched2.best == 1.0 and sched2.num_bad_epochs == 1
    assert sched.state_dict()["mode_worse"] == math.inf


def test_order_warning_and_get_lr_warning():
    opt = make_optimizer()
    sched = S.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match=r"`lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()
    opt = make_optimizer()
    sched = S.StepLR(opt, step_size=1)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_resuming_requires_initial_lr_and_type_checks():
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(make_optimizer(), step_size=2, last_epoch=3)
    opt = make_optimizer(1.0)
    S.StepLR(opt, step_size=2)
    resumed = S.StepLR(opt, step_size=2, gamma=0.5, last_epoch=3)  # continues at epoch 4
    assert resumed.last_epoch == 4
    with pytest.raises(TypeError, match="is not an Optimizer"):
        S.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="Constant multiplicative factor"):
        S.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        S.LinearLR(opt, start_factor=0.0)
