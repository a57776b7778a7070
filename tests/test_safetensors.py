"""ember.safetensors: the safetensors.torch API over the real safetensors library; files exchanged
with PyTorch's safetensors.torch when torch is importable."""
from __future__ import annotations

import subprocess
import sys

import ember
import ember.nn as nn
import numpy as np
import pytest

pytest.importorskip("safetensors")
from ember.safetensors import load, load_file, safe_open, save, save_file  # noqa: E402

DTYPES = [ember.float32, ember.float64, ember.float16, ember.int8, ember.int16, ember.int32, ember.int64,
          ember.uint8, ember.bool]


def _sample(dtype, shape=(2, 3)):
    values = np.random.default_rng(0).standard_normal(shape) * 10
    return ember.tensor(values > 0 if dtype == ember.bool else values).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_round_trip_keeps_values_dtype_and_shape(tmp_path, dtype):
    tensors = {"x": _sample(dtype), "empty": ember.zeros(0, 4, dtype=dtype), "scalar": _sample(dtype, ())}
    save_file(tensors, tmp_path / "t.safetensors")
    for loaded in (load_file(tmp_path / "t.safetensors"), load(save(tensors))):
        assert loaded.keys() == tensors.keys()
        for name, t in tensors.items():
            assert loaded[name].dtype == dtype and loaded[name].shape == t.shape
            np.testing.assert_array_equal(loaded[name].numpy(), t.numpy())


def test_a_state_dict_loads_back_into_a_model(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    save_file(model.state_dict(), tmp_path / "m.safetensors", metadata={"format": "pt"})
    other = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    other.load_state_dict(load_file(tmp_path / "m.safetensors"))
    x = ember.randn(5, 4)
    model.eval(), other.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), other(x).detach().numpy())


def test_safe_open_reads_one_tensor_and_the_metadata(tmp_path):
    save_file({"a": ember.arange(3.0), "b": ember.ones(2, 2)}, tmp_path / "f.safetensors", {"k": "v"})
    with safe_open(tmp_path / "f.safetensors", framework="pt") as f:
        assert sorted(f.keys()) == ["a", "b"] and f.metadata() == {"k": "v"}
        np.testing.assert_array_equal(f.get_tensor("a").numpy(), [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="framework"):
        safe_open(tmp_path / "f.safetensors", framework="tf")


def test_bad_inputs_raise_the_library_types():
    x = ember.arange(6.0).view(2, 3)
    with pytest.raises(ValueError, match="non contiguous tensor: `a`"):
        save({"a": x.t()})
    with pytest.raises(RuntimeError, match="share memory"):
        save({"a": x, "b": x[1]})
    with pytest.raises(ValueError, match="`a` is invalid"):
        save({"a": 1.0})
    with pytest.raises(ValueError, match="dict"):
        save([x])
    with pytest.raises(ValueError, match="metadata"):
        save({"a": x}, metadata={"k": 1})


def test_a_dtype_ember_lacks_is_named(tmp_path):
    import json
    import struct

    header = json.dumps({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    header += b" " * (-len(header) % 8)
    (tmp_path / "bf16.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    with pytest.raises(TypeError, match=r"bf16\.safetensors.*bfloat16"):
        load_file(tmp_path / "bf16.safetensors")


def _torch_python():
    """A Python that imports torch and safetensors.torch, for a process on the other side."""
    pytest.importorskip("torch")
    pytest.importorskip("safetensors.torch")
    return sys.executable


def test_pytorch_reads_what_ember_writes(tmp_path):
    python = _torch_python()
    tensors = {d.name: _sample(d) for d in DTYPES}
    save_file(tensors, tmp_path / "e.safetensors")
    code = ("import sys, numpy as np; from safetensors.torch import load_file; t = load_file(sys.argv[1]); "
            "np.savez(sys.argv[2], **{k: v.numpy() for k, v in t.items()})")
    subprocess.run([python, "-c", code, str(tmp_path / "e.safetensors"), str(tmp_path / "t.npz")], check=True)
    back = np.load(tmp_path / "t.npz")
    for name, t in tensors.items():
        np.testing.assert_array_equal(back[name], t.numpy())
        assert back[name].dtype == t.numpy().dtype


def test_ember_reads_what_pytorch_writes(tmp_path):
    python = _torch_python()
    code = ("import sys, torch; from safetensors.torch import save_file; torch.manual_seed(0); "
            "m = torch.nn.Linear(4, 3); save_file(m.state_dict(), sys.argv[1]); "
            "torch.save({k: v for k, v in m.state_dict().items()}, sys.argv[2])")
    subprocess.run([python, "-c", code, str(tmp_path / "t.safetensors"), str(tmp_path / "t.pt")], check=True)
    from_safetensors = load_file(tmp_path / "t.safetensors")
    from_checkpoint = ember.load(tmp_path / "t.pt")
    model = nn.Linear(4, 3)
    model.load_state_dict(from_safetensors)
    for name, t in from_checkpoint.items():
        np.testing.assert_array_equal(from_safetensors[name].numpy(), t.numpy())
