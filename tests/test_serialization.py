"""ember.save / ember.load: bit-exact round trips of state dicts and nested structures, the
documented file layout, atomic saves, and clear errors (never code execution) for anything that is
not a well-formed checkpoint."""
import io
import json
import os
import pickle
import struct
from collections import OrderedDict
from pathlib import Path

import ember
import numpy as np
import pytest
from ember import optim, serialization
from ember.nn.parameter import Parameter

INVALID = "is not a valid ember checkpoint"


def model_like_state_dict(rng):
    """What a small conv net + batch norm + embedding model's state_dict holds."""
    return OrderedDict([
        ("conv.weight", ember.tensor(rng.standard_normal((4, 3, 3, 3)), dtype=ember.float32)),
        ("conv.bias", ember.tensor(rng.standard_normal(4), dtype=ember.float32)),
        ("bn.running_mean", ember.tensor(rng.standard_normal(4), dtype=ember.float32)),
        ("bn.num_batches_tracked", ember.tensor(7)),  # 0-d int64
        ("emb.weight", ember.tensor(rng.standard_normal((5, 1)), dtype=ember.float64)),
        ("half", ember.tensor(rng.standard_normal((2, 3)), dtype=ember.float16)),
        ("mask", ember.tensor(rng.standard_normal(9) > 0)),
        ("bytes", ember.tensor(rng.integers(0, 255, 6), dtype=ember.uint8)),
        ("small_ints", ember.tensor(rng.integers(-100, 100, (3, 2)), dtype=ember.int8)),
        ("i16", ember.tensor(rng.integers(-1000, 1000, 3), dtype=ember.int16)),
        ("i32", ember.tensor(rng.integers(-10**6, 10**6, 3), dtype=ember.int32)),
        ("empty", ember.zeros(0, 3)),
        ("transposed", ember.tensor(rng.standard_normal((3, 5))).t()),  # non-contiguous
    ])


def round_trip(obj, **load_kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **load_kwargs)


def assert_same_tensor(a, b):
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape) and a.device == b.device
    assert np.array_equal(a.numpy(), b.numpy(), equal_nan=a.is_floating_point())
    assert a.numpy().tobytes() == b.numpy().tobytes()  # bit-exact, -0.0 and NaN payloads included


def test_model_state_dict_round_trip_bit_exact(tmp_path, rng):
    sd = model_like_state_dict(rng)
    sd["conv.bias"]._data[0] = -0.0
    sd["emb.weight"]._data[1, 0] = np.nan
    path = tmp_path / "model.pt"
    ember.save(sd, path)
    loaded = ember.load(path)
    assert type(loaded) is OrderedDict and list(loaded) == list(sd)
    for k in sd:
        assert_same_tensor(sd[k], loaded[k])
        assert loaded[k].is_contiguous() and not loaded[k].requires_grad
    loaded["conv.weight"]._data[...] = 0  # loaded tensors own writable memory
    assert not np.all(sd["conv.weight"].numpy() == 0)


def test_optimizer_state_dict_round_trip(rng):
    params = [Parameter(ember.tensor(rng.standard_normal((3, 2)), dtype=ember.float32)),
              Parameter(ember.tensor(rng.standard_normal(4), dtype=ember.float32))]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}], amsgrad=True)
    for _ in range(3):
        for p in params:
            p.grad = ember.tensor(rng.standard_normal(p.shape), dtype=ember.float32)
        opt.step()
    sd = opt.state_dict()
    loaded = round_trip(sd)
    assert loaded["param_groups"] == sd["param_groups"]  # betas stay tuples, foreach stays None
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert list(loaded["state"]) == [0, 1]  # int keys survive
    for i in (0, 1):
        assert list(loaded["state"][i]) == list(sd["state"][i])
        for k in sd["state"][i]:
            assert_same_tensor(sd["state"][i][k], loaded["state"][i][k])

    copies = [Parameter(p.detach().clone()) for p in params]
    opt2 = optim.Adam([{"params": copies[:1]}, {"params": copies[1:]}])
    opt2.load_state_dict(loaded)
    grads = [ember.tensor(rng.standard_normal(p.shape), dtype=ember.float32) for p in params]
    for ps, o in ((params, opt), (copies, opt2)):
        for p, g in zip(ps, grads):
            p.grad = g
        o.step()
    for p, q in zip(params, copies):
        assert_same_tensor(p.detach(), q.detach())


