"""nn.Module API and containers: registration, iteration order, modes, device/dtype moves,
state_dict round trips, hooks and repr — PyTorch's documented behaviour."""
import copy
from collections import OrderedDict

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from ember import nn
from helpers import DEVICE as _DEVICE
from helpers import each_device_fixture, host

device = each_device_fixture()  # every test runs once per device; _DEVICE[0] is the running one


class Block(nn.Module):
    def __init__(self):
        super(Block, self).__init__()  # noqa: UP008  (the old-style spelling works too)
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.register_buffer("steps", ember.zeros(1))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2, bias=False)
        self.scale = nn.Parameter(ember.ones(1))

    def forward(self, x):
        return self.head(self.block(x)) * self.scale


def make_net():
    """A Net on the running test's device."""
    return Net().to(_DEVICE[0])


# ---- registration --------------------------------------------------------------------------------
def test_named_members_follow_registration_order():
    net = make_net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "block.fc.weight", "block.fc.bias", "block.bn.weight", "block.bn.bias", "head.weight"]
    assert [n for n, _ in net.named_buffers()] == [
        "block.steps", "block.scratch", "block.bn.running_mean", "block.bn.running_var",
        "block.bn.num_batches_tracked"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.bn", "head"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_parameters(prefix="model", recurse=False)] == ["model.scale"]
    assert net.head.bias is None and "bias" in net.head._parameters


def test_shared_modules_and_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_modules())) == 3
    assert len(list(seq.named_modules(remove_duplicate=False))) == 4
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert [n for n, _ in seq.named_modules(prefix="m")] == ["m", "m.0", "m.1"]


def test_setattr_moves_names_between_registries_and_rejects_wrong_types():
    m = nn.Module()
    m.x = nn.Parameter(ember.ones(2))
    assert "x" in m._parameters
    with pytest.raises(TypeError, match="as parameter 'x'"):
        m.x = nn.Linear(1, 1)
    del m.x
    m.x = nn.Linear(1, 1)
    assert "x" in m._modules and "x" not in m._parameters
    m.x = nn.Parameter(ember.ones(2))  # a Parameter takes the name over
    assert "x" in m._parameters and "x" not in m._modules
    del m.x
    m.x = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'x'"):
        m.x = 3
    m.x = None
    assert m._modules["x"] is None
    m.register_buffer("b", ember.zeros(1))
    with pytest.raises(TypeError, match="as buffer 'b'"):
        m.b = 1.0
    m.p = nn.Parameter(ember.zeros(1))
    with pytest.raises(TypeError, match=r"cannot assign 'ember.FloatTensor' as parameter 'p'"):
        m.p = ember.zeros(1)
    del m.p
    assert "p" not in m._parameters and not hasattr(m, "p")
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        _ = m.missing


def test_registration_errors():
    m = nn.Module()
    m.w = 1
    with pytest.raises(KeyError, match="attribute 'w' already exists"):
        m.register_buffer("w", ember.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="empty string"):
        m.add_module("", nn.ReLU())
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(TypeError, match=r"cannot assign 'ember.FloatTensor' object to parameter 'q'"):
        m.register_parameter("q", ember.zeros(1))
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("q", _non_leaf_param())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__"):
        Early()
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        nn.Module(foo=1)


def _non_leaf_param():
    p = nn.Parameter(ember.zeros(1))
    p.grad_fn = (p * 2).grad_fn  # a Parameter carrying history, as PyTorch forbids
    return p


def test_get_submodule_parameter_buffer_and_dir():
    net = make_net()
    assert net.get_submodule("block.fc") is net.block.fc
    assert net.get_submodule("") is net
    assert net.get_parameter("block.fc.weight") is net.block.fc.weight
    assert net.get_buffer("block.bn.running_mean") is net.block.bn.running_mean
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("block.nope")
    with pytest.raises(AttributeError, match=r"is not an nn.Module"):
        net.get_submodule("scale")
    with pytest.raises(AttributeError, match=r"is not an nn.Parameter"):
        net.get_parameter("block.steps")
    names = dir(net)
    assert {"block", "head", "scale", "forward", "training"} <= set(names)
    assert not any(n[0].isdigit() for n in dir(nn.Sequential(nn.ReLU())))


# ---- modes, grads, apply --------------------------------------------------------------------------
def test_train_eval_requires_grad_zero_grad_apply():
    net = make_net()
    assert net.training and net.block.bn.training
    assert net.eval() is net and not net.block.bn.training
    net.train()
    assert net.block.fc.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")
    net(ember.randn(5, 3, device=_DEVICE[0])).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grad = net.head.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.head.weight.grad is grad and not host(grad).any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Block", "Linear", "Net"]


