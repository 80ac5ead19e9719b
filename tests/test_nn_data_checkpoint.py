"""DataLoader batching and seeding; safetensors checkpoints: round trips, torch interop, atomic
writes, hostile files; exact training resume after save/load of model and optimizer."""
import json
import os
import struct

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from helpers import npy

pytest.importorskip("safetensors", reason="checkpoints need the optional 'safetensors' extra")


# --- data ----------------------------------------------------------------------------------------
def test_tensor_dataset_and_loader():
    x, y = ag.arange(10).reshape(10, 1).to(ag.float32), ag.arange(10)
    ds = nn.data.TensorDataset(x, y)
    assert len(ds) == 10 and int(ds[3][1]) == 3
    batches = list(nn.data.DataLoader(ds, batch_size=4))
    assert [tuple(b[0].shape) for b in batches] == [(4, 1), (4, 1), (2, 1)]
    assert npy(batches[2][1]).tolist() == [8, 9]
    dl = nn.data.DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dl) == 2 and len(list(dl)) == 2
    ag.manual_seed(1)
    first = np.concatenate([npy(b[1]) for b in nn.data.DataLoader(ds, batch_size=3, shuffle=True)])
    assert sorted(first.tolist()) == list(range(10)) and first.tolist() != list(range(10))
    ag.manual_seed(1)
    again = np.concatenate([npy(b[1]) for b in nn.data.DataLoader(ds, batch_size=3, shuffle=True)])
    np.testing.assert_array_equal(first, again)
    # rows stay paired with their labels
    for bx, by in nn.data.DataLoader(ds, batch_size=3, shuffle=True):
        np.testing.assert_array_equal(npy(bx)[:, 0], npy(by))
    with pytest.raises(ValueError, match="size mismatch"):
        nn.data.TensorDataset(x, ag.arange(9))


def test_default_collate_generic_dataset():
    class Pairs(nn.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": ag.full((2,), float(i)), "y": i}
    b = next(iter(nn.data.DataLoader(Pairs(), batch_size=3)))
    assert tuple(b["x"].shape) == (3, 2) and npy(b["y"]).tolist() == [0, 1, 2] and b["y"].dtype is ag.int64
    rng = np.random.default_rng(0)
    order = [int(v) for v in npy(next(iter(nn.data.DataLoader(Pairs(), batch_size=5, shuffle=True, generator=rng)))["y"])]
    assert order == np.random.default_rng(0).permutation(5).tolist()


# --- checkpoints ------------------------------------------------------------------------------------
def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3))


def test_state_dict_round_trip(tmp_path):
    m = _cnn()
    m(ag.randn(2, 1, 8, 8))                   # moves the BN running stats
    p = tmp_path / "m.safetensors"
    nn.save(m.state_dict(), p)
    sd = nn.load(p)
    assert list(sd) == list(m.state_dict())
    for k, v in m.state_dict().items():
        assert sd[k].dtype is v.dtype
        np.testing.assert_array_equal(npy(sd[k]), npy(v))
    m2 = _cnn()
    m2.load_state_dict(sd)
    x = ag.randn(3, 1, 8, 8)
    m.eval(), m2.eval()
    np.testing.assert_array_equal(npy(m(x)), npy(m2(x)))
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_torch_interop(tmp_path):
    torch = pytest.importorskip("torch", reason="interop with torch's safetensors loader")
    from safetensors.torch import load_file, save_file
    m = _cnn().double()
    nn.save(m.state_dict(), tmp_path / "ours.safetensors")
    t = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                            torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(64, 3)).double()
    t.load_state_dict(load_file(str(tmp_path / "ours.safetensors")))          # strict: same keys and shapes
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8))
    m.eval(), t.eval()
    np.testing.assert_allclose(npy(m(ag.tensor(x))), t(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    # and back: a torch file loads here
    t2 = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    save_file(t2.state_dict(), str(tmp_path / "theirs.safetensors"))
    m2 = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    m2.load_state_dict(nn.load(tmp_path / "theirs.safetensors"))
    np.testing.assert_array_equal(npy(m2[0].weight), t2[0].weight.detach().numpy())
    assert m2[1].num_batches_tracked.dtype is ag.int64


def test_nested_objects_round_trip(tmp_path):
    obj = {"state": {0: {"step": ag.tensor(3.0), "buf": ag.ones(2)}, 5: {}},
           "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "foo": None, "name": "x",
                             "params": [0, 5]}],
           "epoch": 7, "inf": float("inf")}
    nn.save(obj, tmp_path / "o.safetensors")
    back = nn.load(tmp_path / "o.safetensors")
    assert back["param_groups"] == obj["param_groups"] and back["epoch"] == 7 and back["inf"] == float("inf")
    assert set(back["state"]) == {0, 5} and back["state"][5] == {}
    assert float(back["state"][0]["step"]) == 3.0 and npy(back["state"][0]["buf"]).tolist() == [1, 1]
    with pytest.raises(TypeError, match="cannot store a value of type object"):
        nn.save({"a": object()}, tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()


def _bad(tmp_path, blob, name="bad.safetensors"):
    p = tmp_path / name
    p.write_bytes(blob)
    return p


def test_hostile_and_corrupt_files(tmp_path):
    good = tmp_path / "good.safetensors"
    nn.save({"w": ag.randn(4, 4), "meta": {"k": 1}}, good)
    blob = good.read_bytes()
    cases = {
        "empty": b"",
        "truncated": blob[:-7],
        "header_len_huge": struct.pack("<Q", 10 ** 12) + blob[8:],
        "pickle": b"\x80\x04\x95" + b"cos\nsystem\n(S'echo pwned'\ntR." * 3,
        "garbage_json": struct.pack("<Q", 10) + b"{not json}",
    }
    for name, data in cases.items():
        p = _bad(tmp_path, data, name + ".safetensors")
        with pytest.raises(ValueError, match=name + ".safetensors"):
            nn.load(p)
    # flipped data byte: caught by the recorded SHA-256
    flipped = bytearray(blob)
    flipped[-3] ^= 0xFF
    with pytest.raises(ValueError, match="corrupted"):
        nn.load(_bad(tmp_path, bytes(flipped), "flip.safetensors"))
    # a forged structure record that points at a missing tensor
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    header["__metadata__"]["tapegrad.tree"] = json.dumps({"D": [["w", {"T": "nope"}]]})
    hb = json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)
    with pytest.raises(ValueError, match="malformed structure.*nope"):
        nn.load(_bad(tmp_path, struct.pack("<Q", len(hb)) + hb + blob[8 + n:], "forged.safetensors"))
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing.safetensors")


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "ck.safetensors"
    nn.save({"a": ag.ones(2)}, p)
    before = p.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        nn.save({"a": ag.zeros(2)}, p)
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.safetensors"]


