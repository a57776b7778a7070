"""Tensor basics: construction, dtype inference, repr, conversion, devices, factories, RNG."""
import pickle

import numpy as np
import pytest

import ember


def test_dtype_inference_matches_pytorch():
    assert ember.tensor([1, 2]).dtype == ember.int64
    assert ember.tensor([1.0, 2]).dtype == ember.float32
    assert ember.tensor([True, False]).dtype == ember.bool
    assert ember.tensor(np.zeros(2)).dtype == ember.float64
    assert ember.from_numpy(np.zeros(2, np.float32)).dtype == ember.float32
    assert ember.zeros(2).dtype == ember.float32
    assert ember.arange(5).dtype == ember.int64
    assert ember.arange(0, 1, 0.25).dtype == ember.float32
    assert (ember.tensor([1, 2]) * 1.5).dtype == ember.float32
    assert (ember.tensor([1, 2]) / 2).dtype == ember.float32
    assert (ember.tensor([1.0], dtype=ember.float64) + ember.tensor(1.0)).dtype == ember.float64
    assert (ember.tensor([1, 2], dtype=ember.int32) + 1).dtype == ember.int32
    assert (ember.tensor([1.0]) > 0).dtype == ember.bool


def test_repr_like_pytorch():
    assert repr(ember.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(ember.tensor([1, 2, 3])) == "tensor([1, 2, 3])"
    assert repr(ember.tensor(2.5)) == "tensor(2.5000)"
    assert repr(ember.tensor([0.1, 0.2])) == "tensor([0.1000, 0.2000])"
    assert repr(ember.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(ember.tensor([1.0], dtype=ember.float64)) == "tensor([1.], dtype=ember.float64)"
    x = ember.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(ember.softmax(x, 0)) == "tensor([1.], grad_fn=<SoftmaxBackward0>)"
    assert repr(ember.tensor([True])) == "tensor([True])"
    assert f"{ember.tensor(3.14159):.2f}" == "3.14"
    assert repr(ember.zeros(2, 3).shape) == "ember.Size([2, 3])"


def test_repr_right_aligns_elements_like_pytorch():
    # PyTorch pads every element to the widest one, so signs and digits line up in columns
    assert repr(ember.tensor([0.5, -0.25])) == "tensor([ 0.5000, -0.2500])"
    assert repr(ember.tensor([1.0, -2.0, 10.0])) == "tensor([ 1., -2., 10.])"
    assert repr(ember.tensor([True, False])) == "tensor([ True, False])"
    assert repr(ember.tensor([float("nan"), 1.5])) == "tensor([   nan, 1.5000])"
    assert repr(ember.tensor([[1e-5, -0.04], [0.03, 1.0]])) == (
        "tensor([[ 1.0000e-05, -4.0000e-02],\n        [ 3.0000e-02,  1.0000e+00]])")
    # the width comes from the elements a summarised print shows, not the hidden middle
    big = ember.cat([ember.zeros(3), ember.full((2000,), -123.5), ember.zeros(3)])
    assert repr(big) == "tensor([0., 0., 0.,  ..., 0., 0., 0.])"


def test_conversions():
    t = ember.tensor([[1.5, 2.5]])
    assert t.tolist() == [[1.5, 2.5]]
    assert ember.tensor(3).item() == 3
    assert np.asarray(t).shape == (1, 2)
    assert t.long().dtype == ember.int64 and t.long().tolist() == [[1, 2]]
    assert t.type(ember.float).dtype == ember.float32
    assert t.double().type() == "ember.DoubleTensor"
    assert t.to(ember.float64).dtype == ember.float64
    assert t.size() == (1, 2) and t.size(1) == 2 and t.dim() == 2 and len(t) == 1 and t.numel() == 2
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        t.item()
    with pytest.raises(TypeError, match="len"):
        len(ember.tensor(1.0))


def test_from_numpy_shares_memory_and_dlpack_round_trip():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ember.from_numpy(a)
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    t2 = ember.from_dlpack(t)
    t2[1, 1] = -1
    assert a[1, 1] == -1


def test_device_handling_without_gpu():
    t = ember.ones(2)
    assert t.device == ember.device("cpu") and str(t.device) == "cpu" and not t.is_cuda
    assert ember.backends.mps.is_available() is False
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            t.cuda()
        with pytest.raises(RuntimeError, match="CUDA"):
            ember.zeros(2, device="cuda")


def test_manual_seed_reproducible():
    ember.manual_seed(0)
    a = ember.randn(5), ember.rand(3), ember.randint(0, 10, (4,)), ember.randperm(6)
    ember.manual_seed(0)
    b = ember.randn(5), ember.rand(3), ember.randint(0, 10, (4,)), ember.randperm(6)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    g = ember.Generator().manual_seed(3)
    r1 = ember.rand(4, generator=g)
    r2 = ember.rand(4, generator=ember.Generator().manual_seed(3))
    np.testing.assert_array_equal(r1.numpy(), r2.numpy())


def test_random_distributions_have_right_moments():
    ember.manual_seed(1)
    n = ember.randn(20000)
    assert abs(n.mean().item()) < 0.03 and abs(n.std().item() - 1) < 0.03
    u = ember.rand(20000)
    assert u.min().item() >= 0 and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.01
    b = ember.bernoulli(ember.full((20000,), 0.3))
    assert abs(b.mean().item() - 0.3) < 0.02
    m = ember.multinomial(ember.tensor([0.0, 1.0, 3.0]), 4000, replacement=True)
    counts = np.bincount(m.numpy(), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / 4000 - 0.75) < 0.03
    r = ember.randint(3, 7, (1000,))
    assert r.min().item() >= 3 and r.max().item() <= 6
    p = ember.randperm(50)
    assert sorted(p.tolist()) == list(range(50))
    nm = ember.normal(2.0, 3.0, size=(20000,))
    assert abs(nm.mean().item() - 2) < 0.1 and abs(nm.std().item() - 3) < 0.1


def test_factories():
    np.testing.assert_array_equal(ember.eye(3).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_allclose(ember.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert ember.full((2, 2), 7).dtype == ember.int64
    assert ember.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    z = ember.zeros_like(ember.ones(2, 3, dtype=ember.float64))
    assert z.shape == (2, 3) and z.dtype == ember.float64
    assert ember.empty(0, 3).shape == (0, 3)
    assert ember.ones((2, 3)).shape == (2, 3)
    assert ember.Tensor(2, 3).shape == (2, 3)
    assert ember.Tensor([1, 2]).dtype == ember.float32
    assert ember.LongTensor([1, 2]).dtype == ember.int64


def test_pickle_and_clone_detach():
    t = ember.tensor([1.0, 2.0], requires_grad=True)
    u = pickle.loads(pickle.dumps(t))
    assert u.tolist() == [1.0, 2.0] and u.requires_grad
    c = t.clone()
    assert c.grad_fn is not None
    d = t.detach()
    d[0] = 5
    assert t[0].item() == 5  # detach shares memory, as in PyTorch


def test_bool_and_comparisons():
    assert bool(ember.tensor([1.0]) > 0)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.tensor([1.0, 2.0]) > 0)
    assert ember.equal(ember.tensor([1, 2]), ember.tensor([1, 2]))
    assert ember.allclose(ember.tensor([1.0]), ember.tensor([1.0 + 1e-9]))


def test_num_threads_round_trip():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        x = ember.randn(300, 300)
        np.testing.assert_allclose((x @ x).numpy(), x.numpy() @ x.numpy(), rtol=1e-4, atol=1e-3)
    finally:
        ember.set_num_threads(before)
    assert ember.get_num_threads() == before
    with pytest.raises(ValueError, match="'n' must be >= 1"):
        ember.set_num_threads(0)
    with pytest.raises(TypeError, match="'n' must be int"):
        ember.set_num_threads(2.0)