def test_to_double_float_keep_parameter_identity():
    net = make_net()
    params = list(net.parameters())
    net(ember.randn(4, 3, device=_DEVICE[0])).sum().backward()
    assert net.double() is net
    assert all(p is q for p, q in zip(params, net.parameters()))
    assert all(p.dtype == ember.float64 and p.grad.dtype == ember.float64 for p in net.parameters())
    assert net.block.bn.running_mean.dtype == ember.float64
    assert net.block.bn.num_batches_tracked.dtype == ember.int64  # integer buffers keep their dtype
    net.to(ember.float32)
    assert net.head.weight.dtype == ember.float32
    net.to("cpu", dtype=ember.float64)
    assert net.scale.dtype == ember.float64 and net.scale.requires_grad
    net.float().cpu()
    assert net.scale.dtype == ember.float32
    with pytest.raises(TypeError, match="only accepts floating point"):
        net.to(ember.int64)


# ---- state dict -----------------------------------------------------------------------------------
def test_state_dict_keys_values_and_round_trip():
    net = make_net()
    sd = net.state_dict()
    assert list(sd) == ["scale", "block.steps", "block.fc.weight", "block.fc.bias", "block.bn.weight",
                        "block.bn.bias", "block.bn.running_mean", "block.bn.running_var",
                        "block.bn.num_batches_tracked", "head.weight"]
    assert isinstance(sd, OrderedDict) and not sd["scale"].requires_grad
    assert sd["block.fc.weight"]._data is net.block.fc.weight._data  # shares memory, like PyTorch
    assert net.state_dict(keep_vars=True)["scale"] is net.scale
    other = make_net()
    params = list(other.parameters())
    result = other.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert all(p is q for p, q in zip(params, other.parameters()))  # loaded in place
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(host(v), host(sd[k]))
    x = ember.randn(5, 3, device=_DEVICE[0])
    net.eval(), other.eval()
    np.testing.assert_array_equal(host(net(x)), host(other(x)))


def test_state_dict_survives_save_and_load(tmp_path):
    net = make_net()
    net(ember.randn(4, 3, device=_DEVICE[0]))  # moves the BatchNorm statistics away from their initial values
    ember.save(net.state_dict(), tmp_path / "net.pt")
    other = make_net()
    other.load_state_dict(ember.load(tmp_path / "net.pt"))
    for (k, a), (k2, b) in zip(net.state_dict().items(), other.state_dict().items()):
        assert k == k2 and a.dtype == b.dtype
        np.testing.assert_array_equal(host(a), host(b))


def test_load_state_dict_strictness_and_errors():
    net = make_net()
    sd = net.state_dict()
    del sd["head.weight"]
    sd["block.extra"] = ember.zeros(1, device=_DEVICE[0])
    sd["block.scratch"] = ember.zeros(2, device=_DEVICE[0])  # non-persistent: not expected
    with pytest.raises(RuntimeError) as err:
        make_net().load_state_dict(sd)
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "head.weight".' in msg
    assert 'Unexpected key(s) in state_dict: "block.extra", "block.scratch".' in msg
    result = make_net().load_state_dict(sd, strict=False)
    assert result.missing_keys == ["head.weight"]
    assert result.unexpected_keys == ["block.extra", "block.scratch"]
    bad = net.state_dict()
    bad["head.weight"] = ember.zeros(3, 3, device=_DEVICE[0])
    with pytest.raises(RuntimeError, match=r"size mismatch for head.weight: copying a param with shape "
                                           r"ember.Size\(\[3, 3\]\) from checkpoint, the shape in current model "
                                           r"is ember.Size\(\[2, 4\]\)"):
        make_net().load_state_dict(bad, strict=False)


def test_load_state_dict_assign_replaces_tensors():
    net = nn.Linear(2, 2).to(_DEVICE[0])
    w = ember.ones(2, 2, device=_DEVICE[0])
    net.load_state_dict({"weight": w, "bias": ember.zeros(2, device=_DEVICE[0])}, assign=True)
    assert isinstance(net.weight, nn.Parameter) and net.weight._data is w._data and net.weight.requires_grad


def test_deepcopy_gives_independent_module():
    net = make_net()
    twin = copy.deepcopy(net)
    assert twin.block.fc.weight is not net.block.fc.weight
    np.testing.assert_array_equal(host(twin.block.fc.weight), host(net.block.fc.weight))
    with ember.no_grad():
        twin.block.fc.weight.fill_(0)
    assert host(net.block.fc.weight).any()
    assert isinstance(twin.scale, nn.Parameter)


# ---- hooks ----------------------------------------------------------------------------------------
def test_forward_pre_hooks_and_forward_hooks():
    lin = nn.Linear(2, 2).to(_DEVICE[0])
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(("fwd", out.shape)) or out + 1)
    out = lin(ember.randn(3, 2, device=_DEVICE[0]))
    np.testing.assert_allclose(host(out), (host(lin.bias) + 1)[None].repeat(3, 0),
                               rtol=1e-6)
    assert calls == [("fwd", ember.Size([3, 2]))]
    h1.remove()
    h2.remove()
    x = ember.randn(3, 2, device=_DEVICE[0])
    np.testing.assert_allclose(host(lin(x)), host(F.linear(x, lin.weight, lin.bias)))
    order = []
    lin.register_forward_hook(lambda m, a, o: order.append("b"))
    lin.register_forward_hook(lambda m, a, o: order.append("a"), prepend=True)
    lin(x)
    assert order == ["a", "b"]


