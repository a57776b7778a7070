"""ember.save / ember.load: PyTorch's zip checkpoint format, bit-exact round trips of state dicts
and nested structures, files exchanged with real PyTorch (when it is importable), the weights-only
unpickler, CRC checks, atomic saves, Ember's earlier format, and clear errors (never code execution)
for anything that is not a well-formed checkpoint."""
import io
import json
import os
import pickle
import re
import signal
import struct
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import ember
import numpy as np
import pytest
from ember import optim, serialization
from ember.nn.parameter import Parameter

INVALID = "is not a valid checkpoint"


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
        assert not loaded[k].requires_grad
        if sd[k].numel():  # strides kept (an empty tensor's are whatever NumPy made them)
            assert loaded[k].stride() == sd[k].stride()
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
        "shared": [t, t], "param": Parameter(ember.ones(2)), "a_set": {1, 2}, "raw": b"\x00\xff",
        "complex": 1 + 2j, "dtype": ember.float16, "size": ember.Size([2, 3]), "device": ember.device("cpu"),
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
    assert type(out["param"]) is Parameter and out["param"].requires_grad and out["param"].is_leaf
    for key in ("a_set", "raw", "complex", "dtype", "size", "device"):
        assert out[key] == obj[key] and type(out[key]) is type(obj[key]), key
    assert np.isnan(round_trip(float("nan")))
    assert_same_tensor(round_trip(ember.tensor(3.5)), ember.tensor(3.5))


