"""ember.profiler: what is recorded (forward ops, backward nodes, optimizer steps, user regions),
counts, nesting and self times, the table, the Chrome trace, and that nothing is recorded when
profiling is off."""
import json

import ember
import numpy as np
import pytest
from ember import nn
from ember.autograd import function as _function
from ember.profiler import ProfilerActivity, profile, record_function


def _counts(prof) -> dict:
    return {e.key: e.count for e in prof.key_averages()}


def test_forward_and_backward_ops_are_counted():
    rng = np.random.default_rng(0)
    a = ember.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((5, 1)), requires_grad=True)
    with profile() as prof:
        for _ in range(3):
            y = (a @ b).relu().sum()
            y.backward()
    counts = _counts(prof)
    for name in ("Matmul", "MatmulBackward0", "AccumulateGrad"):
        assert name in counts, sorted(counts)
    top = [e.name for e in prof.events() if e.cpu_parent is None]
    assert top.count("Matmul") == 3  # the forwards; each backward runs two more, nested in its node
    assert counts["Matmul"] == 3 + 2 * 3
    assert counts["MatmulBackward0"] == 3
    assert counts["AccumulateGrad"] == 6  # two leaves, three backward passes
    # forward ops by their Function class, backward by the node name
    fwd = {e.name for e in prof.events() if e.kind == "cpu_op" and e.cpu_parent is None}
    bwd = {e.name for e in prof.events() if e.kind == "backward"}
    assert all(not n.endswith("Backward0") for n in fwd)
    assert all(n.endswith("Backward0") or n == "AccumulateGrad" for n in bwd)
    assert all(e.device == "cpu" for e in prof.events())


def test_times_are_consistent():
    x = ember.randn(64, 64, requires_grad=True)
    with profile() as prof:
        (x @ x).tanh().sum().backward()
    for e in prof.events():
        assert e.cpu_time_total >= 0
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total + 1e-9
        # self time = total minus the directly nested regions
        nested = sum(c.cpu_time_total for c in e.cpu_children)
        assert e.self_cpu_time_total == pytest.approx(e.cpu_time_total - nested, abs=1e-6)
        for c in e.cpu_children:
            assert c.cpu_parent is e
            assert e.start_ns <= c.start_ns <= c.end_ns <= e.end_ns
    top = [e for e in prof.events() if e.cpu_parent is None]
    assert prof.self_cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in top))
    avg = {e.key: e for e in prof.key_averages()}["Matmul"]
    assert avg.cpu_time == pytest.approx(avg.cpu_time_total / avg.count)


def test_backward_formula_ops_nest_in_their_node():
    x = ember.randn(4, 3, requires_grad=True)
    w = ember.randn(3, 2, requires_grad=True)
    with profile() as prof:
        (x @ w).sum().backward()
    node = next(e for e in prof.events() if e.name == "MatmulBackward0")
    assert node.cpu_children, "the matmuls of the backward formula should nest in the node"
    assert all(c.kind == "cpu_op" for c in node.cpu_children)


def test_record_function_nesting():
    x = ember.randn(8, 8)
    with profile() as prof:
        with record_function("outer"):
            y = x + 1
            with record_function("inner"):
                y = y * 2
        z = y - 1  # noqa: F841  (outside both regions)
    events = {e.name: e for e in prof.events()}
    outer, inner = events["outer"], events["inner"]
    assert inner.cpu_parent is outer and outer.cpu_parent is None
    assert events["Mul"].cpu_parent is inner
    assert events["Add"].cpu_parent is outer
    assert events["Sub"].cpu_parent is None
    assert outer.kind == inner.kind == "user_annotation"
    assert outer.self_cpu_time_total <= outer.cpu_time_total - inner.cpu_time_total + 1e-6


def test_record_function_as_decorator_and_recursion():
    @record_function("fact")
    def fact(n):
        return ember.ones(1) if n == 0 else fact(n - 1) * n

    with profile() as prof:
        fact(3)
    facts = [e for e in prof.events() if e.name == "fact"]
    assert len(facts) == 4
    depth = max(len(list(_ancestors(e))) for e in facts)
    assert depth == 3


def _ancestors(e):
    while e.cpu_parent is not None:
        e = e.cpu_parent
        yield e


def test_optimizer_step_is_recorded():
    model = nn.Linear(4, 3)
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = ember.randn(5, 4)
    with profile() as prof:
        for _ in range(2):
            model(x).square().mean().backward()
            opt.step()
            opt.zero_grad()
    counts = _counts(prof)
    assert counts["Optimizer.step#SGD.step"] == 2