def test_nested_structures_round_trip():
    t = ember.arange(6).reshape(2, 3)
    obj = {
        "epoch": 12, "big": 2 ** 70, "neg": -3, "loss": 0.125, "tiny": 5e-324, "ratio": 1.0,
        "specials": [float("inf"), float("-inf")], "flag": True, "none": None, "text": "ünïcode ✓",
        "nested": {"list": [1, [2, [3, (4, 5)]]], "empty": {}, "empty_list": [], "empty_tuple": ()},
        "int_keys": {0: "a", 3: "b"}, "mixed_keys": {1: 1, "1": 2, 2.5: 3, (1, 2): 4, None: 5,
                                                     False: 6},
        "marker_lookalike": {"__tensor__": 0}, "odict": OrderedDict([("z", 1), ("a", t)]),
        "shared": [t, t], "numpy_scalars": [np.float32(0.5), np.int64(3), np.bool_(True)],
        "param": Parameter(ember.ones(2)),
    }
    out = round_trip(obj)
    for key in ("epoch", "big", "neg", "loss", "tiny", "flag", "none", "text", "int_keys",
                "mixed_keys", "marker_lookalike"):
        assert out[key] == obj[key] and type(out[key]) is type(obj[key]), key
    assert out["specials"] == [float("inf"), float("-inf")]
    assert type(out["ratio"]) is float and type(out["epoch"]) is int
    assert out["nested"] == {"list": [1, [2, [3, (4, 5)]]], "empty": {}, "empty_list": [],
                             "empty_tuple": ()}
    assert type(out["odict"]) is OrderedDict and list(out["odict"]) == ["z", "a"]
    assert out["shared"][0] is out["shared"][1] is out["odict"]["a"]  # saved once, loaded once
    assert_same_tensor(out["shared"][0], t)
    assert out["numpy_scalars"] == [0.5, 3, True]
    assert out["param"].requires_grad and out["param"].is_leaf  # Parameter-ness is not kept
    assert np.isnan(round_trip(float("nan")))
    assert_same_tensor(round_trip(ember.tensor(3.5)), ember.tensor(3.5))


def test_documented_layout(rng):
    sd = {"w": ember.tensor(rng.standard_normal((2, 3)), dtype=ember.float32),
          "n": ember.tensor([1, 2, 3])}
    buf = io.BytesIO()
    ember.save(sd, buf)
    raw = buf.getvalue()
    magic, version, header_len = struct.unpack("<8sIQ", raw[:20])
    assert magic == b"EMBERCKP" and version == 1
    data_start = 20 + header_len
    assert data_start % 64 == 0
    header = json.loads(raw[20:data_start])
    assert header["format"] == "ember" and header["object"] == {"w": {"__tensor__": 0},
                                                                 "n": {"__tensor__": 1}}
    w, n = header["tensors"]
    assert (w["dtype"], w["shape"], w["device"]) == ("float32", [2, 3], "cpu")
    assert (n["dtype"], n["shape"]) == ("int64", [3])
    begin, end = n["data_offsets"]
    assert begin % 64 == 0 and end - begin == 24
    assert np.frombuffer(raw[data_start + begin:data_start + end], dtype="<i8").tolist() == [1, 2, 3]
    assert len(raw) == data_start + header["data_size"]


def test_paths_and_file_objects(tmp_path):
    t = ember.ones(3)
    ember.save({"t": t}, str(tmp_path / "a.ckpt"))
    with open(tmp_path / "b.ckpt", "wb") as f:
        ember.save({"t": t}, f)
    for name in ("a.ckpt", "b.ckpt"):
        assert_same_tensor(ember.load(Path(tmp_path / name))["t"], t)
        with open(tmp_path / name, "rb") as f:
            assert_same_tensor(ember.load(f)["t"], t)
    with pytest.raises(FileNotFoundError):
        ember.save({"t": t}, tmp_path / "missing_dir" / "x.ckpt")


def test_unsupported_objects_are_rejected():
    with pytest.raises(TypeError, match=r"cannot save obj\['f'\] of type function"):
        ember.save({"f": lambda: 0}, io.BytesIO())
    with pytest.raises(TypeError, match="of type set"):
        ember.save([{1, 2}], io.BytesIO())
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="cyclic"):
        ember.save(cyclic, io.BytesIO())