def test_pytorch_zip_layout(rng):
    sd = {"w": ember.tensor(rng.standard_normal((2, 3)), dtype=ember.float32),
          "n": ember.tensor([1, 2, 3])}
    buf = io.BytesIO()
    ember.save(sd, buf)
    raw = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        names = zf.namelist()
        assert names == ["archive/data.pkl", "archive/.format_version", "archive/.storage_alignment",
                         "archive/byteorder", "archive/data/0", "archive/data/1", "archive/version",
                         "archive/.data/serialization_id"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        assert zf.read("archive/byteorder") == b"little" and zf.read("archive/version") == b"3\n"
        assert zf.read("archive/.storage_alignment") == b"64"
        assert zf.read("archive/.data/serialization_id").isdigit()
        for i, expected in ((0, sd["w"].numpy()), (1, np.array([1, 2, 3], dtype="<i8"))):
            info = zf.getinfo(f"archive/data/{i}")
            name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
            begin = info.header_offset + 30 + name_len + extra_len
            assert begin % 64 == 0  # storages are 64-byte aligned in the file
            assert raw[begin:begin + info.file_size] == expected.astype(expected.dtype.newbyteorder("<")).tobytes()
        ops = [(op.name, arg) for op, arg, _ in __import__("pickletools").genops(zf.read("archive/data.pkl"))]
    globals_ = {arg for name, arg in ops if name == "GLOBAL"}
    assert globals_ == {"torch._utils _rebuild_tensor_v2", "torch FloatStorage", "torch LongStorage",
                        "collections OrderedDict"}
    assert ("BINPERSID", None) in ops and ops[0] == ("PROTO", 2)


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


def test_bad_save_arguments():
    with pytest.raises(pickle.PicklingError):
        ember.save({"f": lambda: 0}, io.BytesIO())
    with pytest.raises(ValueError, match="pickle_protocol"):
        ember.save({}, io.BytesIO(), pickle_protocol=1)
    with pytest.raises(ValueError, match="pickle_module"):
        ember.save({}, io.BytesIO(), pickle_module=json)
    with pytest.raises(RuntimeError, match="legacy"):
        ember.save({}, io.BytesIO(), _use_new_zipfile_serialization=False)
    t = ember.arange(3.0)
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert_same_tensor(ember.load(_saved({"t": t}, pickle_protocol=protocol))["t"], t)
    cyclic = []
    cyclic.append(cyclic)
    out = round_trip(cyclic, weights_only=True)
    assert out[0] is out


def _saved(obj, **kwargs) -> io.BytesIO:
    buf = io.BytesIO()
    ember.save(obj, buf, **kwargs)
    buf.seek(0)
    return buf


def test_interrupted_save_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(1000)}, path)
    before = path.read_bytes()
    real_write = serialization._write_storage

    def write_half_then_fail(out, payload):
        out.write(payload[: payload.nbytes // 2])
        raise OSError("No space left on device")

    monkeypatch.setattr(serialization, "_write_storage", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        ember.save({"w": ember.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temporary file left behind

    monkeypatch.setattr(serialization, "_write_storage", real_write)
    ember.save({"w": ember.zeros(1000)}, path)
    assert np.all(ember.load(path)["w"].numpy() == 0)
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_atomic_save_without_unnamed_temporary_files(tmp_path, monkeypatch):
    """Where the OS has no O_TMPFILE, saves go through a named temporary file, still atomically."""
    monkeypatch.setattr(serialization, "_open_unnamed", lambda directory: (None, False))
    test_interrupted_save_leaves_previous_checkpoint_intact(tmp_path, monkeypatch)


def test_save_keeps_the_existing_file_mode(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"a": 1}, path)
    os.chmod(path, 0o640)
    ember.save({"a": 2}, path)
    assert (os.stat(path).st_mode & 0o777) == 0o640 and ember.load(path) == {"a": 2}


def ember_v1_bytes(value, arrays) -> bytes:
    """A checkpoint in Ember's earlier JSON format (files already written in it must still load)."""
    metas, data = [], b""
    for arr in arrays:
        begin = -(-len(data) // 64) * 64
        data += b"\0" * (begin - len(data))
        metas.append({"dtype": arr.dtype.name, "shape": list(arr.shape), "device": "cpu",
                      "requires_grad": False, "data_offsets": [begin, begin + arr.nbytes]})
        data += arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    header = json.dumps({"format": "ember", "version": 1, "data_size": len(data), "tensors": metas,
                         "object": value}).encode()
    header += b" " * (-(20 + len(header)) % 64)
    return struct.pack("<8sIQ", b"EMBERCKP", 1, len(header)) + header + data


@pytest.fixture
def checkpoint_bytes(rng):
    return ember_v1_bytes({"w": {"__tensor__": 0}, "step": 3}, [rng.standard_normal((4, 4))])


def test_earlier_ember_format_still_loads(checkpoint_bytes, rng):
    out = load_bytes(checkpoint_bytes)
    assert out["step"] == 3 and out["w"].shape == (4, 4) and out["w"].dtype == ember.float64
    arrays = [rng.standard_normal(3).astype(np.float32), np.arange(4, dtype=np.int16)]
    value = {"__odict__": [["a", {"__tensor__": 0}], ["b", {"__tuple__": [{"__tensor__": 1}, 2.5]}]]}
    out = load_bytes(ember_v1_bytes(value, arrays))
    assert type(out) is OrderedDict and np.array_equal(out["a"].numpy(), arrays[0])
    assert np.array_equal(out["b"][0].numpy(), arrays[1]) and out["b"][1] == 2.5


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
    with pytest.raises(RuntimeError, match="neither a zip checkpoint nor an ember checkpoint"):
        load_bytes(b"X" + checkpoint_bytes[1:])
    not_utf8 = bytearray(checkpoint_bytes)
    not_utf8[22] = 0xFF
    with pytest.raises(RuntimeError, match="not valid JSON"):
        load_bytes(bytes(not_utf8))


def test_bool_tensor_bytes_are_validated():
    data = bytearray(ember_v1_bytes({"__tensor__": 0}, [np.array([True, False])]))
    data[-1] = 7
    with pytest.raises(RuntimeError, match="bool but holds bytes other than 0 and 1"):
        load_bytes(bytes(data))


class _Payload:
    """Unpickling this runs code: it would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_pickle_that_is_not_a_zip_is_refused(tmp_path):
    marker = tmp_path / "marker"
    evil = tmp_path / "model.pt"
    evil.write_bytes(pickle.dumps({"state_dict": _Payload(str(marker))}))
    for weights_only in (True, False):
        with pytest.raises(RuntimeError, match=INVALID + ".*legacy .*PyTorch checkpoint"):
            ember.load(evil, weights_only=weights_only)
    assert not marker.exists()
    with pytest.raises(RuntimeError, match=INVALID + ": it is neither a zip"):
        load_bytes(b"hello world")
    with pytest.raises(ValueError, match="pickle_module"):
        ember.load(evil, pickle_module=json)


class _System:
    """Unpickling this would run a shell command creating the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def zip_checkpoint(entries: dict, archive="archive") -> bytes:
    """A zip holding these entries (name relative to the archive folder -> bytes), stored."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries.items():
            zf.writestr(f"{archive}/{name}" if not name.startswith("/") else name[1:], data)
    return buf.getvalue()


@pytest.mark.parametrize("payload", [_Payload, _System])
def test_crafted_pickle_is_refused_by_default_and_runs_nothing(tmp_path, payload):
    marker = tmp_path / "marker"
    evil = tmp_path / "model.pt"
    evil.write_bytes(zip_checkpoint({"data.pkl": pickle.dumps({"w": payload(str(marker))}, protocol=2),
                                     "version": b"3\n"}))
    name = "builtins.exec" if payload is _Payload else f"{os.system.__module__}.system"
    with pytest.raises(pickle.UnpicklingError, match=rf"Unsupported global: GLOBAL {name} .*weights_only"):
        ember.load(evil)
    assert not marker.exists()
    ember.load(evil, weights_only=False)  # the user asked for it: the file is trusted
    assert marker.exists()


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def test_weights_only_false_and_safe_globals(tmp_path):
    from ember import nn

    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    obj = {"array": np.arange(5.0), "scalar": np.float32(0.5), "point": Point(1, 2), "model": model}
    path = tmp_path / "whole.pt"
    ember.save(obj, path)
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        ember.load(path)
    out = ember.load(path, weights_only=False)
    assert np.array_equal(out["array"], obj["array"]) and out["scalar"] == 0.5 and out["point"] == Point(1, 2)
    x = ember.randn(5, 3)
    assert type(out["model"]) is nn.Sequential
    assert out["model"](x).detach().numpy().tobytes() == model(x).detach().numpy().tobytes()

    ember.save({"p": Point(3, 4)}, path)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL test_serialization\.Point|Point was not"):
        ember.load(path)
    assert Point not in serialization.get_safe_globals()
    with serialization.safe_globals([Point]):
        assert ember.load(path) == {"p": Point(3, 4)}
        assert Point in serialization.get_safe_globals()
    assert Point not in serialization.get_safe_globals()
    serialization.add_safe_globals([Point])
    try:
        assert ember.load(path) == {"p": Point(3, 4)}
    finally:
        serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []


ALL_DTYPES = [ember.float32, ember.float64, ember.float16, ember.int8, ember.int16, ember.int32, ember.int64,
              ember.uint8, ember.bool]


def every_dtype(rng) -> dict:
    out = {}
    for dt in ALL_DTYPES:
        if dt == ember.bool:
            values = rng.standard_normal((3, 4)) > 0
        elif dt.is_floating_point:
            values = rng.standard_normal((3, 4)) * 100
        else:
            values = rng.integers(0 if dt == ember.uint8 else -100, 100, (3, 4))
        out[dt.name] = ember.tensor(values, dtype=dt)
        out[dt.name + "_t"] = out[dt.name].t()  # a non-contiguous view of the same storage
    return out


@pytest.mark.parametrize("mmap", [False, True])
def test_every_dtype_round_trips(tmp_path, rng, mmap):
    sd = every_dtype(rng)
    path = tmp_path / "dtypes.pt"
    ember.save(sd, path)
    with zipfile.ZipFile(path) as zf:
        assert sum(n.startswith("dtypes/data/") for n in zf.namelist()) == len(ALL_DTYPES)  # views: once
    out = ember.load(path, mmap=mmap)
    for k, t in sd.items():
        assert_same_tensor(out[k], t)
        assert out[k].stride() == t.stride()
    for dt in ALL_DTYPES:
        assert np.shares_memory(out[dt.name].numpy(), out[dt.name + "_t"].numpy())
    if mmap:
        assert not out["float32"].numpy().flags.writeable  # mapped read-only from the file
    with pytest.raises(ValueError, match="mmap=True needs f to be a path"):
        ember.load(io.BytesIO(path.read_bytes()), mmap=True)


def test_views_share_storage_and_keep_offsets():
    base = ember.arange(12.0)
    grid = base.view(3, 4)
    views = [base, grid, grid[1:], grid.t(), grid[:, 1::2]]
    buf = _saved(views)
    with zipfile.ZipFile(buf) as zf:
        assert [n for n in zf.namelist() if "/data/" in n] == ["archive/data/0"]
    buf.seek(0)
    out = ember.load(buf)
    for a, b in zip(out, views):
        assert_same_tensor(a, b)
        assert a.stride() == b.stride()
    out[0]._data[5] = -1.0  # one storage again: a write shows through every view
    assert out[1][1, 1].item() == -1.0 and out[2][0, 1].item() == -1.0 and out[3][1, 1].item() == -1.0


def storage_entry_offset(raw: bytes, name: str) -> int:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        info = zf.getinfo(name)
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len


@pytest.mark.parametrize("mmap", [False, True])
def test_crc_mismatch_is_caught(tmp_path, rng, mmap):
    raw = _saved({"w": ember.tensor(rng.standard_normal(64))}).getvalue()
    begin = storage_entry_offset(raw, "archive/data/0")
    for flip in (0, 100, 511):
        bad = bytearray(raw)
        bad[begin + flip] ^= 0x10
        path = tmp_path / f"flip{flip}.pt"
        path.write_bytes(bytes(bad))
        with pytest.raises(RuntimeError, match=f"flip{flip}.pt' {INVALID}.*Bad CRC-32.*archive/data/0"):
            ember.load(path, mmap=mmap)


def test_truncated_and_crafted_zips(tmp_path, rng):
    raw = _saved({"w": ember.tensor(rng.standard_normal(64))}).getvalue()
    for cut in (10, len(raw) // 2, len(raw) - 1):
        path = tmp_path / f"cut{cut}.pt"
        path.write_bytes(raw[:cut])
        with pytest.raises(RuntimeError, match=f"cut{cut}.pt' {INVALID}"):
            ember.load(path)
    pkl = pickle.dumps({"a": 1}, protocol=2)
    cases = {
        "lies outside the archive folder": zip_checkpoint({"data.pkl": pkl, "/archive/../../etc/x": b"1"}),
        "no single <archive>/data.pkl": zip_checkpoint({"other.pkl": pkl}),
        "no entry archive/data/7": zip_checkpoint({"data.pkl": _storage_pickle("7", 4)}),
        "needs 16": zip_checkpoint({"data.pkl": _storage_pickle("0", 4), "data/0": b"\0" * 8}),
    }
    compressed = io.BytesIO()
    with zipfile.ZipFile(compressed, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", pkl)
    cases["is compressed"] = compressed.getvalue()
    for reason, data in cases.items():
        with pytest.raises(RuntimeError, match=INVALID + ".*" + re.escape(reason)):
            load_bytes(data)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        ember.load(tmp_path)


class _Call:
    """Pickles as the call ``func(*args)``."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _storage_pickle(key: str, numel: int, stride=(1,), size=None) -> bytes:
    """data.pkl text for one float32 tensor of ``storage key`` written the way torch does."""
    buf = io.BytesIO()
    pickler = serialization._Pickler(buf, 2)
    ref = serialization._StorageRef(0, "float32", "cpu")
    pickler.storages.append(np.zeros(numel, np.float32))
    pickler.dump(_Call(serialization._REBUILD_TENSOR, (ref, 0, size or (numel,), stride, False, OrderedDict())))
    return buf.getvalue().replace(b"X\x01\x00\x00\x000", b"X" + struct.pack("<I", len(key)) + key.encode())


def test_tensor_reaching_past_its_storage_is_refused():
    data = zip_checkpoint({"data.pkl": _storage_pickle("0", 4, stride=(2,)), "data/0": b"\0" * 16})
    with pytest.raises(pickle.UnpicklingError, match="reaches past its storage of 4 elements"):
        load_bytes(data)


def test_killed_saves_leave_no_temporaries(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(4)}, path)
    script = ("import ember, sys\nw = ember.ones(4_000_000)\n"
              "while True:\n    ember.save({'w': w}, sys.argv[1])\n")
    env = {**os.environ, "PYTHONPATH": str(Path(ember.__file__).parent.parent)}
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", script, str(path)], env=env)
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    stale = tmp_path / ".ckpt.pt.0123456789abcdef.tmp"  # as a save without O_TMPFILE leaves it
    stale.write_bytes(b"partial")
    (tmp_path / "other.txt").write_bytes(b"kept")
    ember.save({"w": ember.zeros(4)}, path)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.pt", "other.txt"]
    assert np.all(ember.load(path)["w"].numpy() == 0)


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


# ---- files exchanged with real PyTorch (only where torch is importable) ----------------------------
def _torch_every_dtype(torch):
    gen = torch.Generator().manual_seed(0)
    out = OrderedDict()
    for name in [dt.name for dt in ALL_DTYPES]:
        dt = getattr(torch, name)
        if dt == torch.bool:
            t = torch.rand(3, 4, generator=gen) > 0.5
        elif dt.is_floating_point:
            t = (torch.randn(3, 4, generator=gen, dtype=torch.float64) * 100).to(dt)
        else:
            t = torch.randint(0 if dt == torch.uint8 else -100, 100, (3, 4), generator=gen, dtype=dt)
        out[name] = t
        out[name + "_t"] = t.t()
        out[name + "_slice"] = t[1:, ::2]
    return out


def _same_as_torch(e, t):
    assert e.dtype.name == str(t.dtype).removeprefix("torch.") and tuple(e.shape) == tuple(t.shape)
    assert e.stride() == t.stride() or not t.numel()
    assert e.detach().numpy().tobytes() == t.detach().numpy().tobytes()


@pytest.mark.parametrize("mmap", [False, True])
def test_torch_writes_ember_reads(tmp_path, mmap):
    torch = pytest.importorskip("torch")
    sd = _torch_every_dtype(torch)
    param = torch.nn.Parameter(torch.arange(4.0))
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    obj = {"tensors": sd, "param": param, "model": model.state_dict(), "optim": opt.state_dict(),
           "meta": {"epoch": 3, "lr": 0.5, "name": "run", "shape": torch.Size([2]), "dtype": torch.float16,
                    "device": torch.device("cpu"), "tuple": (1, 2.5), "none": None}}
    path = tmp_path / "from_torch.pt"
    torch.save(obj, path)
    out = ember.load(path, weights_only=True, mmap=mmap)
    for k, t in sd.items():
        _same_as_torch(out["tensors"][k], t)
    assert type(out["param"]) is Parameter and out["param"].requires_grad
    _same_as_torch(out["param"], param)
    for k, t in model.state_dict().items():
        _same_as_torch(out["model"][k], t)
    assert out["optim"]["param_groups"] == opt.state_dict()["param_groups"]
    for i, state in opt.state_dict()["state"].items():
        for k, t in state.items():
            _same_as_torch(out["optim"]["state"][i][k], t)
    assert out["meta"] == {"epoch": 3, "lr": 0.5, "name": "run", "shape": ember.Size([2]), "dtype": ember.float16,
                           "device": ember.device("cpu"), "tuple": (1, 2.5), "none": None}


def test_ember_writes_torch_reads(tmp_path, rng):
    torch = pytest.importorskip("torch")
    from ember import nn

    sd = every_dtype(rng)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    opt = optim.Adam(model.parameters())
    model(ember.randn(5, 3)).sum().backward()
    opt.step()
    obj = {"tensors": sd, "param": Parameter(ember.arange(4.0)), "views": [sd["float32"][1:], sd["float32"][:, 2]],
           "model": model.state_dict(), "optim": opt.state_dict(),
           "meta": {"epoch": 3, "shape": ember.Size([2]), "dtype": ember.float16, "device": ember.device("cpu")}}
    path = tmp_path / "from_ember.pt"
    ember.save(obj, path)
    out = torch.load(path, weights_only=True)
    for k, e in sd.items():
        _same_as_torch(e, out["tensors"][k])
    for e, t in zip(obj["views"], out["views"]):
        _same_as_torch(e, t)
    assert out["views"][0].untyped_storage().data_ptr() == out["tensors"]["float32"].untyped_storage().data_ptr()
    assert type(out["param"]) is torch.nn.Parameter and out["param"].requires_grad
    for k, e in model.state_dict().items():
        _same_as_torch(e, out["model"][k])
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    torch_model.load_state_dict(out["model"])
    torch_model.eval()
    model.eval()
    x = rng.standard_normal((2, 3)).astype(np.float32)
    expected = model(ember.tensor(x)).detach().numpy()
    assert np.allclose(torch_model(torch.from_numpy(x)).detach().numpy(), expected, rtol=0, atol=1e-6)
    for i, state in opt.state_dict()["state"].items():
        for k, e in state.items():
            _same_as_torch(e, out["optim"]["state"][i][k])
    assert out["meta"] == {"epoch": 3, "shape": torch.Size([2]), "dtype": torch.float16, "device": torch.device("cpu")}
    edge = {"empty": ember.zeros(0, 3), "scalar": ember.tensor(3.5), "expanded": ember.arange(3.0).expand(4, 3)}
    ember.save(edge, path)
    for k, t in torch.load(path, weights_only=True).items():
        _same_as_torch(edge[k], t)
        assert t.stride() == {"empty": (3, 1), "scalar": (), "expanded": (0, 1)}[k]

    ember.save({"array": np.arange(3.0), "point": Point(1, 2)}, path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(path, weights_only=True)
    other = torch.load(path, weights_only=False)
    assert np.array_equal(other["array"], np.arange(3.0)) and other["point"] == Point(1, 2)


def test_torch_files_ember_cannot_represent(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "bf16.pt"
    torch.save({"w": torch.ones(2, dtype=torch.bfloat16)}, path)
    with pytest.raises(RuntimeError, match="bfloat16 tensor, and Ember has no bfloat16 dtype"):
        ember.load(path)
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match=r"legacy .*PyTorch checkpoint"):
        ember.load(path)
