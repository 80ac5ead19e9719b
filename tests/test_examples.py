"""The examples on a small budget: they learn, --resume continues exactly, the asymmetric ETA model
over-predicts, the PyTorch port gives PyTorch's numbers, and the main job's memory table holds.

Each example is imported and its main() called with arguments (no subprocess start-up); the
digits examples need scikit-learn (the data) and safetensors (the checkpoints) and skip without
them. Expected values come from outside the code under test: chance level, an uninterrupted run,
PyTorch itself, the byte size of an activation the tape must keep.
"""
import importlib.util
import pathlib
import re

import numpy as np
import pytest

import autograd

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def load(monkeypatch):
    """Import examples/NAME.py as a module, with examples/ on sys.path for `common`."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    autograd.set_default_device("cpu")       # the examples choose their device with --device

    def _load(name):
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    return _load


def _digits_deps():
    pytest.importorskip("sklearn", reason="the digits examples load scikit-learn's bundled data set")
    pytest.importorskip("safetensors", reason="the digits examples checkpoint with nn.save (safetensors)")


def _quick(out, *extra):
    return ["--quick", "--no-progress", "--no-plot", "--out", str(out), *extra]


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_digits_learns_and_checkpoints(load, tmp_path, name):
    _digits_deps()
    import nn
    model, hist = load(name).main(_quick(tmp_path, "--epochs", "3"))
    assert len(hist["train_loss"]) == 3
    assert hist["train_loss"][-1] < 0.8 * hist["train_loss"][0]
    assert hist["test_acc"][-1] > 0.5                       # chance is 0.1 for ten classes
    ck = nn.load(tmp_path / f"{name}.safetensors")
    assert ck["epoch"] == 3 and ck["step"] == 3 * 8         # 256 images / batch 32 = 8 steps per epoch
    for k, v in model.state_dict().items():                 # the checkpoint is the final model
        np.testing.assert_array_equal(ck["model"][k].numpy(), v.numpy())
    assert set(ck["optimizer"]["state"]) == set(range(len(list(model.parameters()))))


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_resume_matches_uninterrupted_run(load, tmp_path, name):
    _digits_deps()
    import nn
    mod = load(name)
    _, full = mod.main(_quick(tmp_path / "full", "--epochs", "3"))
    _, part = mod.main(_quick(tmp_path / "cut", "--epochs", "3", "--stop-after", "1"))
    assert len(part["train_loss"]) == 1
    assert nn.load(tmp_path / "cut" / f"{name}.safetensors")["epoch"] == 1
    _, resumed = mod.main(_quick(tmp_path / "cut", "--epochs", "3", "--resume"))
    for k in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert resumed[k] == full[k], k                     # exact, not approximate
    a = nn.load(tmp_path / "full" / f"{name}.safetensors")
    b = nn.load(tmp_path / "cut" / f"{name}.safetensors")
    assert a["step"] == b["step"] == 24
    for k in a["model"]:
        np.testing.assert_array_equal(a["model"][k].numpy(), b["model"][k].numpy(), err_msg=k)


def test_resume_without_checkpoint_says_so(load, tmp_path):
    _digits_deps()
    with pytest.raises(SystemExit, match="no checkpoint"):
        load("digits_mlp").main(_quick(tmp_path, "--resume"))


def test_digits_plot_is_a_png(load, tmp_path):
    _digits_deps()
    pytest.importorskip("matplotlib")
    load("digits_mlp").main(["--quick", "--no-progress", "--out", str(tmp_path), "--epochs", "2"])
    assert (tmp_path / "digits_mlp.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cuda_request_without_cuda_is_a_clear_error(load, tmp_path):
    _digits_deps()
    if autograd.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(SystemExit, match="CUDA is not usable here"):
        load("digits_mlp").main(_quick(tmp_path, "--device", "cuda"))


def test_eta_asymmetric_model_over_predicts(load, capsys):
    res = load("eta_regression").main(["--quick"])
    mse, asym = res.values()
    for r in (mse, asym):
        assert r["train_loss"][-1] < 0.5 * r["train_loss"][0]
    assert 0.3 < mse["frac_under"] < 0.7                   # MSE fits the mean: late about half the time
    assert asym["frac_under"] < mse["frac_under"] - 0.15
    assert asym["mean_signed"] > mse["mean_signed"] + 1.0  # minutes
    assert asym["p50"] > mse["p50"] and asym["p5"] > mse["p5"]
    out = capsys.readouterr().out
    assert "MSE" in out and "asymmetric lam=10" in out and "under" in out


# --- the PyTorch port: the same program text under both libraries -------------------------------
_IMPORTS = {"import autograd": "import torch as autograd",
            "import nn": "import torch.nn as nn",
            "from nn import optim": "from torch import optim"}


def _port_namespace(under_torch):
    text = (EXAMPLES / "pytorch_port.py").read_text()
    if under_torch:
        for ours, theirs in _IMPORTS.items():
            text, n = re.subn(rf"^{re.escape(ours)}$", theirs, text, flags=re.M)
            assert n == 1, f"pytorch_port.py should have exactly one line {ours!r}"
    ns = {"__name__": "pytorch_port_torch" if under_torch else "pytorch_port"}
    exec(compile(text, str(EXAMPLES / "pytorch_port.py"), "exec"), ns)
    return ns


def test_pytorch_port_gives_torchs_numbers():
    torch = pytest.importorskip("torch")
    ours, theirs = _port_namespace(False), _port_namespace(True)
    autograd.manual_seed(3)
    m = ours["FeedForwardNet"](input_dim=5, hidden_dim=10, output_dim=3)
    t = theirs["FeedForwardNet"](input_dim=5, hidden_dim=10, output_dim=3)
    t.load_state_dict({k: torch.tensor(v.cpu().numpy()) for k, v in m.state_dict().items()})   # same initial weights
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    y = np.array([0, 2, 1, 2])
    assert tuple(m(autograd.tensor(x)).shape) == tuple(t(torch.tensor(x)).shape) == (4, 3)
    ours_losses = ours["train"](m, autograd.tensor(x), autograd.tensor(y))
    torch_losses = theirs["train"](t, torch.tensor(x), torch.tensor(y))
    assert len(ours_losses) == len(torch_losses) == 20
    np.testing.assert_allclose(ours_losses, torch_losses, rtol=2e-5, atol=1e-6)
    assert ours_losses[-1] < 0.5 * ours_losses[0]
    for k, v in t.state_dict().items():
        np.testing.assert_allclose(m.state_dict()[k].cpu().numpy(), v.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)


def test_pytorch_port_runs_as_a_script(capsys):
    _port_namespace(False)["main"]()
    out = capsys.readouterr().out
    assert "Forward output shape: autograd.Size([4, 3])" in out
    losses = [float(v) for v in re.search(r"loss per step: (.*)", out).group(1).split()]
    assert losses[-1] < losses[0]


# --- the main job ---------------------------------------------------------------------------------
def test_main_trains_then_prints_the_memory_table(load, tmp_path, capsys):
    _digits_deps()
    hist, rows = load("main").main(_quick(tmp_path, "--epochs", "2"))
    assert hist["test_acc"][-1] > 0.5
    (name1, peak1, held1, saved1), (name0, peak0, held0, saved0) = rows
    hidden = 256 * 256 * 4          # the [256 images, 256] float32 ReLU output fc2's weight gradient needs
    assert held1 > held0 + hidden * 0.9
    assert saved1 >= hidden and saved0 == 0
    assert peak1 >= peak0 > 0
    out = capsys.readouterr().out
    assert "final test accuracy" in out
    table = out[out.index("memory of one forward"):]
    assert re.search(r"tape recording\s+[\d.]+ MiB\s+[\d.]+ MiB\s+[\d.]+ MiB", table)
    assert re.search(r"under no_grad\s+[\d.]+ MiB\s+[\d.]+ MiB\s+0\.00 MiB", table)


def test_digits_on_another_device_checkpoints_and_resumes(load, tmp_path):
    """The device path (batches moved with .to, the checkpoint loaded onto the device) on the
    array-API reference backend, the one non-CPU device CI can have without a GPU."""
    _digits_deps()
    pytest.importorskip("array_api_strict")
    import nn
    mod = load("digits_cnn")
    dev = ["--device", "array_api_strict", "--epochs", "2"]
    _, full = mod.main(_quick(tmp_path / "full", *dev))
    mod.main(_quick(tmp_path / "cut", *dev, "--stop-after", "1"))
    model, resumed = mod.main(_quick(tmp_path / "cut", *dev, "--resume"))
    assert all(p.device.type == "array_api_strict" for p in model.parameters())
    assert resumed["test_loss"] == full["test_loss"] and resumed["test_acc"][-1] > 0.5
    assert nn.load(tmp_path / "cut" / "digits_cnn.safetensors")["epoch"] == 2


def test_unknown_device_is_a_clear_error(load, tmp_path):
    _digits_deps()
    with pytest.raises(SystemExit, match="--device tpu"):
        load("digits_mlp").main(_quick(tmp_path, "--device", "tpu"))