def test_hooks_with_kwargs_and_always_call_and_context_manager():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            if factor < 0:
                raise ValueError("negative")
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": kwargs.get("factor", 1.0) * 2}),
                                with_kwargs=True)
    seen = []
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["factor"]), with_kwargs=True)
    assert m(ember.ones(1, device=_DEVICE[0]), factor=3.0).item() == 6.0
    assert seen == [6.0]
    always = []
    with m.register_forward_hook(lambda mod, a, o: always.append(o), always_call=True), \
            pytest.raises(ValueError):
        m(ember.ones(1, device=_DEVICE[0]), factor=-1.0)
    assert always == [None]
    m(ember.ones(1, device=_DEVICE[0]))
    assert always == [None]  # removed by the context manager


def test_full_backward_hook_sees_and_replaces_gradients():
    lin = nn.Linear(3, 2).double().to(_DEVICE[0])
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True, device=_DEVICE[0])
    seen = {}

    def hook(module, grad_input, grad_output):
        seen["in"], seen["out"] = grad_input, grad_output
        return (grad_input[0] * 10,)

    handle = lin.register_full_backward_hook(hook)
    out = lin(x)
    g = ember.randn(4, 2, dtype=ember.float64, device=_DEVICE[0])
    out.backward(g)
    w = host(lin.weight)
    np.testing.assert_allclose(host(seen["out"][0]), host(g))
    np.testing.assert_allclose(host(seen["in"][0]), host(g) @ w)
    np.testing.assert_allclose(host(x.grad), 10 * host(g) @ w)
    np.testing.assert_allclose(host(lin.weight.grad), host(g).T @ host(x))
    handle.remove()
    x.grad = None
    lin(x).backward(g)
    np.testing.assert_allclose(host(x.grad), host(g) @ w)


def test_backward_hooks_with_inputs_that_need_no_grad():
    lin = nn.Linear(3, 2).to(_DEVICE[0])
    seen = []
    lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 0,))
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    lin(ember.randn(4, 3, device=_DEVICE[0])).sum().backward()
    assert len(seen) == 1 and seen[0][0] == (None,)
    assert not host(seen[0][1][0]).any() and not host(lin.weight.grad).any()


# ---- repr -----------------------------------------------------------------------------------------
def test_repr_matches_pytorch_layout():
    net = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 6, 5)), ("act", nn.ReLU()),
                                     ("inner", nn.Sequential(nn.Flatten(), nn.Linear(784, 512)))]))
    assert repr(net) == (
        "Sequential(\n"
        "  (conv): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n"
        "  (act): ReLU()\n"
        "  (inner): Sequential(\n"
        "    (0): Flatten(start_dim=1, end_dim=-1)\n"
        "    (1): Linear(in_features=784, out_features=512, bias=True)\n"
        "  )\n"
        ")")
    assert repr(nn.Module()) == "Module()"
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    assert repr(layers) == ("ModuleList(\n"
                            "  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
                            "  (3): ReLU()\n"
                            ")")
    plist = nn.ParameterList([nn.Parameter(ember.zeros(2, 3)), ember.zeros(4, dtype=ember.float64)])
    assert repr(plist) == ("ParameterList(\n"
                           "    (0): Parameter containing: [ember.float32 of size 2x3]\n"
                           "    (1): Parameter containing: [ember.float64 of size 4]\n"
                           ")")


def test_forward_missing_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)


# ---- containers -----------------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c and len(seq) == 3 and list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"] and sub[0] is b
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is c
    seq.insert(-1, b)
    assert seq[2] is b and len(seq) == 4
    seq[0] = nn.Linear(2, 3)
    assert seq[0] is not a
    assert len(seq + nn.Sequential(nn.ReLU())) == 5
    x = ember.randn(5, 2)
    out = nn.Sequential(a, b, c)(x)
    ref = np.maximum(x.numpy() @ a.weight.detach().numpy().T + a.bias.detach().numpy(), 0)
    ref = ref @ c.weight.detach().numpy().T + c.bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-5, atol=1e-6)


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml += [nn.Tanh()]
    ml.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in ml] == ["Sigmoid", "Linear", "ReLU", "Tanh"]
    assert list(ml._modules) == ["0", "1", "2", "3"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert type(ml[0]).__name__ == "Linear" and len(list(ml.parameters())) == 2
    md = nn.ModuleDict({"act": nn.ReLU(), "lin": nn.Linear(2, 2)})
    md.update([("out", nn.Identity())])
    assert list(md.keys()) == ["act", "lin", "out"] and "lin" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["lin.weight", "lin.bias"]
    assert isinstance(md.pop("act"), nn.ReLU) and list(md) == ["lin", "out"]


def test_parameter_list_and_dict():
    pl = nn.ParameterList([ember.zeros(2)])
    pl.append(nn.Parameter(ember.ones(3)))
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    holder = nn.Module()
    holder.params = pl
    assert [n for n, _ in holder.named_parameters()] == ["params.0", "params.1"]
    pd = nn.ParameterDict({"a": ember.zeros(1)})
    pd["b"] = nn.Parameter(ember.ones(2))
    assert list(pd.keys()) == ["a", "b"] and isinstance(pd["a"], nn.Parameter)
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]