def test_interrupted_save_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(1000)}, path)
    before = path.read_bytes()
    real_write = serialization._write_array

    def write_half_then_fail(fh, arr):
        fh.write(arr.reshape(-1).view(np.uint8)[: arr.nbytes // 2].tobytes())
        raise OSError("No space left on device")

    monkeypatch.setattr(serialization, "_write_array", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        ember.save({"w": ember.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temporary file left behind

    monkeypatch.setattr(serialization, "_write_array", real_write)
    ember.save({"w": ember.zeros(1000)}, path)
    assert np.all(ember.load(path)["w"].numpy() == 0)
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_save_keeps_the_existing_file_mode(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"a": 1}, path)
    os.chmod(path, 0o640)
    ember.save({"a": 2}, path)
    assert (os.stat(path).st_mode & 0o777) == 0o640 and ember.load(path) == {"a": 2}


@pytest.fixture
def checkpoint_bytes(rng):
    buf = io.BytesIO()
    ember.save({"w": ember.tensor(rng.standard_normal((4, 4))), "step": 3}, buf)
    return buf.getvalue()


def load_bytes(data: bytes):
    return ember.load(io.BytesIO(data))


def test_truncated_files(checkpoint_bytes, tmp_path):
    header_len = struct.unpack("<Q", checkpoint_bytes[12:20])[0]
    for cut in (0, 5, 19, 20, 20 + header_len // 2, 20 + header_len, len(checkpoint_bytes) - 1):
        path = tmp_path / f"cut{cut}.pt"
        path.write_bytes(checkpoint_bytes[:cut])
        with pytest.raises(RuntimeError, match=f"cut{cut}.pt' {INVALID}"):
            ember.load(path)


def rewrite_header(data: bytes, edit) -> bytes:
    """The checkpoint with its JSON header replaced by edit(header) (re-padded, same data)."""
    header_len = struct.unpack("<Q", data[12:20])[0]
    header = json.loads(data[20:20 + header_len])
    text = json.dumps(edit(header)).encode()
    text += b" " * (header_len - len(text))
    assert len(text) == header_len
    return data[:20] + text + data[20 + header_len:]


@pytest.mark.parametrize("edit,reason", [
    (lambda h: {**h, "tensors": [{**h["tensors"][0], "dtype": "object"}]}, "has dtype 'object'"),
    (lambda h: {**h, "tensors": [{**h["tensors"][0], "data_offsets": [64, 64 + 128]}]},
     "lie outside the data section"),
    (lambda h: {**h, "tensors": [{**h["tensors"][0], "shape": [4, 5]}]}, "needs 160 bytes"),
    (lambda h: {**h, "tensors": [{**h["tensors"][0], "shape": [-4, -4]}]}, "invalid shape"),
    (lambda h: {**h, "tensors": [{**h["tensors"][0], "device": "tpu"}]}, "invalid device"),
    (lambda h: {**h, "object": {"__tensor__": 5}}, "tensor reference 5 is out of range"),
    (lambda h: {**h, "object": {"__dict__": [[[1], 2]]}}, "unhashable dict key"),
    (lambda h: {**h, "object": {"__float__": "1e999"}}, "invalid special float"),
    (lambda h: {**h, "data_size": 10 ** 12}, "extends past the end of the file"),
    (lambda h: {k: v for k, v in h.items() if k != "object"}, "lacks the format"),
    (lambda h: [h], "lacks the format"),
])
def test_corrupted_headers(checkpoint_bytes, edit, reason):
    with pytest.raises(RuntimeError, match=INVALID + ".*" + reason):
        load_bytes(rewrite_header(checkpoint_bytes, edit))


def test_corrupted_prefix_and_json(checkpoint_bytes):
    bad_json = bytearray(checkpoint_bytes)
    bad_json[21] = ord("}")
    with pytest.raises(RuntimeError, match=INVALID + ": the header is not valid JSON"):
        load_bytes(bytes(bad_json))
    huge = checkpoint_bytes[:12] + struct.pack("<Q", 2 ** 62) + checkpoint_bytes[20:]
    with pytest.raises(RuntimeError, match=r"header length .* exceeds the file size"):
        load_bytes(huge)
    v2 = checkpoint_bytes[:8] + struct.pack("<I", 2) + checkpoint_bytes[12:]
    with pytest.raises(RuntimeError, match="unsupported format version 2"):
        load_bytes(v2)
    with pytest.raises(RuntimeError, match="bad magic bytes"):
        load_bytes(b"X" + checkpoint_bytes[1:])
    not_utf8 = bytearray(checkpoint_bytes)
    not_utf8[22] = 0xFF
    with pytest.raises(RuntimeError, match="not valid JSON"):
        load_bytes(bytes(not_utf8))


def test_bool_tensor_bytes_are_validated():
    buf = io.BytesIO()
    ember.save(ember.tensor([True, False]), buf)
    data = bytearray(buf.getvalue())
    data[-1] = 7
    with pytest.raises(RuntimeError, match="bool but holds bytes other than 0 and 1"):
        load_bytes(bytes(data))


class _Payload:
    """Unpickling this runs code: it would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_malicious_pickle_is_rejected_without_running_it(tmp_path):
    marker = tmp_path / "marker"
    evil = tmp_path / "model.pt"
    evil.write_bytes(pickle.dumps({"state_dict": _Payload(str(marker))}))
    with pytest.raises(RuntimeError, match=INVALID + ".*looks like a PyTorch/pickle file"):
        ember.load(evil)
    with pytest.raises(RuntimeError, match=INVALID):
        ember.load(evil, weights_only=False)
    assert not marker.exists()
    zipped = tmp_path / "torch.pt"
    zipped.write_bytes(b"PK\x03\x04" + b"\0" * 100)  # PyTorch's zip container
    with pytest.raises(RuntimeError, match="looks like a PyTorch/pickle file"):
        ember.load(zipped)
    with pytest.raises(ValueError, match="does not use pickle"):
        ember.load(evil, pickle_module=pickle)


def test_map_location_cpu_forms():
    t = ember.arange(4.0)
    for loc in (None, "cpu", ember.device("cpu"), {"cuda:0": "cpu"}):
        assert round_trip({"t": t}, map_location=loc)["t"].device == ember.device("cpu")
    seen = []

    def keep(tensor, location):
        seen.append(location)
        return tensor * 2

    out = round_trip({"t": t, "u": t}, map_location=keep)
    assert seen == ["cpu"] and np.array_equal(out["t"].numpy(), [0, 2, 4, 6])
    assert round_trip({"t": t}, map_location=lambda tensor, loc: None)["t"].device.type == "cpu"
    with pytest.raises(TypeError, match="map_location"):
        round_trip({"t": t}, map_location=3.5)


def test_cuda_saved_tensor_needs_map_location_without_cuda(checkpoint_bytes):
    data = rewrite_header(checkpoint_bytes,
                          lambda h: {**h, "tensors": [{**h["tensors"][0], "device": "cuda:0"}]})
    if ember.cuda.is_available():
        assert load_bytes(data)["w"].is_cuda
    else:
        with pytest.raises(RuntimeError, match="map_location='cpu'"):
            load_bytes(data)
    out = ember.load(io.BytesIO(data), map_location="cpu")
    assert out["w"].device == ember.device("cpu")
    out = ember.load(io.BytesIO(data), map_location={"cuda:0": "cpu"})
    assert out["w"].device == ember.device("cpu")


@pytest.mark.cuda
def test_cuda_round_trip(tmp_path, rng):
    sd = model_like_state_dict(rng)
    on_gpu = OrderedDict((k, v.cuda()) for k, v in sd.items())
    ember.save(on_gpu, tmp_path / "gpu.pt")
    back = ember.load(tmp_path / "gpu.pt")
    cpu = ember.load(tmp_path / "gpu.pt", map_location="cpu")
    for k in sd:
        assert back[k].is_cuda and not cpu[k].is_cuda
        assert_same_tensor(cpu[k], sd[k])
        assert_same_tensor(back[k].cpu(), sd[k])
    moved = ember.load(tmp_path / "gpu.pt", map_location=lambda t, loc: t.cuda())
    assert all(v.is_cuda for v in moved.values())


def test_training_checkpoint_of_nn_model_resumes_identically(tmp_path):
    """PyTorch's "saving a general checkpoint" recipe with only the import changed."""
    torch = ember
    from ember import nn

    def make():
        model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
        return model, torch.optim.Adam(model.parameters(), lr=0.01)

    def train_step(model, optimizer, x, y):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    torch.manual_seed(0)
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    model, optimizer = make()
    for _ in range(3):
        loss = train_step(model, optimizer, x, y)
    path = tmp_path / "checkpoint.pt"
    torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss.item()}, path)

    model2, optimizer2 = make()
    checkpoint = torch.load(path, weights_only=True)
    model2.load_state_dict(checkpoint["model_state_dict"])
    optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
    assert checkpoint["epoch"] == 3 and checkpoint["loss"] == loss.item()
    model2.train()
    for _ in range(2):
        train_step(model, optimizer, x, y)
        train_step(model2, optimizer2, x, y)
    for (name, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        assert a.numpy().tobytes() == b.numpy().tobytes(), name