def test_table_format():
    x = ember.randn(16, 16, requires_grad=True)
    with profile() as prof:
        for _ in range(2):
            (x @ x).relu().sum().backward()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=3)
    lines = table.splitlines()
    assert lines[0].startswith("Ember profiler:")
    header = lines[2]
    for column in ("Name", "Device", "Self %", "Self", "Total %", "Total", "Avg", "# Calls"):
        assert column in header
    rows = lines[4:-2]
    assert len(rows) == 3
    assert lines[-1].startswith("Self time total:")
    # sorted by self time, decreasing
    avgs = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    assert [r.split()[0] for r in rows] == [e.key for e in avgs[:3]]
    assert all(r.split()[1] == "cpu" for r in rows)
    # every row when row_limit is negative; count sort; unknown key
    assert len(prof.key_averages().table(row_limit=-1).splitlines()) == len(prof.key_averages()) + 6
    by_count = prof.key_averages().table(sort_by="count", row_limit=1).splitlines()[4]
    assert by_count.split()[-1] == str(max(e.count for e in prof.key_averages()))
    with pytest.raises(ValueError, match="sort_by"):
        prof.key_averages().table(sort_by="flops")


def test_record_shapes_groups_by_input_shape():
    a, b = ember.randn(2, 3), ember.randn(4, 3)
    with profile(record_shapes=True) as prof:
        a + a
        b + b
        b + b
    grouped = [e for e in prof.key_averages(group_by_input_shape=True) if e.key == "Add"]
    assert sorted((e.count, e.input_shapes[0]) for e in grouped) == [(1, [2, 3]), (2, [4, 3])]
    assert [e.count for e in prof.key_averages() if e.key == "Add"] == [3]
    assert "Input Shapes" in prof.key_averages(group_by_input_shape=True).table()


def test_chrome_trace_is_valid_json(tmp_path):
    x = ember.randn(3, 3, requires_grad=True)
    with profile() as prof, record_function("step"):
        (x * x).sum().backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert len(events) == len(prof.events())
    for ev in events:
        assert ev["ph"] == "X"
        assert {"name", "ts", "dur", "pid", "tid", "cat", "args"} <= set(ev)
        assert ev["dur"] >= 0 and ev["ts"] >= 0
    assert {"step", "Mul", "MulBackward0"} <= {ev["name"] for ev in events}
    assert min(ev["ts"] for ev in events) == 0


def test_disabled_profiler_records_nothing():
    x = ember.randn(3, requires_grad=True)
    with profile(enabled=False) as prof:
        (x * 2).sum().backward()
        with record_function("region"):
            x + 1
    assert len(prof.events()) == 0 and len(prof.key_averages()) == 0
    assert _function._profiler is None
    # nothing is recorded outside the with block either
    with profile() as prof:
        x + 1
    n = len(prof.events())
    (x * 2).sum().backward()
    with record_function("after"):
        x + 1
    assert len(prof.events()) == n == 1
    assert _function._profiler is None


def test_nested_profilers_and_activities_are_rejected():
    with profile(), pytest.raises(RuntimeError, match="already enabled"), profile():
        pass
    with pytest.raises(TypeError, match="ProfilerActivity"):
        profile(activities=["cpu"])
    assert ProfilerActivity.CPU in profile().activities


def test_exception_inside_an_op_keeps_the_stack_consistent():
    x = ember.randn(2, 3)
    with profile() as prof, record_function("outer"):
        with pytest.raises(RuntimeError):
            x @ ember.randn(4, 4)  # shape mismatch raises inside the op
        x + 1
    events = {e.name: e for e in prof.events()}
    assert "Matmul" not in events  # the failed op is not recorded
    assert events["Add"].cpu_parent is events["outer"]
    assert events["outer"].cpu_parent is None


def test_profiling_does_not_change_results():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((5, 4))
    x = ember.tensor(data, requires_grad=True)
    (x.exp() * x).sum().backward()
    expected = x.grad.numpy().copy()
    x.grad = None
    with profile():
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=0, atol=0)
    np.testing.assert_allclose(expected, np.exp(data) * (1 + data), rtol=1e-12)


def test_training_benchmark_runs_and_profiles(tmp_path, capsys):
    train = pytest.importorskip("benchmarks.train")  # the repository's benchmarks (run from its root)
    out = tmp_path / "train.json"
    rc = train.main(["--only", "mlp", "--steps", "1", "--repeats", "1", "--warmup", "1", "--no-torch",
                     "--profile", "--profile-rows", "50", "--json", str(out)])
    assert rc == 0
    result = json.loads(out.read_text())["results"][0]
    assert result["config"] == "mlp" and result["parameters"] == 669_706  # PyTorch's count for this MLP
    assert result["ember"]["steps_per_s"] > 0
    printed = capsys.readouterr().out
    assert "== Ember profile: mlp" in printed and "Optimizer.step#SGD.step" in result["profile_table"]