# --- training ---------------------------------------------------------------------------------------
def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    y = rng.integers(0, 3, n)
    x = centers[y] + 0.5 * rng.standard_normal((n, 2))
    return ag.tensor(x, dtype=ag.float32), ag.tensor(y)


def test_mlp_learns_blobs():
    ag.manual_seed(0)
    x, y = _blobs()
    m = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = nn.optim.Adam(m.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    first = float(loss_fn(m(x), y))
    for _ in range(3):
        for bx, by in nn.data.DataLoader(nn.data.TensorDataset(x, y), batch_size=32, shuffle=True):
            opt.zero_grad()
            loss_fn(m(bx), by).backward()
            opt.step()
    with ag.no_grad():
        acc = float((m(x).argmax(1) == y).to(ag.float32).mean())
        last = float(loss_fn(m(x), y))
    assert last < first / 3 and acc > 0.95


def _bars(n=64, seed=0):
    """8x8 images with a horizontal (class 0) or vertical (class 1) bar, plus noise."""
    rng = np.random.default_rng(seed)
    x = 0.1 * rng.standard_normal((n, 1, 8, 8))
    y = rng.integers(0, 2, n)
    pos = rng.integers(1, 7, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, pos[i], :] += 1.0
        else:
            x[i, 0, :, pos[i]] += 1.0
    return ag.tensor(x, dtype=ag.float32), ag.tensor(y)


def test_small_cnn_learns_bars():
    ag.manual_seed(0)
    x, y = _bars()
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(64, 2))
    opt = nn.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    for _ in range(15):
        opt.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
    m.eval()
    xt, yt = _bars(seed=1)
    with ag.no_grad():
        acc = float((m(xt).argmax(1) == yt).to(ag.float32).mean())
    assert acc > 0.9


def test_training_resumes_exactly(tmp_path):
    ag.manual_seed(0)
    x, y = _blobs(40)

    def make():
        m = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))
        return m, nn.optim.AdamW(m.parameters(), lr=0.01, amsgrad=True)

    def train(m, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            opt.step()

    m, opt = make()
    train(m, opt, 3)
    nn.save(m.state_dict(), tmp_path / "model.safetensors")
    nn.save(opt.state_dict(), tmp_path / "optim.safetensors")
    train(m, opt, 4)                              # the uninterrupted run

    m2, opt2 = make()                             # fresh random init, then resume
    m2.load_state_dict(nn.load(tmp_path / "model.safetensors"))
    opt2.load_state_dict(nn.load(tmp_path / "optim.safetensors"))
    train(m2, opt2, 4)
    for (k, a), b in zip(m.state_dict().items(), m2.state_dict().values()):
        np.testing.assert_array_equal(npy(a), npy(b), err_msg=k)
